{#-
    Every person pull with the lead it belongs to (int_identity_components resolves Apollo ids to
    leads: shared emails, then LinkedIn URLs, transitively; the lead is named after the
    component's first-seen Apollo id).

    Each record also gets its place among the lead's records (pull_sequence, 1 = oldest): by
    the pull time the data gives (a pulled_at in the line, the API's receive time, or the
    record's own latest timestamp), then file order, then line order. Records with no time of
    their own sort first: anything with evidence of its time counts as newer.
-#}
{{ config(
    materialized='table',
    indexes=[
        {'columns': ['person_record_id'], 'unique': true},
        {'columns': ['lead_id', 'pull_sequence']},
        {'columns': ['apollo_person_id']},
    ],
    post_hook=["{{ analyze_if_rebuilt() }}"]
) }}

with

people as (
    select * from {{ ref('stg_apollo__people') }}
),

components as (
    select * from {{ ref('int_identity_components') }}
),

resolved as (
    select
        people.*,
        components.lead_id,
        components.identity_basis
    from people
    inner join components on people.apollo_person_id = components.apollo_person_id
),

sequenced as (
    select
        *,
        row_number() over (
            partition by lead_id
            order by
                pull_time asc nulls first, file_order_key asc, source_line asc nulls first,
                record_id asc
        ) as pull_sequence,
        count(*) over (partition by lead_id) as lead_pull_count
    from resolved
),

final as (
    select
        *,
        pull_sequence = lead_pull_count as is_latest_pull
    from sequenced
)

select * from final
