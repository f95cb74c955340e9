with

source as (
    select * from {{ source('apollo', 'employment_history') }}
),

renamed as (
    select
        {{ cis_uuid(["'apollo_employment'", 'person_id', '_pull_id', 'entry_index']) }} as employment_entry_id,
        person_id::text as apollo_person_id,
        _pull_id::text as pull_id,
        _pulled_at as pulled_at,
        entry_index,
        entry_key::text as entry_key,
        {{ nullif_blank('organization_id') }} as apollo_organization_id,
        {{ nullif_blank('organization_name') }} as organization_name,
        {{ nullif_blank('title') }} as title,
        {{ nullif_blank('kind') }} as entry_kind,
        {{ nullif_blank('degree') }} as degree,
        {{ nullif_blank('major') }} as major,
        coalesce(current, false) as is_current,
        {{ apollo_date('start_date') }} as started_on,
        {{ apollo_date('end_date') }} as ended_on
    from source
)

select * from renamed
