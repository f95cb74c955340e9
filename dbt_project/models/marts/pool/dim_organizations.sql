-- depends_on: {{ ref('dim_lead_aliases') }}
{{ config(
    post_hook=["{{ client_row_security(using='organization_id in (select ' ~ this.schema ~ '.client_held_organization_ids())') }}"],
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
        blog_url,
        angellist_url,
        linkedin_url,
        linkedin_uid,
        twitter_url,
        facebook_url,
        crunchbase_url,
        logo_url,
        phone,
        phone_display,
        primary_phone,
        industry,
        industries,
        secondary_industries,
        industry_tag_id,
        industry_tag_hash,
        employee_count,
        {{ size_band('employee_count') }} as company_size_band,
        annual_revenue,
        annual_revenue_printed,
        total_funding,
        total_funding_printed,
        latest_funding_stage,
        latest_funding_round_at,
        funding_events,
        founded_year,
        alexa_ranking,
        street_address,
        city,
        state,
        postal_code,
        country,
        raw_address,
        short_description,
        seo_description,
        publicly_traded_symbol,
        publicly_traded_exchange,
        retail_location_count,
        owned_by_organization_id,
        suborganizations,
        num_suborganizations,
        keywords,
        languages,
        technology_names,
        current_technologies,
        departmental_head_count,
        snippets_loaded,
        org_chart_root_people_ids,
        org_chart_sector,
        org_chart_removed,
        org_chart_show_department_filter,
        extra_fields,
        person_record_id as source_record_id,
        first_pulled_at,
        pulled_at as last_pulled_at
    from organizations
)

select * from final
