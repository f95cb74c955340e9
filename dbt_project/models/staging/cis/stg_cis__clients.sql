with

source as (
    select * from {{ source('cis', 'clients') }}
),

renamed as (
    select
        client_id,
        client_slug,
        client_name,
        client_status,
        capacity,
        min_icp_score,
        icp,
        excluded_companies,
        required_fields,
        allowed_email_statuses,
        db_role,
        synced_at,
        cancelled_at
    from source
)

select * from renamed
