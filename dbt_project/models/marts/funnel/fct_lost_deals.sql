{{
  config(
    indexes=[{'columns': ['client_id', 'lost_reason', 'lost_at_stage', 'currency'], 'unique': True}],
    post_hook=["{{ client_row_security('client_id') }}"]
  )
}}
{#-
    Lost deals per client, reason (fct_deals.lost_reason; '(not recorded)' without one), the
    stage they were lost from and currency: the deals and their value. The stage lost from is the
    one the deal was in before it entered its closed-lost stage (a HubSpot stage its pipeline
    marks lost; a file's stage named lost or closed, in English, German, French or Spanish);
    when no such move is recorded, its current stage.
-#}
with

deals as (
    select * from {{ ref('fct_deals') }}
    where is_lost and client_id is not null
),

history as (
    select * from {{ ref('fct_deal_stage_history') }}
),

pipeline_stages as (
    select * from {{ ref('stg_hubspot__pipeline_stages') }}
),

closing as (
    select
        deals.deal_id,
        current_entry.stage_number,
        current_entry.stage_id,
        current_entry.stage_label,
        current_entry.source_system,
        coalesce(pipeline_stages.is_lost, false) as is_hubspot_lost_stage,
        previous_entry.stage_label as previous_label,
        previous_entry.stage_id as previous_id
    from deals
    inner join history as current_entry
        on deals.deal_id = current_entry.deal_id and current_entry.is_current
    left join history as previous_entry
        on
            deals.deal_id = previous_entry.deal_id
            and previous_entry.stage_number = current_entry.stage_number - 1
    left join pipeline_stages
        on
            current_entry.source_system = 'hubspot'
            and current_entry.pipeline_id = pipeline_stages.pipeline_id
            and current_entry.stage_id = pipeline_stages.stage_id
),

lost_from as (
    select
        deal_id,
        case
            when
                previous_id is not null
                and (
                    is_hubspot_lost_stage
                    -- A file has no pipeline to say which stage is closed: its words do.
                    or (source_system = 'csv' and stage_label ~* '(lost|closed|verloren|perdu|perdido)')
                )
                then coalesce(previous_label, previous_id)
            else coalesce(stage_label, stage_id)
        end as lost_at_stage
    from closing
),

final as (
    select
        deals.client_id,
        coalesce(deals.lost_reason, '(not recorded)') as lost_reason,
        coalesce(lost_from.lost_at_stage, deals.stage_label, deals.stage_id) as lost_at_stage,
        coalesce(deals.currency, '(none)') as currency,
        count(*) as deals,
        coalesce(sum(deals.amount), 0) as lost_value
    from deals
    left join lost_from on deals.deal_id = lost_from.deal_id
    group by 1, 2, 3, 4
)

select * from final
