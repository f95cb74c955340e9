{{
  config(
    materialized='incremental',
    incremental_strategy='scoped_diff',
    on_schema_change='fail',
    tags=['person_scoped'],
    indexes=[
      {'columns': ['provider', 'message_key'], 'unique': True},
      {'columns': ['lead_key']},
    ],
    pre_hook=["{{ clear_person_scope(in_person_scope('lead_key', 'email')) }}"],
    post_hook=["{{ record_refresh(person_inputs_version()) }}", "{{ analyze_if_rebuilt() }}"]
  )
}}
{#-
    The variant of each Salesforge email sent at a step with several variants. Salesforge's
    webhooks name the step but no variant, so the copy decides: the variant is the step's one
    template whose subject (when it has one) and body, with every personalization token read as
    any text, match what was sent. A send that matches no template, or more than one, keeps no
    variant.
-#}
-- depends_on: {{ ref('int_engagement_scope') }}, {{ ref('int_engagement_refresh') }}
with

sends as (
    select * from {{ ref('int_email_sends') }}
    where provider = 'salesforge' and {{ in_person_scope('lead_key', 'email') }}
),

templates as (
    select * from {{ ref('dim_templates') }}
    where provider = 'salesforge' and channel = 'email' and variant_id is not null
),

patterns as (
    select
        template_id,
        variant_id,
        campaign_id,
        channel_step_number,
        nullif(trim(subject_template), '') is not null as has_subject,
        {{ template_pattern('subject_template') }} as subject_pattern,
        {{ template_pattern('body_text', anchor_end=false) }} as body_pattern
    from templates
),

sent_copy as (
    select
        message_key,
        lead_key,
        campaign_id,
        sequence_number,
        coalesce(subject, '') as subject,
        coalesce(nullif(trim(body_text), ''), {{ html_to_text('body_html') }}) as body
    from sends
),

matches as (
    select
        sent_copy.message_key,
        sent_copy.lead_key,
        patterns.variant_id,
        patterns.template_id
    from sent_copy
    inner join patterns
        on
            sent_copy.campaign_id = patterns.campaign_id
            and sent_copy.sequence_number = patterns.channel_step_number
    where
        (not patterns.has_subject or sent_copy.subject ~ patterns.subject_pattern)
        and sent_copy.body ~ patterns.body_pattern
),

single_matches as (
    select
        'salesforge' as provider,
        message_key,
        min(lead_key) as lead_key,
        min(variant_id) as variant_id,
        min(template_id::text)::uuid as template_id
    from matches
    group by message_key
    having count(*) = 1
)

select * from single_matches
