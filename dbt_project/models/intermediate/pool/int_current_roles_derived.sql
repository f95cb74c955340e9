{#- Each Apollo person's current role, from the employment history of its latest pull. -#}
with

history as (
    select * from {{ ref('stg_apollo__employment_history') }}
),

latest_pull as (
    select
        apollo_person_id,
        max(pulled_at) as pulled_at
    from history
    group by apollo_person_id
),

current_roles as (
    select
        history.apollo_person_id,
        history.title,
        history.apollo_organization_id,
        history.organization_name,
        history.started_on,
        row_number() over (
            partition by history.apollo_person_id
            order by history.started_on desc nulls last, history.entry_index asc
        ) as role_rank
    from history
    inner join latest_pull
        on
            history.apollo_person_id = latest_pull.apollo_person_id
            and history.pulled_at = latest_pull.pulled_at
    where history.is_current and coalesce(history.entry_kind, 'work') not in ('education')
),

final as (
    select
        apollo_person_id,
        title as current_role_title,
        apollo_organization_id as current_role_apollo_organization_id,
        organization_name as current_role_organization_name,
        started_on as current_role_started_on
    from current_roles
    where role_rank = 1
)

select * from final
