with

source as (
    select * from {{ source('cis', 'suppression_keys') }}
),

renamed as (
    select
        key_hash,
        key_kind,
        deletion_request_id,
        created_at as suppressed_at
    from source
)

select * from renamed
