{{ config(
    indexes=[
        {'columns': ['apollo_organization_id'], 'unique': true},
        {'columns': ['primary_domain']},
        {'columns': ['industry']},
        {'columns': ['company_size_band']},
    ]
) }}

with

organizations as (
    select * from {{ ref('int_organizations_survived') }}
),

final as (
    select
        {{ cis_uuid(["'organization'", 'apollo_organization_id']) }} as organization_id,
        apollo_organization_id,
        organization_name,
        primary_domain,
        website_url,
        linkedin_url,
        twitter_url,
        facebook_url,
        crunchbase_url,
        phone,
        industry,
        employee_count,
        {{ size_band('employee_count') }} as company_size_band,
        annual_revenue,
        total_funding,
        latest_funding_stage,
        latest_funding_round_at,
        founded_year,
        city,
        state,
        country,
        raw_address,
        short_description,
        publicly_traded_symbol,
        retail_location_count,
        keywords,
        industries,
        languages,
        technology_names,
        current_technologies,
        funding_events,
        departmental_head_count,
        first_pulled_at,
        pulled_at as last_pulled_at
    from organizations
)

select * from final
