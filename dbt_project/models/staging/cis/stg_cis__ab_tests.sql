{#- One row per A/B test declared in config/ab_tests.yml. -#}
with

source as (
    select * from {{ source('cis', 'ab_tests') }}
),

renamed as (
    select
        test_key,
        client_id,
        provider,
        campaign_id,
        step_number,
        hypothesis,
        primary_metric,
        target_sample_size,
        start_on,
        end_on,
        status,
        synced_at
    from source
)

select * from renamed
