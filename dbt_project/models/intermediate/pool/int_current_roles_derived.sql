{#-
    The current role each Apollo person record shows: its current (non-education) employment
    entry that started most recently. One row per record that has one; dim_leads and the
    attribute history read the row of the record they take the lead's role from, so the title
    and the current role always come from the same record.
-#}
{{ config(
    materialized='table',
    indexes=[{'columns': ['person_record_id'], 'unique': true}],
    post_hook=["{{ analyze_if_rebuilt() }}"]
) }}

with

history as (
    select * from {{ ref('stg_apollo__employment_history') }}
),

current_roles as (
    select
        person_record_id,
        apollo_person_id,
        title,
        apollo_organization_id,
        organization_name,
        started_on,
        row_number() over (
            partition by person_record_id
            order by started_on desc nulls last, entry_index asc
        ) as role_rank
    from history
    where is_current and not is_education
),

final as (
    select
        person_record_id,
        apollo_person_id,
        title as current_role_title,
        apollo_organization_id as current_role_apollo_organization_id,
        organization_name as current_role_organization_name,
        started_on as current_role_started_on
    from current_roles
    where role_rank = 1
)

select * from final
