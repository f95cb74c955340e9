{#- The latest pull of each organization (organizations are company data: latest wins). -#}
with

organizations as (
    select * from {{ ref('stg_apollo__organizations') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by apollo_organization_id
            order by pulled_at desc, source_line desc nulls last
        ) as recency_rank,
        min(pulled_at) over (partition by apollo_organization_id) as first_pulled_at
    from organizations
),

final as (
    select * from ranked
    where recency_rank = 1
)

select * from final
