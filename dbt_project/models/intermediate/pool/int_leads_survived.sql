{#-
    Survivorship: one row per lead, from all records of all the lead's Apollo ids in pull order
    (pull_sequence; the newest record is the last).
    - The role (title, seniority, departments, subdepartments, functions, employer) is one block:
      it comes whole from the newest record that names a title or an employer (role_record_id),
      so a title never sits beside another record's employer or current role.
    - Facts about the email (status, confidence, catch-all domain) come from the newest record
      with an email, so an old address never wears a newer address's status; a lead without any
      email keeps the newest status Apollo gave (e.g. `unavailable`, which the validator needs).
    - Every other field takes its newest non-null value.
    field_sources says which pull each value came from; extra_fields (the fields no column
    types) come from the newest record.
-#}
{{ config(
    materialized='table',
    indexes=[
        {'columns': ['lead_id'], 'unique': true},
        {'columns': ['role_record_id']},
    ],
    post_hook=["{{ analyze_if_rebuilt() }}"]
) }}
{%- set role_fields = [
    'title', 'seniority', 'departments', 'subdepartments', 'functions', 'apollo_organization_id'
] -%}
{%- set email_fields = ['email_status', 'extrapolated_email_confidence', 'email_domain_catchall'] -%}
{%- set other_fields = [
    'first_name', 'last_name', 'full_name', 'headline', 'email', 'linkedin_url', 'photo_url',
    'twitter_url', 'github_url', 'facebook_url', 'street_address', 'city', 'state', 'country',
    'postal_code', 'formatted_address', 'time_zone', 'phone_numbers', 'personal_emails',
    'intent_strength', 'show_intent', 'revealed_for_current_team', 'is_likely_to_engage'
] -%}

with

-- Read twice (leads with one record and leads with more): not materialized, so each branch
-- reads the table in lead order through its index rather than a copy of it.
pulls as not materialized (
    select * from {{ ref('int_person_pulls_resolved') }}
),

flagged as not materialized (
    select
        *,
        (title is not null or apollo_organization_id is not null) as has_role,
        bool_or(email is not null) over (partition by lead_id) as lead_has_email,
        count(*) over (partition by lead_id) as lead_record_count
    from pulls
),

{%- set filters = {} -%}
{%- for field in other_fields %}{% do filters.update({field: field ~ ' is not null'}) %}{% endfor -%}
{%- for field in role_fields %}{% do filters.update({field: 'has_role'}) %}{% endfor -%}
{%- for field in email_fields -%}
    {% do filters.update({field: 'email is not null or (not lead_has_email and ' ~ field ~ ' is not null)'}) %}
{%- endfor %}

survived_from_many as (
    select
        lead_id,
        {%- for field, condition in filters.items() %}
            (array_agg({{ field }} order by pull_sequence desc) filter (where {{ condition }}))[1]
                as {{ field }},
            (
                array_agg(case when {{ field }} is not null then pull_id end order by pull_sequence desc)
                filter (where {{ condition }})
            )[1
            ] as {{ field }}__source,
        {%- endfor %}
        (array_agg(person_record_id order by pull_sequence desc) filter (where has_role))[1]
            as role_record_id,
        (array_agg(extra_fields order by pull_sequence desc))[1] as extra_fields,
        (array_agg(apollo_person_id order by pull_sequence desc))[1] as apollo_person_id,
        (array_agg(person_record_id order by pull_sequence desc))[1] as latest_record_id,
        array_agg(distinct apollo_person_id order by apollo_person_id) as apollo_person_ids,
        min(identity_basis) as identity_basis,
        count(*) as pull_count,
        min(pulled_at) as enriched_at,
        max(pulled_at) as last_enriched_at
    from flagged
    where lead_record_count > 1
    group by lead_id
),

survived_from_one as (
    -- Most leads have one record: the aggregates above, without aggregating (each aggregate
    -- costs a sort and an array per lead).
    select
        lead_id,
        {%- for field, condition in filters.items() %}
            case when {{ condition }} then {{ field }} end as {{ field }},
            case when {{ condition }} then case when {{ field }} is not null then pull_id end end
                as {{ field }}__source,
        {%- endfor %}
        case when has_role then person_record_id end as role_record_id,
        extra_fields,
        apollo_person_id,
        person_record_id as latest_record_id,
        array[apollo_person_id] as apollo_person_ids,
        identity_basis,
        lead_record_count as pull_count,
        pulled_at as enriched_at,
        pulled_at as last_enriched_at
    from flagged
    where lead_record_count = 1
),

survived as (
    select * from survived_from_many
    union all
    select * from survived_from_one
),

final as (
    select
        lead_id,
        {%- for field in filters %}
            {{ field }},
        {%- endfor %}
        -- A lead none of whose records names a title or employer takes its (empty) role from the
        -- newest record.
        coalesce(role_record_id, latest_record_id) as role_record_id,
        -- The same object as jsonb_build_object('field', field__source, ...), built from two text
        -- arrays at about half the cost.
        jsonb_strip_nulls(jsonb_object(
            array[
                {%- for field in filters %}
                    '{{ field }}'{% if not loop.last %},{% endif %}
                {%- endfor %}
            ],
            array[
                {%- for field in filters %}
                    {{ field }}__source{% if not loop.last %},{% endif %}
                {%- endfor %}
            ]
        )) as field_sources,
        extra_fields,
        apollo_person_id,
        latest_record_id,
        apollo_person_ids,
        identity_basis,
        pull_count,
        enriched_at,
        last_enriched_at
    from survived
)

select * from final
