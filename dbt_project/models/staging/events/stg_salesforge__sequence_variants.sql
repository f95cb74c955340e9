{#-
    Each step of each Salesforge sequence with each of its variants, from the latest snapshot of
    the sequence, in either shape: legacy (`steps[]` with `variants[]`: label, emailSubject,
    emailContent, distributionWeight) or multichannel (`nodes[]`, each on a channel, with
    `variants[]`: isEnabled, exposureInPercentage, metadata{name, subject, message}).
-#}
with

latest_sequences as (
    {{ latest_snapshots('salesforge', 'sequences') }}
),

steps as (
    select
        sequences.campaign_id,
        sequences.payload ->> 'name' as campaign_name,
        sequence_steps.step,
        sequence_steps.position,
        sequences.payload ? 'nodes' as is_multichannel
    from latest_sequences as sequences
    cross join lateral jsonb_array_elements(
        case
            when jsonb_typeof(sequences.payload -> 'steps') = 'array'
                then sequences.payload -> 'steps'
            when jsonb_typeof(sequences.payload -> 'nodes') = 'array'
                then sequences.payload -> 'nodes'
            else '[]'::jsonb
        end
    ) with ordinality as sequence_steps (step, position)
),

variants as (
    select
        steps.*,
        step_variants.variant
    from steps
    left join lateral jsonb_array_elements(
        {{ json_array_or_empty("steps.step -> 'variants'") }}
    ) as step_variants (variant) on true
),

renamed as (
    select
        'salesforge' as provider,
        campaign_id,
        campaign_name,
        coalesce(lower(step ->> 'channel'), 'email') as channel,
        step ->> 'id' as step_id,
        coalesce({{ event_int("step ->> 'order'") }}, position::integer) as step_number,
        {{ event_int("step ->> 'waitDays'") }} as delay_days,
        variant ->> 'id' as variant_id,
        coalesce(variant ->> 'label', variant #>> '{metadata,name}') as variant_label,
        coalesce(variant ->> 'emailSubject', variant #>> '{metadata,subject}') as subject_template,
        coalesce(variant ->> 'emailContent', variant #>> '{metadata,message}') as body_template,
        coalesce(
            {{ event_int("variant ->> 'distributionWeight'") }},
            {{ event_int("variant ->> 'exposureInPercentage'") }}
        ) as split_percent,
        false as is_deleted,
        coalesce(lower(variant ->> 'isEnabled') <> 'false', true) as is_enabled
    from variants
)

select * from renamed
