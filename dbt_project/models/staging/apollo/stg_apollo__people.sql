{%- set typed = [
    'id', 'first_name', 'last_name', 'name', 'title', 'headline', 'email', 'email_status',
    'linkedin_url', 'photo_url', 'twitter_url', 'github_url', 'facebook_url',
    'extrapolated_email_confidence', 'street_address', 'city', 'state', 'country', 'postal_code',
    'formatted_address', 'time_zone', 'seniority', 'departments', 'subdepartments', 'functions',
    'phone_numbers', 'personal_emails', 'intent_strength', 'show_intent', 'email_domain_catchall',
    'revealed_for_current_team', 'is_likely_to_engage', 'organization_id'
] -%}
with

source as (
    select * from {{ source('apollo', 'people') }}
),

renamed as (
    select
        {{ cis_uuid(["'apollo_person_record'", '_record_id']) }} as person_record_id,
        _record_id::text as record_id,
        id::text as apollo_person_id,
        _pull_id::text as pull_id,
        _pulled_at as pulled_at,
        _pulled_at_basis::text as pulled_at_basis,
        case when _pulled_at_basis <> 'loaded' then _pulled_at end as pull_time,
        _observed_at as observed_at,
        _source::text as pull_source,
        _source_file::text as source_file,
        _source_line as source_line,
        coalesce(_source_file, _pull_id)::text as file_order_key,
        {{ nullif_blank('first_name') }} as first_name,
        {{ nullif_blank('last_name') }} as last_name,
        {{ nullif_blank('name') }} as full_name,
        {{ nullif_blank('title') }} as title,
        {{ nullif_blank('headline') }} as headline,
        {{ email_key('email') }} as email,
        {{ nullif_blank('email_status') }} as email_status,
        {{ nullif_blank('linkedin_url') }} as linkedin_url,
        {{ linkedin_key('linkedin_url') }} as linkedin_key,
        {{ nullif_blank('photo_url') }} as photo_url,
        {{ nullif_blank('twitter_url') }} as twitter_url,
        {{ nullif_blank('github_url') }} as github_url,
        {{ nullif_blank('facebook_url') }} as facebook_url,
        extrapolated_email_confidence,
        {{ nullif_blank('street_address') }} as street_address,
        {{ nullif_blank('city') }} as city,
        {{ nullif_blank('state') }} as state,
        {{ nullif_blank('country') }} as country,
        {{ nullif_blank('postal_code') }} as postal_code,
        {{ nullif_blank('formatted_address') }} as formatted_address,
        {{ nullif_blank('time_zone') }} as time_zone,
        {{ nullif_blank('seniority') }} as seniority,
        departments,
        subdepartments,
        functions,
        phone_numbers,
        personal_emails,
        {{ nullif_blank('intent_strength') }} as intent_strength,
        show_intent,
        email_domain_catchall,
        revealed_for_current_team,
        is_likely_to_engage,
        {{ nullif_blank('organization_id') }} as apollo_organization_id,
        {{ extra_fields('source', typed, source('apollo', 'people')) }} as extra_fields
    from source
)

select * from renamed
