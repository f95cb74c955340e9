-- Each lead's attribute versions chain without gaps or overlaps, in version order: every version
-- ends exactly where the next begins, starts no earlier than the one before, and only the last one
-- is current. Returns the versions that break the chain.
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
        version_number,
        is_current,
        lead(valid_from) over (partition by lead_id order by version_number) as next_valid_from,
        lag(valid_from) over (partition by lead_id order by version_number) as previous_valid_from
    from history
),

final as (
    select *
    from chained
    where
        valid_to is distinct from next_valid_from
        or is_current <> (next_valid_from is null and valid_to is null)
        or valid_from < previous_valid_from
)

select * from final
