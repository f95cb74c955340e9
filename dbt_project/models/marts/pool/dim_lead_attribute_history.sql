{#-
    Who each lead was over time: one row per lead and version of its tracked attributes (title,
    seniority, department, employer, industry, company size band), in the records' pull order.
    A record that repeats the attributes of the version before it adds nothing; records that name
    neither a title nor an employer are skipped unless the lead has no other.

    valid_from comes from the data: for a version that changed the role (title or employer), the
    start date of the new current role when the record gives one (never later than the record's
    pull time), else the record's pull time. The earliest version is open to the past (valid_from
    null), so a touch sent months before the first load still finds the attributes the lead had;
    a running maximum keeps the versions in order. Detectors join a touch with
    coalesce(valid_from, '-infinity') <= touched_at and (valid_to is null or touched_at < valid_to).
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

records as (
    select * from {{ ref('int_person_pulls_resolved') }}
),

organization_versions as (
    select * from {{ ref('stg_apollo__organizations') }}
),

current_roles as (
    select * from {{ ref('int_current_roles_derived') }}
),

attributes as (
    select
        records.lead_id,
        records.person_record_id,
        records.pull_id,
        records.pull_sequence,
        coalesce(records.pull_time, records.pulled_at) as seen_at,
        records.title,
        {{ normalised_seniority('records.seniority') }} as seniority,
        {{ primary_department('records.departments') }} as department,
        records.apollo_organization_id,
        organization_versions.organization_name as company_name,
        organization_versions.industry,
        organization_versions.employee_count,
        {{ size_band('organization_versions.employee_count') }} as company_size_band,
        records.country,
        records.email_status,
        bool_or(records.title is not null or records.apollo_organization_id is not null)
            over (partition by records.lead_id)
            as lead_has_role,
        current_roles.current_role_started_on,
        records.title is not null or records.apollo_organization_id is not null as has_role
    from records
    left join organization_versions
        on records.person_record_id = organization_versions.person_record_id
    left join current_roles on records.person_record_id = current_roles.person_record_id
),

role_records as (
    -- Records naming neither a title nor an employer say nothing about the role; a lead with
    -- no other record still gets its one version from them.
    select *
    from attributes
    where has_role or not lead_has_role
),

fingerprinted as (
    select
        *,
        md5(concat_ws(
            '|', title, seniority, department, apollo_organization_id, company_name, industry,
            company_size_band
        )) as attribute_hash,
        md5(concat_ws('|', title, apollo_organization_id)) as role_hash
    from role_records
),

compared as (
    select
        *,
        lag(attribute_hash) over (partition by lead_id order by pull_sequence) as previous_hash,
        lag(role_hash) over (partition by lead_id order by pull_sequence) as previous_role_hash
    from fingerprinted
),

changes as (
    select
        *,
        sum(case when previous_hash is null or previous_hash <> attribute_hash then 1 else 0 end)
            over (partition by lead_id order by pull_sequence rows unbounded preceding)
            as version_number
    from compared
),

version_spans as (
    -- Each version's last sighting and record count, as windows rather than a grouped join.
    select
        *,
        max(seen_at) over (partition by lead_id, version_number) as last_seen_at,
        count(*) over (partition by lead_id, version_number) as record_count
    from changes
),

version_starts as (
    select
        *,
        case
            when previous_hash is null then null
            when previous_role_hash <> role_hash and current_role_started_on is not null
                then least(current_role_started_on::timestamp at time zone 'UTC', seen_at)
            else seen_at
        end as starts_at,
        case
            when previous_hash is null then 'open'
            when previous_role_hash <> role_hash and current_role_started_on is not null
                then 'role_start'
            else 'pull_time'
        end as valid_from_basis
    from version_spans
    where previous_hash is null or previous_hash <> attribute_hash
),

ordered as (
    select
        *,
        max(starts_at) over (
            partition by lead_id
            order by version_number
            rows unbounded preceding
        ) as valid_from
    from version_starts
),

final as (
    select
        {{ cis_uuid(["'lead_attribute_version'", 'lead_id', 'person_record_id']) }}
            as lead_attribute_version_id,
        lead_id,
        version_number::integer as version_number,
        valid_from,
        lead(valid_from) over (partition by lead_id order by version_number) as valid_to,
        lead(version_number) over (partition by lead_id order by version_number) is null
            as is_current,
        valid_from_basis,
        seen_at as first_seen_at,
        last_seen_at,
        record_count::integer as record_count,
        pull_id,
        person_record_id,
        title,
        seniority,
        department,
        case
            when apollo_organization_id is not null
                then {{ cis_uuid(["'organization'", 'apollo_organization_id']) }}
        end as organization_id,
        apollo_organization_id,
        company_name,
        industry,
        employee_count,
        company_size_band,
        current_role_started_on,
        country,
        email_status
    from ordered
)

select * from final
