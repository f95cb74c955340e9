{{ config(
    materialized='table',
    indexes=[{'columns': ['meeting_key'], 'unique': True}, {'columns': ['deal_key']}],
    post_hook=["{{ analyze_if_rebuilt() }}"]
) }}
{#-
    Every meeting from every CRM source in one shape: HubSpot meetings and the standalone-CRM
    files' rows. Keys are prefixed with the source (hubspot:58201937465, csv:m-1), so two
    sources never collide. contact_keys lists the people it is with (int_crm_contacts).
-#}
with

hubspot_meetings as (
    select * from {{ ref('stg_hubspot__meetings') }}
),

csv_meetings as (
    select * from {{ ref('stg_crm__meetings') }}
),

hubspot as (
    select
        'hubspot:' || meeting_id as meeting_key,
        'hubspot' as source_system,
        meeting_id,
        null::text as client_slug,
        owner_id,
        (
            select coalesce(jsonb_agg('hubspot:' || contact_ids.contact_id order by contact_ids.position), '[]'::jsonb)
            from jsonb_array_elements_text(contact_ids) with ordinality as contact_ids (contact_id, position)
        ) as contact_keys,
        'hubspot:' || (deal_ids ->> 0) as deal_key,
        title,
        scheduled_for,
        scheduled_until,
        booked_at,
        modified_at,
        outcome_text,
        meeting_outcome,
        meeting_type,
        booking_source,
        null::numeric as quality,
        null::boolean as is_confirmed,
        null::boolean as is_reminder_sent,
        reschedule_count,
        originally_scheduled_for,
        is_archived
    from hubspot_meetings
),

csv as (
    select
        'csv:' || meeting_id as meeting_key,
        'csv' as source_system,
        meeting_id,
        client_slug,
        null::text as owner_id,
        jsonb_build_array(
            {{ csv_contact_key(
                        'contact_email', 'contact_linkedin_url', 'contact_first_name', 'contact_last_name', 'company_domain'
                    ) }}
        ) as contact_keys,
        'csv:' || deal_id as deal_key,
        title,
        scheduled_for,
        null::timestamptz as scheduled_until,
        booked_at,
        modified_at,
        outcome_text,
        meeting_outcome,
        meeting_type,
        null::text as booking_source,
        quality,
        is_confirmed,
        is_reminder_sent,
        reschedule_count,
        originally_scheduled_for,
        false as is_archived
    from csv_meetings
),

final as (
    select * from hubspot
    union all
    select * from csv
)

select * from final
