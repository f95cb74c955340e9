{#-
    Each stage of each deal pipeline, from the pipeline's newest version: label, order,
    probability and the closed flag (HubSpot writes both as strings). A stage id is unique only
    within its pipeline. Won is a closed stage whose probability is 1; lost, a closed stage
    below it.
-#}
with

latest_pipelines as (
    {{ latest_snapshots('hubspot', 'pipelines') }}
),

stages as (
    select
        latest_pipelines.campaign_id as pipeline_id,
        latest_pipelines.payload,
        pipeline_stages.stage,
        pipeline_stages.position
    from latest_pipelines
    cross join lateral jsonb_array_elements(
        {{ json_array_or_empty("latest_pipelines.payload -> 'stages'") }}
    ) with ordinality as pipeline_stages (stage, position)
),

renamed as (
    select
        pipeline_id,
        {{ nullif_blank("payload ->> 'label'") }} as pipeline_label,
        {{ event_int("payload ->> 'displayOrder'") }} as pipeline_order,
        stage ->> 'id' as stage_id,
        {{ nullif_blank("stage ->> 'label'") }} as stage_label,
        coalesce({{ event_int("stage ->> 'displayOrder'") }}, position::integer - 1) as stage_order,
        {{ event_number("stage #>> '{metadata,probability}'") }} as probability,
        coalesce({{ event_bool("stage #>> '{metadata,isClosed}'") }}, false) as is_closed,
        coalesce({{ event_bool("stage ->> 'archived'") }}, false) as is_archived
    from stages
    where {{ nullif_blank("stage ->> 'id'") }} is not null
),

final as (
    select
        *,
        is_closed and probability = 1 as is_won,
        is_closed and coalesce(probability, 0) < 1 as is_lost
    from renamed
)

select * from final
