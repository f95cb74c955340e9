{%- set typed = [
    'person_id', 'entry_index', 'entry_key', 'id', 'organization_id',
    'organization_name', 'title', 'kind', 'degree', 'major', 'description', 'grade_level',
    'raw_address', 'emails', 'current', 'start_date', 'end_date', 'created_at', 'updated_at'
] -%}
with

source as (
    select * from {{ source('apollo', 'employment_history') }}
),

renamed as (
    select
        {{ cis_uuid(["'apollo_employment'", '_record_id', 'entry_index']) }} as employment_entry_id,
        {{ cis_uuid(["'apollo_person_record'", '_record_id']) }} as person_record_id,
        _record_id::text as record_id,
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
        {{ nullif_blank('description') }} as description,
        {{ nullif_blank('grade_level') }} as grade_level,
        {{ nullif_blank('raw_address') }} as raw_address,
        emails,
        coalesce(current, false) as is_current,
        (
            {{ nullif_blank('kind') }} is not null
            or {{ nullif_blank('degree') }} is not null
            or {{ nullif_blank('major') }} is not null
        ) as is_education,
        {{ apollo_date('start_date') }} as started_on,
        {{ apollo_date('end_date') }} as ended_on,
        {{ nullif_blank('start_date') }} as start_date_text,
        {{ nullif_blank('end_date') }} as end_date_text,
        {{ nullif_blank('created_at') }} as entry_created_at_text,
        {{ nullif_blank('updated_at') }} as entry_updated_at_text,
        {{ extra_fields('source', typed, source('apollo', 'employment_history')) }} as extra_fields
    from source
)

select * from renamed
