{{ config(
    materialized='table',
    indexes=[{'columns': ['record_kind', 'record_key']}],
    post_hook=["{{ analyze_if_rebuilt() }}"]
) }}
{#-
    CRM records the funnel marts leave out, each with its reason: the loaders' rejected_records
    hold what could not be read at all; these were read but cannot be used as they are. A deal
    whose stage its pipeline does not list, a stage change no pipeline lists or with no readable
    time, a meeting with no contact or no start time. Never mapped to a default: fix the CRM (or
    load its pipelines) and the next build takes them in. `cis quarantine` lists them.
-#}
with

meetings as (
    select * from {{ ref('int_crm_meetings') }}
),

deals as (
    select * from {{ ref('int_crm_deals') }}
),

stage_changes as (
    select * from {{ ref('int_crm_deal_stage_changes') }}
),

problems as (
    select
        'meeting' as record_kind,
        source_system,
        meeting_key as record_key,
        'meeting has no contact: nobody to tie it to' as reason
    from meetings
    where jsonb_array_length(contact_keys) = 0
    union all
    select
        'meeting' as record_kind,
        source_system,
        meeting_key as record_key,
        'meeting has no start time (hs_meeting_start_time, hs_timestamp or scheduled_for)' as reason
    from meetings
    where scheduled_for is null
    union all
    select
        'deal' as record_kind,
        source_system,
        deal_key as record_key,
        case
            when stage_id is null then 'deal has no stage'
            when not is_known_pipeline
                then
                    'deal pipeline ' || coalesce(quote_literal(pipeline_id), '(none)')
                    || ' is not among the loaded pipelines (hubspot/pipelines)'
            else
                'deal stage ' || quote_literal(stage_id) || ' is not a stage of pipeline '
                || quote_literal(pipeline_id)
        end as reason
    from deals
    where not is_known_stage or stage_id is null
    union all
    select
        'deal_stage_change' as record_kind,
        source_system,
        deal_key || '@' || coalesce(entered_at_text, '') || ':' || coalesce(stage_id, '') as record_key,
        case
            when stage_id is null then 'stage change names no stage'
            when entered_at is null
                then 'stage change time is not a time (' || coalesce(quote_literal(entered_at_text), 'none') || ')'
            else 'stage ' || quote_literal(stage_id) || ' is not a stage of any loaded pipeline'
        end as reason
    from stage_changes
    where stage_id is null or entered_at is null or not is_known_stage
),

final as (
    select
        md5(record_kind || '|' || record_key || '|' || reason) as rejection_id,
        record_kind,
        source_system,
        record_key,
        reason
    from problems
)

select * from final
