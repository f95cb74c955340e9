-- pool_status `assigned`/`converted` needs a holder, and a held lead is never `available`:
-- otherwise allocation could hand one lead to two clients.
with

leads as (
    select * from {{ ref('dim_leads') }}
),

final as (
    select
        lead_id,
        pool_status,
        assigned_client_id
    from leads
    where
        (pool_status in ('assigned', 'converted') and assigned_client_id is null)
        or (pool_status = 'available' and assigned_client_id is not null)
)

select * from final
