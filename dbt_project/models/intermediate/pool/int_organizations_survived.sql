{#-
    One row per Apollo organization: its version in the newest person record that carried it
    (the records' pull order: the data's own pull time, then file and line). Organizations are
    company data, so the newest version wins whole rather than field by field.
-#}
{{ config(
    materialized='table',
    indexes=[{'columns': ['apollo_organization_id'], 'unique': true}],
    post_hook=["{{ analyze_if_rebuilt() }}"]
) }}

with

-- Read twice (to rank the versions, then for the winners' columns): not materialized, so the
-- organization columns (jsonb lists, extra_fields) are computed only for each winning version.
organizations as not materialized (
    select * from {{ ref('stg_apollo__organizations') }}
),

records as (
    select * from {{ ref('int_person_pulls_resolved') }}
),

ranked as (
    select
        organizations.person_record_id,
        row_number() over (
            partition by organizations.apollo_organization_id
            order by
                records.pull_time desc nulls last, records.file_order_key desc,
                records.source_line desc nulls last, records.record_id desc
        ) as recency_rank,
        min(organizations.pulled_at) over (
            partition by organizations.apollo_organization_id
        ) as first_pulled_at
    from organizations
    inner join records on organizations.person_record_id = records.person_record_id
),

newest as (
    select * from ranked
    where recency_rank = 1
),

final as (
    select
        organizations.*,
        newest.recency_rank,
        newest.first_pulled_at
    from organizations
    inner join newest on organizations.person_record_id = newest.person_record_id
)

select * from final
