{#-
    Each lead's employment history as Apollo last showed it: every entry (jobs and
    education-like entries) of the record the lead's role comes from (int_leads_survived's
    role_record_id), so the history, the title and the current role always agree.
-#}
-- depends_on: {{ ref('dim_lead_aliases') }}
{{ config(
    indexes=[
        {'columns': ['lead_id']},
        {'columns': ['apollo_organization_id']},
    ],
    post_hook=["{{ lead_row_security() }}"]
) }}

with

leads as (
    select * from {{ ref('int_leads_survived') }}
),

entries as (
    select * from {{ ref('stg_apollo__employment_history') }}
),

final as (
    select
        entries.employment_entry_id,
        leads.lead_id,
        entries.person_record_id,
        entries.apollo_person_id,
        entries.entry_index::integer as entry_index,
        entries.entry_key,
        entries.is_current,
        entries.is_education,
        entries.entry_kind,
        entries.title,
        case
            when entries.apollo_organization_id is not null
                then {{ cis_uuid(["'organization'", 'entries.apollo_organization_id']) }}
        end as organization_id,
        entries.apollo_organization_id,
        entries.organization_name,
        entries.degree,
        entries.major,
        entries.description,
        entries.grade_level,
        entries.raw_address,
        entries.emails,
        entries.started_on,
        entries.ended_on,
        entries.start_date_text,
        entries.end_date_text,
        entries.entry_created_at_text,
        entries.entry_updated_at_text,
        entries.extra_fields
    from leads
    inner join entries on leads.role_record_id = entries.person_record_id
)

select * from final
