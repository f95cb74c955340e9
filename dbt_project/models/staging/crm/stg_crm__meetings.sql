{#-
    Each meeting of the standalone-CRM files as its newest row says (updated_at, then the last
    loaded). The loader checked every typed cell, so the casts here cannot fail; the outcome is
    read as HubSpot's are (meeting_outcome).
-#}
with

latest_meetings as (
    {{ latest_snapshots('crm', 'meetings') }}
),

renamed as (
    select
        campaign_id as meeting_id,
        lower({{ nullif_blank("payload ->> 'client'") }}) as client_slug,
        lower({{ nullif_blank("payload ->> 'contact_email'") }}) as contact_email,
        {{ nullif_blank("payload ->> 'contact_linkedin_url'") }} as contact_linkedin_url,
        {{ nullif_blank("payload ->> 'contact_first_name'") }} as contact_first_name,
        {{ nullif_blank("payload ->> 'contact_last_name'") }} as contact_last_name,
        {{ web_domain("payload ->> 'company_domain'") }} as company_domain,
        {{ nullif_blank("payload ->> 'title'") }} as title,
        {{ nullif_blank("payload ->> 'notes'") }} as notes,
        {{ event_time("payload ->> 'scheduled_for'") }} as scheduled_for,
        {{ event_time("payload ->> 'booked_at'") }} as booked_at,
        {{ event_time("payload ->> 'updated_at'") }} as modified_at,
        {{ nullif_blank("payload ->> 'outcome'") }} as outcome_text,
        {{ meeting_outcome("payload ->> 'outcome'") }} as meeting_outcome,
        {{ nullif_blank("payload ->> 'meeting_type'") }} as meeting_type,
        {{ event_number("payload ->> 'quality'") }} as quality,
        {{ event_bool("payload ->> 'confirmed'") }} as is_confirmed,
        {{ event_bool("payload ->> 'reminder_sent'") }} as is_reminder_sent,
        {{ event_int("payload ->> 'reschedule_count'") }} as reschedule_count,
        {{ event_time("payload ->> 'originally_scheduled_for'") }} as originally_scheduled_for,
        {{ nullif_blank("payload ->> 'deal_id'") }} as deal_id,
        payload
    from latest_meetings
)

select * from renamed
