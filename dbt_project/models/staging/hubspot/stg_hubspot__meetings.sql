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
        {{ meeting_outcome("payload #>> '{properties,hs_meeting_outcome}'") }} as meeting_outcome,
        {{ nullif_blank("payload #>> '{properties,hs_activity_type}'") }} as meeting_type,
        {{ nullif_blank("payload #>> '{properties,hs_meeting_source}'") }} as booking_source,
        {{ nullif_blank("payload #>> '{properties,hubspot_owner_id}'") }} as owner_id,
        coalesce({{ event_bool("payload ->> 'archived'") }}, false) as is_archived,
        jsonb_path_query_array(payload, '$.associations.contacts.results[*].id') as contact_ids,
        jsonb_path_query_array(payload, '$.associations.deals.results[*].id') as deal_ids,
        payload -> 'properties' as properties
    from latest_meetings
),

-- Moves of the meeting, from propertiesWithHistory.hs_meeting_start_time (asked for by the API
-- pull): every start time it had but the first is a reschedule.
start_times as (
    select
        latest_meetings.campaign_id as meeting_id,
        greatest(count(distinct history.entry ->> 'value') - 1, 0)::integer as reschedule_count,
        (array_agg(
            {{ event_time("history.entry ->> 'value'") }} order by history.entry ->> 'timestamp' asc
        ))[1] as originally_scheduled_for
    from latest_meetings
    cross join
        lateral jsonb_array_elements(
            {{ json_array_or_empty("latest_meetings.payload #> '{propertiesWithHistory,hs_meeting_start_time}'") }}
        ) as history (entry)
    where jsonb_typeof(history.entry) = 'object' and {{ nullif_blank("history.entry ->> 'value'") }} is not null
    group by latest_meetings.campaign_id
),

final as (
    select
        renamed.*,
        start_times.reschedule_count,
        start_times.originally_scheduled_for
    from renamed
    left join start_times on renamed.meeting_id = start_times.meeting_id
)

select * from final
