{#-
    Each HubSpot contact as its newest version says, with what matching it to a pool lead needs:
    the email (lower case), the LinkedIn URL where the account records one, the name, and the
    company's domain (from website, without scheme, www. or path).
-#}
with

latest_contacts as (
    {{ latest_snapshots('hubspot', 'contacts') }}
),

renamed as (
    select
        campaign_id as contact_id,
        lower({{ nullif_blank("payload #>> '{properties,email}'") }}) as email,
        {{ nullif_blank("payload #>> '{properties,firstname}'") }} as first_name,
        {{ nullif_blank("payload #>> '{properties,lastname}'") }} as last_name,
        {{ nullif_blank("payload #>> '{properties,jobtitle}'") }} as job_title,
        {{ nullif_blank("payload #>> '{properties,company}'") }} as company_name,
        {{ web_domain("payload #>> '{properties,website}'") }} as company_domain,
        coalesce(
            {{ nullif_blank("payload #>> '{properties,hs_linkedin_url}'") }},
            {{ nullif_blank("payload #>> '{properties,linkedin_url}'") }}
        ) as linkedin_url,
        coalesce(
            {{ nullif_blank("payload #>> '{properties,mobilephone}'") }},
            {{ nullif_blank("payload #>> '{properties,phone}'") }}
        ) as phone,
        {{ nullif_blank("payload #>> '{properties,lifecyclestage}'") }} as lifecycle_stage,
        {{ nullif_blank("payload #>> '{properties,hs_lead_status}'") }} as lead_status,
        {{ event_time("payload #>> '{properties,createdate}'") }} as created_at,
        {{ event_time("payload #>> '{properties,lastmodifieddate}'") }} as modified_at,
        coalesce({{ event_bool("payload ->> 'archived'") }}, false) as is_archived
    from latest_contacts
)

select * from renamed
