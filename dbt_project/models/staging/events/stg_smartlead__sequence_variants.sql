{#-
    Each step of each Smartlead campaign with each of its A/B variants (a step without variants is
    one row with no variant), from the latest campaign snapshot (`GET /campaigns/{id}` with its
    `/sequences`). Deleted variants stay, marked.
-#}
with

latest_campaigns as (
    {{ latest_snapshots('smartlead', 'campaigns') }}
),

steps as (
    select
        campaigns.campaign_id,
        campaigns.payload ->> 'name' as campaign_name,
        sequence_steps.step
    from latest_campaigns as campaigns
    cross join lateral jsonb_array_elements(
        {{ json_array_or_empty("campaigns.payload -> 'sequences'") }}
    ) as sequence_steps (step)
),

variants as (
    select
        steps.campaign_id,
        steps.campaign_name,
        steps.step,
        step_variants.variant
    from steps
    left join lateral jsonb_array_elements(
        {{ json_array_or_empty("steps.step -> 'sequence_variants'") }}
    ) as step_variants (variant) on true
),

renamed as (
    select
        'smartlead' as provider,
        campaign_id,
        campaign_name,
        'email' as channel,
        step ->> 'id' as step_id,
        {{ event_int("step ->> 'seq_number'") }} as step_number,
        {{ event_int("step #>> '{seq_delay_details,delayInDays}'") }} as delay_days,
        variant ->> 'id' as variant_id,
        variant ->> 'variant_label' as variant_label,
        coalesce(variant ->> 'subject', step ->> 'subject') as subject_template,
        coalesce(variant ->> 'email_body', step ->> 'email_body') as body_template,
        {{ event_int("variant ->> 'variant_distribution_percentage'") }} as split_percent,
        coalesce(lower(variant ->> 'is_deleted') = 'true', false) as is_deleted,
        true as is_enabled
    from variants
)

select * from renamed
