{{ config(
    indexes=[{'columns': ['client_slug'], 'unique': true}, {'columns': ['client_status']}],
    post_hook=["{{ client_row_security('client_id') }}"]
) }}

with

clients as (
    select * from {{ ref('stg_cis__clients') }}
),

assignments as (
    select * from {{ ref('stg_cis__lead_assignments') }}
),

held as (
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
        clients.client_slug,
        clients.client_name,
        clients.client_status,
        clients.capacity,
        clients.min_icp_score,
        clients.icp,
        clients.excluded_companies,
        clients.required_fields,
        clients.allowed_email_statuses,
        clients.db_role,
        coalesce(held.active_assignments, 0)::integer as active_assignments,
        coalesce(held.converted_leads, 0)::integer as converted_leads,
        coalesce(held.released_assignments, 0)::integer as released_assignments,
        greatest(clients.capacity - coalesce(held.active_assignments, 0), 0)::integer as open_capacity,
        clients.synced_at,
        clients.cancelled_at
    from clients
    left join held on clients.client_id = held.client_id
)

select * from final
