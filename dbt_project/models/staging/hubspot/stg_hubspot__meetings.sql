{#-
    Each HubSpot meeting as its newest version says. The outcome is normalised to HubSpot's
    documented values (SCHEDULED, COMPLETED, RESCHEDULED, NO_SHOW, CANCELED) in lower case: some
    pages write "NO SHOW", "Scheduled" or "CANCELLED"; an outcome outside the set is kept in
    outcome_text with a null meeting_outcome.
-#}
with

latest_meetings as (
    {{ latest_snapshots('hubspot', 'meetings') }}
),

renamed as (
    select
        campaign_id as meeting_id,
        {{ nullif_blank("payload #>> '{properties,hs_meeting_title}'") }} as title,
        {{ nullif_blank("payload #>> '{properties,hs_meeting_body}'") }} as body,
        {{ nullif_blank("payload #>> '{properties,hs_internal_meeting_notes}'") }} as internal_notes,
        coalesce(
            {{ event_time("payload #>> '{properties,hs_meeting_start_time}'") }},
            {{ event_time("payload #>> '{properties,hs_timestamp}'") }}
        ) as scheduled_for,
        {{ event_time("payload #>> '{properties,hs_meeting_end_time}'") }} as scheduled_until,
        coalesce(
            {{ event_time("payload #>> '{properties,hs_createdate}'") }},
            {{ event_time("payload ->> 'createdAt'") }}
        ) as booked_at,
        {{ event_time("payload #>> '{properties,hs_lastmodifieddate}'") }} as modified_at,
        {{ nullif_blank("payload #>> '{properties,hs_meeting_outcome}'") }} as outcome_text,
        case regexp_replace(upper(trim(payload #>> '{properties,hs_meeting_outcome}')), '[\s-]+', '_', 'g')
            when 'SCHEDULED' then 'scheduled'
            when 'COMPLETED' then 'completed'
            when 'RESCHEDULED' then 'rescheduled'
            when 'NO_SHOW' then 'no_show'
            when 'NOSHOW' then 'no_show'
            when 'CANCELED' then 'canceled'
            when 'CANCELLED' then 'canceled'
        end as meeting_outcome,
        {{ nullif_blank("payload #>> '{properties,hs_activity_type}'") }} as meeting_type,
        {{ nullif_blank("payload #>> '{properties,hs_meeting_source}'") }} as booking_source,
        {{ nullif_blank("payload #>> '{properties,hubspot_owner_id}'") }} as owner_id,
        coalesce({{ event_bool("payload ->> 'archived'") }}, false) as is_archived,
        jsonb_path_query_array(payload, '$.associations.contacts.results[*].id') as contact_ids,
        jsonb_path_query_array(payload, '$.associations.deals.results[*].id') as deal_ids,
        payload -> 'properties' as properties
    from latest_meetings
)

select * from renamed
