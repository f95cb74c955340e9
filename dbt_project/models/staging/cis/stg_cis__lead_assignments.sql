with

source as (
    select * from {{ source('cis', 'lead_assignments') }}
),

renamed as (
    select
        assignment_id,
        lead_id,
        client_id,
        assignment_status,
        icp_score,
        assigned_by,
        assigned_at,
        released_at,
        release_reason,
        converted_at,
        allocation_run_id
    from source
)

select * from renamed
