{{ config(
    materialized='table',
    indexes=[{'columns': ['deal_key', 'entered_at']}],
    post_hook=["{{ analyze_if_rebuilt() }}"]
) }}
{#-
    Every stage a deal entered, from every CRM source, timed by the CRM (HubSpot's
    propertiesWithHistory timestamps, the files' changed_at), never by the sync. A HubSpot stage
    is looked up in the deal's pipeline, then in any pipeline (a deal moved between pipelines
    keeps its old stages); one no pipeline lists has is_known_stage false. A deal with no history
    at all enters its current stage when it was created (is_inferred).
-#}
with

hubspot_changes as (
    select * from {{ ref('stg_hubspot__deal_stage_changes') }}
),

pipeline_stages as (
    select * from {{ ref('stg_hubspot__pipeline_stages') }}
),

csv_changes as (
    select * from {{ ref('stg_crm__deal_stage_changes') }}
),

csv_deals as (
    select * from {{ ref('stg_crm__deals') }}
),

deals as (
    select * from {{ ref('int_crm_deals') }}
),

hubspot as (
    select
        'hubspot:' || hubspot_changes.deal_id as deal_key,
        'hubspot' as source_system,
        hubspot_changes.deal_id,
        coalesce(known.pipeline_id, hubspot_changes.pipeline_id) as pipeline_id,
        hubspot_changes.stage_id,
        known.stage_label,
        known.stage_order,
        known.stage_id is not null as is_known_stage,
        hubspot_changes.changed_at as entered_at,
        hubspot_changes.changed_at_text as entered_at_text,
        hubspot_changes.source_type as changed_by,
        false as is_inferred
    from hubspot_changes
    left join lateral (
        select
            pipeline_stages.pipeline_id,
            pipeline_stages.stage_id,
            pipeline_stages.stage_label,
            pipeline_stages.stage_order
        from pipeline_stages
        where pipeline_stages.stage_id = hubspot_changes.stage_id
        order by (pipeline_stages.pipeline_id = hubspot_changes.pipeline_id) desc, pipeline_stages.pipeline_id asc
        limit 1
    ) as known on true
),

csv as (
    select
        'csv:' || csv_changes.deal_id as deal_key,
        'csv' as source_system,
        csv_changes.deal_id,
        coalesce(csv_changes.pipeline_id, csv_deals.pipeline_id, 'default') as pipeline_id,
        lower(csv_changes.stage) as stage_id,
        csv_changes.stage as stage_label,
        null::integer as stage_order,
        true as is_known_stage,
        csv_changes.changed_at as entered_at,
        csv_changes.changed_at::text as entered_at_text,
        csv_changes.changed_by,
        false as is_inferred
    from csv_changes
    left join csv_deals on csv_changes.deal_id = csv_deals.deal_id
),

recorded as (
    select * from hubspot
    union all
    select * from csv
),

inferred as (
    select
        deals.deal_key,
        deals.source_system,
        deals.deal_id,
        deals.pipeline_id,
        deals.stage_id,
        deals.stage_label,
        deals.stage_order,
        deals.is_known_stage,
        deals.created_at as entered_at,
        deals.created_at::text as entered_at_text,
        null::text as changed_by,
        true as is_inferred
    from deals
    where
        deals.stage_id is not null
        and not exists (
            select 1 from recorded
            where recorded.deal_key = deals.deal_key
        )
),

final as (
    select * from recorded
    union all
    select * from inferred
)

select * from final
