{{ config(
    indexes=[
        {'columns': ['lead_id']},
        {'columns': ['client_id', 'assignment_status']},
        {'columns': ['assigned_at']},
    ],
    post_hook=["{{ client_row_security('client_id') }}"]
) }}

with

assignments as (
    select * from {{ ref('stg_cis__lead_assignments') }}
),

clients as (
    select * from {{ ref('dim_clients') }}
),

aliases as (
    select * from {{ ref('dim_lead_aliases') }}
),

final as (
    select
        assignments.assignment_id,
        assignments.lead_id,
        aliases.lead_id as current_lead_id,
        assignments.client_id,
        clients.client_slug,
        assignments.assignment_status,
        assignments.assignment_status = 'active' as is_active,
        assignments.icp_score,
        assignments.assigned_by,
        assignments.assigned_at,
        assignments.released_at,
        assignments.release_reason,
        assignments.converted_at,
        assignments.allocation_run_id
    from assignments
    inner join clients on assignments.client_id = clients.client_id
    left join aliases on assignments.lead_id = aliases.alias_lead_id
)

select * from final
