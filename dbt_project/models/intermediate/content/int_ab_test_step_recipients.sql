{{
  config(
    materialized='incremental',
    incremental_strategy='scoped_diff',
    on_schema_change='fail',
    tags=['person_scoped'],
    indexes=[
      {'columns': ['ab_test_id', 'variant_id']},
      {'columns': ['recipient_ref']},
    ],
    pre_hook=["{{ clear_person_scope(in_refreshed_rows('recipient_ref', 'recipient_ref')) }}"],
    post_hook=["{{ record_refresh(person_inputs_version()) }}", "{{ analyze_if_rebuilt() }}"]
  )
}}
{#-
    What each person got at each A/B test's step, by the variant sent, and what they did: the
    A/B marts (dim_ab_tests, fct_ab_test_results) add these up, so that a build after a few
    late events recomputes the people concerned, not every send of every test.
-#}
-- depends_on: {{ ref('int_engagement_scope') }}, {{ ref('int_engagement_refresh') }}
-- depends_on: {{ ref('int_recomputed_activities') }}, {{ ref('int_activities') }}
with

tests as (
    select * from {{ ref('int_ab_tests') }}
),

activities as (
    select * from {{ ref('fct_activities') }}
    where {{ in_refreshed_rows('recipient_ref', 'recipient_ref') }}
),

engagement as (
    select * from {{ ref('fct_activity_engagement') }}
),

outcomes as (
    select * from {{ ref('int_campaign_recipient_outcomes') }}
),

step_sends as (
    select
        tests.ab_test_id,
        activities.variant_id,
        activities.recipient_ref,
        activities.sent_at,
        engagement.email_opened,
        engagement.email_clicked,
        outcomes.first_replied_at >= activities.sent_at as replied,
        coalesce(outcomes.is_positive, false) and outcomes.first_replied_at >= activities.sent_at
            as replied_positive
    from tests
    inner join activities
        on
            tests.provider = activities.provider
            and tests.campaign_id = activities.campaign_id
            and tests.step_number = activities.sequence_number
    inner join engagement
        on activities.activity_id = engagement.activity_id
    left join outcomes
        on
            activities.provider = outcomes.provider
            and activities.campaign_id = outcomes.campaign_id
            and activities.recipient_ref = outcomes.recipient_ref
),

by_recipient as (
    select
        ab_test_id,
        variant_id,
        recipient_ref,
        count(*)::integer as sends,
        min(sent_at) as first_sent_at,
        max(sent_at) as last_sent_at,
        coalesce(bool_or(email_opened), false) as opened,
        coalesce(bool_or(email_clicked), false) as clicked,
        coalesce(bool_or(replied), false) as replied,
        coalesce(bool_or(replied_positive), false) as replied_positive
    from step_sends
    group by ab_test_id, variant_id, recipient_ref
)

select * from by_recipient
