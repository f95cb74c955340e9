{#-
    Every A/B test: each test declared in config/ab_tests.yml, and each sequence step with two or
    more variants that no declared test covers (derived: the vendor runs it whether or not the
    agency wrote it down).
-#}
with

templates as (
    select * from {{ ref('dim_templates') }}
),

declared as (
    select * from {{ ref('stg_cis__ab_tests') }}
),

variant_steps as (
    select
        provider,
        campaign_id,
        channel_step_number as step_number,
        min(client_id::text)::uuid as client_id
    from templates
    where variant_id is not null and channel = 'email'
    group by provider, campaign_id, channel_step_number
    having count(*) >= 2
),

declared_tests as (
    select
        {{ cis_uuid(["'ab_test'", 'test_key']) }} as ab_test_id,
        test_key,
        'declared' as test_source,
        client_id,
        provider,
        campaign_id,
        step_number,
        hypothesis,
        primary_metric,
        target_sample_size,
        start_on,
        end_on,
        status
    from declared
),

derived_tests as (
    select
        {{ cis_uuid(["'ab_test'", 'variant_steps.provider', 'variant_steps.campaign_id', 'variant_steps.step_number::text']) }}
            as ab_test_id,
        null as test_key,
        'derived' as test_source,
        variant_steps.client_id,
        variant_steps.provider,
        variant_steps.campaign_id,
        variant_steps.step_number,
        null as hypothesis,
        'reply_rate' as primary_metric,
        null::integer as target_sample_size,
        null::date as start_on,
        null::date as end_on,
        'running' as status
    from variant_steps
    where not exists (
        select 1 from declared
        where
            declared.provider = variant_steps.provider
            and declared.campaign_id = variant_steps.campaign_id
            and declared.step_number = variant_steps.step_number
    )
),

tests as (
    select * from declared_tests
    union all
    select * from derived_tests
)

select * from tests
