{#-
    Survivorship: one row per lead; every field takes its latest non-null value across all pulls
    of all the lead's Apollo records, and field_sources says which pull each value came from.
    Facts about the email address (its status, confidence, catch-all domain) come from the same
    pull as the surviving email, so an old address never wears a newer address's status.
-#}
{%- set fields = [
    'first_name', 'last_name', 'full_name', 'title', 'headline', 'email', 'email_status',
    'linkedin_url', 'photo_url', 'twitter_url', 'github_url', 'facebook_url',
    'extrapolated_email_confidence', 'street_address', 'city', 'state', 'country', 'postal_code',
    'formatted_address', 'time_zone', 'seniority', 'departments', 'subdepartments', 'functions',
    'phone_numbers', 'intent_strength', 'show_intent', 'email_domain_catchall',
    'revealed_for_current_team', 'is_likely_to_engage', 'apollo_organization_id'
] -%}
{%- set follows_email = ['email_status', 'extrapolated_email_confidence', 'email_domain_catchall'] -%}

with

pulls as (
    select * from {{ ref('int_person_pulls_resolved') }}
),

survived as (
    select
        lead_id,
        {%- for field in fields %}
            (
                array_agg({{ field }} order by pulled_at desc, source_line desc nulls last)
                filter (where {{ 'email' if field in follows_email else field }} is not null)
            )[1
            ] as {{ field }},
        {%- endfor %}
        jsonb_strip_nulls(jsonb_build_object(
            {%- for field in fields %}
                '{{ field }}', (
                    array_agg(
                        case when {{ field }} is not null then pull_id end
                        order by pulled_at desc, source_line desc nulls last
                    )
                    filter (where {{ 'email' if field in follows_email else field }} is not null)
                )[1
                ]{% if not loop.last %},{% endif %}
            {%- endfor %}
        )) as field_sources,
        (array_agg(apollo_person_id order by pulled_at desc, source_line desc nulls last))[1]
            as apollo_person_id,
        array_agg(distinct apollo_person_id order by apollo_person_id) as apollo_person_ids,
        min(identity_basis) as identity_basis,
        count(*) as pull_count,
        min(pulled_at) as enriched_at,
        max(pulled_at) as last_enriched_at
    from pulls
    group by lead_id
)

select * from survived
