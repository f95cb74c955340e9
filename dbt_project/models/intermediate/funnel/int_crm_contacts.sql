{{ config(
    materialized='table',
    indexes=[{'columns': ['contact_key'], 'unique': True}],
    post_hook=["{{ analyze_if_rebuilt() }}"]
) }}
{#-
    Every person a CRM record is about, one row each: HubSpot contacts, and the people the
    standalone-CRM files name inline on meeting and deal rows (one key per distinct person,
    csv_contact_key). What matching to the pool needs: email, LinkedIn URL, name, company domain.
-#}
with

hubspot_contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
),

csv_meetings as (
    select * from {{ ref('stg_crm__meetings') }}
),

csv_deals as (
    select * from {{ ref('stg_crm__deals') }}
),

hubspot as (
    select
        'hubspot:' || contact_id as contact_key,
        'hubspot' as source_system,
        contact_id as crm_contact_id,
        email,
        linkedin_url,
        first_name,
        last_name,
        company_domain,
        is_archived
    from hubspot_contacts
),

csv_people as (
    select
        contact_email,
        contact_linkedin_url,
        contact_first_name,
        contact_last_name,
        company_domain
    from csv_meetings
    union
    select
        contact_email,
        contact_linkedin_url,
        contact_first_name,
        contact_last_name,
        company_domain
    from csv_deals
    where coalesce(contact_email, contact_linkedin_url, contact_last_name) is not null
),

csv as (
    select distinct on (contact_key)
        contact_key,
        'csv' as source_system,
        null::text as crm_contact_id,
        contact_email as email,
        contact_linkedin_url as linkedin_url,
        contact_first_name as first_name,
        contact_last_name as last_name,
        company_domain,
        false as is_archived
    from (
        select
            *,
            {{ csv_contact_key(
                'contact_email', 'contact_linkedin_url', 'contact_first_name', 'contact_last_name', 'company_domain'
            ) }} as contact_key
        from csv_people
    ) as keyed
    order by contact_key asc
),

final as (
    select * from hubspot
    union all
    select * from csv
)

select * from final
