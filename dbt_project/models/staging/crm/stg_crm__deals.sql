{#-
    Each deal of the standalone-CRM files as its newest row says. The stage is the agency's own
    word for it; status (open, won or lost; open when blank) says whether it is closed. A
    probability above 1 is read as a percentage.
-#}
with

latest_deals as (
    {{ latest_snapshots('crm', 'deals') }}
),

renamed as (
    select
        campaign_id as deal_id,
        lower({{ nullif_blank("payload ->> 'client'") }}) as client_slug,
        {{ nullif_blank("payload ->> 'deal_name'") }} as deal_name,
        coalesce({{ nullif_blank("payload ->> 'pipeline'") }}, 'default') as pipeline_id,
        {{ nullif_blank("payload ->> 'stage'") }} as stage,
        coalesce({{ nullif_blank("payload ->> 'status'") }}, 'open') as deal_status,
        {{ event_number("payload ->> 'amount'") }} as amount,
        upper({{ nullif_blank("payload ->> 'currency'") }}) as currency,
        case
            when {{ event_number("payload ->> 'probability'") }} > 1
                then {{ event_number("payload ->> 'probability'") }} / 100
            else {{ event_number("payload ->> 'probability'") }}
        end as probability,
        {{ event_time("payload ->> 'created_at'") }} as created_at,
        {{ event_time("payload ->> 'close_date'") }} as close_date_at,
        {{ event_time("payload ->> 'updated_at'") }} as modified_at,
        {{ nullif_blank("payload ->> 'lost_reason'") }} as lost_reason_text,
        {{ nullif_blank("payload ->> 'lost_reason_notes'") }} as lost_reason_notes,
        lower({{ nullif_blank("payload ->> 'contact_email'") }}) as contact_email,
        {{ nullif_blank("payload ->> 'contact_linkedin_url'") }} as contact_linkedin_url,
        {{ nullif_blank("payload ->> 'contact_first_name'") }} as contact_first_name,
        {{ nullif_blank("payload ->> 'contact_last_name'") }} as contact_last_name,
        {{ web_domain("payload ->> 'company_domain'") }} as company_domain,
        payload
    from latest_deals
)

select * from renamed
