{#-
    What each lead looked like over time: one row per lead and attribute version, valid from the
    pull that first showed it until the pull that changed it. Detectors join touches on
    valid_from <= touched_at < coalesce(valid_to, 'infinity') to use the attributes a lead had
    when it was contacted, not today's.
-#}
-- depends_on: {{ ref('dim_lead_aliases') }}
{{ config(
    indexes=[
        {'columns': ['lead_id', 'valid_from']},
        {'columns': ['organization_id']},
    ],
    post_hook=["{{ lead_row_security() }}"]
) }}

with

pulls as (
    select * from {{ ref('int_person_pulls_resolved') }}
),

organization_pulls as (
    select * from {{ ref('stg_apollo__organizations') }}
),

attributes as (
    select
        pulls.lead_id,
        pulls.pull_id,
        pulls.pulled_at,
        pulls.title,
        pulls.seniority,
        {{ primary_department('pulls.departments') }} as department,
        pulls.apollo_organization_id,
        organization_pulls.organization_name as company_name,
        organization_pulls.industry,
        organization_pulls.employee_count,
        pulls.country,
        pulls.email_status,
        row_number() over (
            partition by pulls.lead_id, pulls.pulled_at
            order by pulls.source_line desc nulls last, pulls.apollo_person_id asc
        ) as same_time_rank
    from pulls
    left join organization_pulls
        on
            pulls.apollo_organization_id = organization_pulls.apollo_organization_id
            and pulls.pull_id = organization_pulls.pull_id
),

fingerprinted as (
    select
        *,
        md5(concat_ws(
            '|', title, seniority, department, apollo_organization_id, company_name,
            industry, employee_count::text, country, email_status
        )) as attribute_hash
    from attributes
    where same_time_rank = 1
),

changes as (
    select
        *,
        lag(attribute_hash) over (partition by lead_id order by pulled_at) as previous_hash
    from fingerprinted
),

versions as (
    select *
    from changes
    where previous_hash is null or previous_hash <> attribute_hash
),

final as (
    select
        {{ cis_uuid(["'lead_attribute_version'", 'lead_id', 'extract(epoch from pulled_at)']) }} as lead_attribute_version_id,
        lead_id,
        pulled_at as valid_from,
        lead(pulled_at) over (partition by lead_id order by pulled_at) as valid_to,
        lead(pulled_at) over (partition by lead_id order by pulled_at) is null as is_current,
        pull_id,
        title,
        {{ normalised_seniority('seniority') }} as seniority,
        department,
        case
            when apollo_organization_id is not null
                then {{ cis_uuid(["'organization'", 'apollo_organization_id']) }}
        end as organization_id,
        apollo_organization_id,
        company_name,
        industry,
        employee_count,
        {{ size_band('employee_count') }} as company_size_band,
        country,
        email_status
    from versions
)

select * from final
