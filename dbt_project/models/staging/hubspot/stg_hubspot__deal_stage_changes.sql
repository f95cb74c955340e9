{#-
    Every stage change of every deal, from propertiesWithHistory.dealstage of the deal's newest
    version (HubSpot lists the whole history there, newest first): the CRM's own timestamp and
    source, never the sync time. A change whose timestamp is not a time keeps its text and a
    null changed_at.
-#}
with

latest_deals as (
    {{ latest_snapshots('hubspot', 'deals') }}
),

changes as (
    select
        latest_deals.campaign_id as deal_id,
        latest_deals.payload #>> '{properties,pipeline}' as pipeline_id,
        stage_changes.change,
        stage_changes.position
    from latest_deals
    cross join lateral jsonb_array_elements(
        {{ json_array_or_empty("latest_deals.payload #> '{propertiesWithHistory,dealstage}'") }}
    ) with ordinality as stage_changes (change, position)
),

renamed as (
    select distinct on (deal_id, change ->> 'timestamp', change ->> 'value')
        deal_id,
        {{ nullif_blank('pipeline_id') }} as pipeline_id,
        {{ nullif_blank("change ->> 'value'") }} as stage_id,
        {{ event_time("change ->> 'timestamp'") }} as changed_at,
        change ->> 'timestamp' as changed_at_text,
        {{ nullif_blank("change ->> 'sourceType'") }} as source_type,
        {{ nullif_blank("change ->> 'sourceId'") }} as source_id,
        {{ nullif_blank("change ->> 'updatedByUserId'") }} as updated_by_user_id,
        position::integer as history_position
    from changes
    where jsonb_typeof(change) = 'object'
    order by deal_id asc, change ->> 'timestamp' asc, change ->> 'value' asc, position asc
)

select * from renamed
