{{
  config(
    indexes=[
      {'columns': ['stage_entry_id'], 'unique': True},
      {'columns': ['deal_id', 'entered_at']},
      {'columns': ['client_id']},
    ],
    post_hook=["{{ client_row_security('client_id') }}"]
  )
}}
{#-
    One row per deal per stage entered, in the order of the CRM's own times (never the sync's,
    never the order a file lists them in): when it entered and left, the days in the stage, the
    next stage, and whether it is the deal's current one. Re-entering the stage a deal is already
    in is not a new entry. Days in stage are counted for stages the deal left, and for the open
    current stage up to the build (days_in_stage with is_current); a won or lost deal's last
    stage has none. Rejected stage changes and rejected deals (int_crm_rejections) are left out.
-#}
with

stage_changes as (
    select * from {{ ref('int_crm_deal_stage_changes') }}
),

deals as (
    select * from {{ ref('fct_deals') }}
),

usable as (
    select
        stage_changes.*,
        deals.client_id,
        deals.lead_id,
        deals.deal_status,
        -- Two changes at one time (a file's dates without hours): the deal's current stage last.
        stage_changes.stage_id = deals.stage_id as is_deal_stage,
        lag(stage_changes.stage_id) over (
            partition by stage_changes.deal_key
            order by
                stage_changes.entered_at asc,
                stage_changes.stage_id = deals.stage_id asc,
                stage_changes.stage_order asc nulls last,
                stage_changes.stage_id asc
        ) as previous_stage_id
    from stage_changes
    inner join deals on stage_changes.deal_key = deals.deal_id
    where stage_changes.is_known_stage and stage_changes.entered_at is not null
),

entries as (
    select
        *,
        lead(entered_at) over by_time as exited_at,
        lead(stage_id) over by_time as next_stage_id,
        row_number() over by_time as stage_number,
        count(*) over (partition by deal_key) as stages_entered
    from usable
    where previous_stage_id is distinct from stage_id
    window by_time as (
        partition by deal_key order by entered_at asc, is_deal_stage asc, stage_order asc nulls last, stage_id asc
    )
),

final as (
    select
        md5(deal_key || '|' || stage_number::text) as stage_entry_id,
        deal_key as deal_id,
        source_system,
        client_id,
        lead_id,
        pipeline_id,
        stage_id,
        stage_label,
        stage_order,
        stage_number::integer as stage_number,
        entered_at,
        exited_at,
        case
            when exited_at is not null then round((extract(epoch from exited_at - entered_at) / 86400)::numeric, 2)
            when deal_status = 'open'
                then round((extract(epoch from greatest({{ funnel_as_of() }} - entered_at, interval '0')) / 86400)::numeric, 2)
        end as days_in_stage,
        exited_at is null as is_current,
        next_stage_id,
        is_inferred,
        changed_by
    from entries
)

select * from final
