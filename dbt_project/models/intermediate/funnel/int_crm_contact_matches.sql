{{ config(
    materialized='table',
    indexes=[{'columns': ['contact_key'], 'unique': True}],
    post_hook=["{{ analyze_if_rebuilt() }}"]
) }}
{#-
    Each CRM contact matched to a pool lead: by email (the lead's, else one an earlier Apollo
    record of the lead had), then LinkedIn URL, then first and last name with the company's domain (docs/crm.md, "Matching contacts to leads"). The method and a
    confidence are kept. A name and domain that fit more than one lead match none of them
    (ambiguous, counted); a contact that matches nothing is kept with a null lead_id.
-#}
with

contacts as (
    select * from {{ ref('int_crm_contacts') }}
),

contact_points as (
    select * from {{ ref('int_lead_contact_points') }}
),

-- Every email an Apollo record of a pool lead has had: a job changer's CRM contact may still
-- carry the address the campaign reached.
former_emails as (
    select distinct on (people.email)
        people.email,
        aliases.lead_id
    from {{ ref('stg_apollo__people') }} as people
    inner join {{ ref('dim_lead_aliases') }} as aliases on people.apollo_person_id = aliases.apollo_person_id
    where people.email is not null
    order by people.email asc, people.pulled_at desc
),

leads as (
    select
        lead_id,
        lower(trim(first_name)) as first_name,
        lower(trim(last_name)) as last_name,
        lower(company_domain) as company_domain
    from {{ ref('dim_leads') }}
    where last_name is not null and company_domain is not null
),

by_email as (
    select
        contacts.contact_key,
        contact_points.lead_id
    from contacts
    inner join contact_points
        on
            contact_points.contact_kind = 'email'
            and contact_points.contact_value = {{ email_key('contacts.email') }}
),

by_former_email as (
    select
        contacts.contact_key,
        former_emails.lead_id
    from contacts
    inner join former_emails on {{ email_key('contacts.email') }} = former_emails.email
),

by_linkedin as (
    select
        contacts.contact_key,
        contact_points.lead_id
    from contacts
    inner join contact_points
        on
            contact_points.contact_kind = 'linkedin'
            and contact_points.contact_value = {{ linkedin_key('contacts.linkedin_url') }}
),

by_name as (
    select
        contacts.contact_key,
        min(leads.lead_id::text)::uuid as lead_id,
        count(distinct leads.lead_id) as candidates,
        bool_and(contacts.first_name is not null) as with_first_name
    from contacts
    inner join leads
        on
            leads.last_name = lower(trim(contacts.last_name))
            and leads.company_domain = lower(contacts.company_domain)
            and (contacts.first_name is null or leads.first_name = lower(trim(contacts.first_name)))
    group by contacts.contact_key
),

final as (
    select
        contacts.contact_key,
        contacts.source_system,
        contacts.crm_contact_id,
        contacts.email,
        contacts.linkedin_url,
        contacts.first_name,
        contacts.last_name,
        contacts.company_domain,
        contacts.is_archived,
        coalesce(
            by_email.lead_id,
            by_former_email.lead_id,
            by_linkedin.lead_id,
            case when by_name.candidates = 1 then by_name.lead_id end
        ) as lead_id,
        case
            when coalesce(by_email.lead_id, by_former_email.lead_id) is not null then 'email'
            when by_linkedin.lead_id is not null then 'linkedin_url'
            when by_name.candidates = 1 then 'name_and_domain'
            when by_name.candidates > 1 then 'ambiguous'
            else 'unmatched'
        end as match_method,
        case
            when by_email.lead_id is not null then 1.0
            when by_former_email.lead_id is not null then 0.95
            when by_linkedin.lead_id is not null then 0.9
            when by_name.candidates = 1 and by_name.with_first_name then 0.8
            when by_name.candidates = 1 then 0.5
        end::numeric(3, 2) as match_confidence,
        coalesce(by_name.candidates, 0) as name_and_domain_candidates
    from contacts
    left join by_email on contacts.contact_key = by_email.contact_key
    left join by_former_email on contacts.contact_key = by_former_email.contact_key
    left join by_linkedin on contacts.contact_key = by_linkedin.contact_key
    left join by_name on contacts.contact_key = by_name.contact_key
)

select * from final
