{{
  config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    indexes=[
      {'columns': ['contact_kind', 'contact_value'], 'unique': True},
      {'columns': ['lead_id']},
    ],
    pre_hook=["{{ 'delete from ' ~ this if is_incremental() and rebuilt_inputs_changed(rebuilt_table_version([ref('dim_leads')])) else 'select 1' }}"],
    post_hook=[
      "{{ 'analyze ' ~ this if rebuilt_inputs_changed(rebuilt_table_version([ref('dim_leads')])) else 'select 1' }}",
      "{{ record_refresh(rebuilt_table_version([ref('dim_leads')])) }}",
    ]
  )
}}
{#-
    Every address a pool lead can be reached at, one lead per address: the email, the LinkedIn
    profile (normalised as the pool's identity keys are) and the phone numbers (digits only, as
    E.164 without the plus). Touches on any channel find their lead through this. Read several
    times by every build of the event models, and recomputed only when dim_leads was rebuilt
    (an incremental build of the event models alone reads it as it is).
-#}
{%- set recompute = rebuilt_inputs_changed(rebuilt_table_version([ref('dim_leads')])) %}
with

leads as (
    select
        lead_id,
        email,
        linkedin_url,
        phone,
        phone_numbers
    from {{ ref('dim_leads') }}
    where {{ 'true' if recompute else 'false' }}
),

points as (
    select
        'email' as contact_kind,
        {{ email_key('email') }} as contact_value,
        lead_id
    from leads
    union all
    select
        'linkedin' as contact_kind,
        {{ linkedin_key('linkedin_url') }} as contact_value,
        lead_id
    from leads
    union all
    select
        'phone' as contact_kind,
        nullif(regexp_replace(phone, '[^0-9]', '', 'g'), '') as contact_value,
        lead_id
    from leads
    union all
    select
        'phone' as contact_kind,
        nullif(
            regexp_replace(coalesce(numbers.entry ->> 'sanitized_number', numbers.entry ->> 'raw_number'), '[^0-9]', '', 'g'),
            ''
        ) as contact_value,
        leads.lead_id
    from leads
    cross join
        lateral jsonb_array_elements(
            {{ json_array_or_empty("leads.phone_numbers") }}
        ) as numbers (entry)
    where jsonb_typeof(numbers.entry) = 'object'
),

one_lead_per_point as (
    select distinct on (contact_kind, contact_value)
        contact_kind,
        contact_value,
        lead_id
    from points
    where contact_value is not null
    order by contact_kind, contact_value, lead_id
)

select * from one_lead_per_point
