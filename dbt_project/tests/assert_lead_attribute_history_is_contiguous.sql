-- Each lead's attribute versions chain without gaps or overlaps: every version ends exactly where
-- the next begins, and only the last one is current. Returns the versions that break the chain.
with

history as (
    select * from {{ ref('dim_lead_attribute_history') }}
),

chained as (
    select
        lead_id,
        lead_attribute_version_id,
        valid_from,
        valid_to,
        is_current,
        lead(valid_from) over (partition by lead_id order by valid_from) as next_valid_from
    from history
),

final as (
    select *
    from chained
    where
        valid_to is distinct from next_valid_from
        or is_current <> (next_valid_from is null)
)

select * from final
