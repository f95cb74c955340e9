-- dim_clients' capacity counters agree with fct_lead_assignments, and open_capacity follows from them.
with

clients as (
    select * from {{ ref('dim_clients') }}
),

assignments as (
    select * from {{ ref('fct_lead_assignments') }}
),

counted as (
    select
        client_id,
        count(*) filter (where assignment_status = 'active') as active_assignments,
        count(*) filter (where assignment_status = 'converted') as converted_leads,
        count(*) filter (where assignment_status = 'released') as released_assignments
    from assignments
    group by client_id
),

final as (
    select
        clients.client_id,
        clients.active_assignments,
        coalesce(counted.active_assignments, 0) as counted_active
    from clients
    left join counted on clients.client_id = counted.client_id
    where
        clients.active_assignments <> coalesce(counted.active_assignments, 0)
        or clients.converted_leads <> coalesce(counted.converted_leads, 0)
        or clients.released_assignments <> coalesce(counted.released_assignments, 0)
        or clients.open_capacity <> greatest(clients.capacity - clients.active_assignments, 0)
)

select * from final
