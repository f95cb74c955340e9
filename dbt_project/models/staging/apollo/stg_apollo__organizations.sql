with

source as (
    select * from {{ source('apollo', 'organizations') }}
),

renamed as (
    select
        {{ cis_uuid(["'apollo_organization'", 'id', '_pull_id']) }} as organization_pull_id,
        id::text as apollo_organization_id,
        _pull_id::text as pull_id,
        _pulled_at as pulled_at,
        _source_line as source_line,
        {{ nullif_blank('name') }} as organization_name,
        lower({{ nullif_blank('primary_domain') }}) as primary_domain,
        {{ nullif_blank('website_url') }} as website_url,
        {{ nullif_blank('linkedin_url') }} as linkedin_url,
        {{ nullif_blank('twitter_url') }} as twitter_url,
        {{ nullif_blank('facebook_url') }} as facebook_url,
        {{ nullif_blank('crunchbase_url') }} as crunchbase_url,
        {{ nullif_blank('sanitized_phone') }} as phone,
        lower({{ nullif_blank('industry') }}) as industry,
        estimated_num_employees::integer as employee_count,
        annual_revenue,
        total_funding,
        {{ nullif_blank('latest_funding_stage') }} as latest_funding_stage,
        latest_funding_round_date as latest_funding_round_at,
        founded_year::integer as founded_year,
        {{ nullif_blank('city') }} as city,
        {{ nullif_blank('state') }} as state,
        {{ nullif_blank('country') }} as country,
        {{ nullif_blank('raw_address') }} as raw_address,
        {{ nullif_blank('short_description') }} as short_description,
        {{ nullif_blank('publicly_traded_symbol') }} as publicly_traded_symbol,
        retail_location_count::integer as retail_location_count,
        nullif(keywords, '[]'::jsonb) as keywords,
        nullif(industries, '[]'::jsonb) as industries,
        nullif(languages, '[]'::jsonb) as languages,
        nullif(technology_names, '[]'::jsonb) as technology_names,
        nullif(current_technologies, '[]'::jsonb) as current_technologies,
        nullif(funding_events, '[]'::jsonb) as funding_events,
        nullif(departmental_head_count, '{}'::jsonb) as departmental_head_count
    from source
)

select * from renamed
