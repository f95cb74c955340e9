{{
  config(
    materialized='table',
    indexes=[
      {'columns': ['ab_test_id'], 'unique': True},
      {'columns': ['client_id']},
      {'columns': ['provider', 'campaign_id', 'step_number']},
    ],
    post_hook=["{{ client_row_security('client_id') }}"]
  )
}}
{#-
    Every A/B test (docs/ab-tests.md): declared in config/ab_tests.yml or derived from a step's
    variants, with its arms and the sends it has seen so far.
-#}
with

tests as (
    select * from {{ ref('int_ab_tests') }}
),

arms as (
    select * from {{ ref('int_ab_test_arms') }}
),

step_recipients as (
    select * from {{ ref('int_ab_test_step_recipients') }}
),

arm_counts as (
    select
        ab_test_id,
        count(*)::integer as arms,
        count(*) filter (where not is_deleted)::integer as live_arms
    from arms
    group by ab_test_id
),

step_sends as (
    select
        ab_test_id,
        sum(sends)::integer as sends,
        (sum(sends) filter (where variant_id is null))::integer as sends_without_variant,
        min(first_sent_at) as first_sent_at,
        max(last_sent_at) as last_sent_at
    from step_recipients
    group by ab_test_id
),

final as (
    select
        tests.ab_test_id,
        tests.test_key,
        tests.test_source,
        tests.client_id,
        tests.provider,
        tests.campaign_id,
        tests.step_number,
        tests.hypothesis,
        tests.primary_metric,
        tests.target_sample_size,
        tests.start_on,
        tests.end_on,
        tests.status,
        coalesce(arm_counts.arms, 0) as arms,
        coalesce(arm_counts.live_arms, 0) as live_arms,
        coalesce(step_sends.sends, 0) as sends,
        coalesce(step_sends.sends_without_variant, 0) as sends_without_variant,
        step_sends.first_sent_at,
        step_sends.last_sent_at
    from tests
    left join arm_counts
        on tests.ab_test_id = arm_counts.ab_test_id
    left join step_sends
        on tests.ab_test_id = step_sends.ab_test_id
)

select * from final
