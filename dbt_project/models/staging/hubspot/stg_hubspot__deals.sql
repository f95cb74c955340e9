{#-
    Each HubSpot deal as its newest version says (the version with the latest
    hs_lastmodifieddate). Property values arrive as strings: an amount or probability that is not
    a number is null here, with its text kept beside it. The currency is the deal's own
    (deal_currency_code); no single currency is assumed.
-#}
with

latest_deals as (
    {{ latest_snapshots('hubspot', 'deals') }}
),

renamed as (
    select
        campaign_id as deal_id,
        {{ nullif_blank("payload #>> '{properties,dealname}'") }} as deal_name,
        {{ nullif_blank("payload #>> '{properties,pipeline}'") }} as pipeline_id,
        {{ nullif_blank("payload #>> '{properties,dealstage}'") }} as stage_id,
        {{ event_number("payload #>> '{properties,amount}'") }} as amount,
        {{ nullif_blank("payload #>> '{properties,amount}'") }} as amount_text,
        upper({{ nullif_blank("payload #>> '{properties,deal_currency_code}'") }}) as currency,
        {{ event_number("payload #>> '{properties,hs_deal_stage_probability}'") }} as probability,
        {{ event_time("payload #>> '{properties,closedate}'") }} as close_date_at,
        {{ event_time("payload #>> '{properties,createdate}'") }} as created_at,
        {{ event_time("payload #>> '{properties,hs_lastmodifieddate}'") }} as modified_at,
        {{ nullif_blank("payload #>> '{properties,dealtype}'") }} as deal_type,
        {{ event_bool("payload #>> '{properties,hs_is_closed}'") }} as is_closed,
        {{ event_bool("payload #>> '{properties,hs_is_closed_won}'") }} as is_closed_won,
        {{ nullif_blank("payload #>> '{properties,closed_lost_reason}'") }} as lost_reason_text,
        {{ nullif_blank("payload #>> '{properties,hubspot_owner_id}'") }} as owner_id,
        coalesce({{ event_bool("payload ->> 'archived'") }}, false) as is_archived,
        jsonb_path_query_array(payload, '$.associations.contacts.results[*].id') as contact_ids,
        payload -> 'properties' as properties
    from latest_deals
)

select * from renamed
