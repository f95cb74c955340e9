{{
  config(
    indexes=[{'columns': ['client_id', 'pipeline_id', 'stage_id', 'currency'], 'unique': True}],
    post_hook=["{{ client_row_security('client_id') }}"]
  )
}}
{#-
    The open pipeline per client, pipeline, current stage and currency: how many open deals sit
    in each stage, their value, their value weighted by probability, and how long they have been
    there (median days in the current stage, up to the build).
-#}
with

deals as (
    select * from {{ ref('fct_deals') }}
    where is_open and client_id is not null
),

current_stages as (
    select * from {{ ref('fct_deal_stage_history') }}
    where is_current
),

final as (
    select
        deals.client_id,
        deals.pipeline_id,
        deals.stage_id,
        min(deals.stage_label) as stage_label,
        coalesce(deals.currency, '(none)') as currency,
        count(*) as open_deals,
        coalesce(sum(deals.amount), 0) as open_value,
        round(coalesce(sum(deals.amount * coalesce(deals.probability, 0)), 0), 2) as weighted_value,
        percentile_cont(0.5) within group (order by current_stages.days_in_stage)::numeric as median_days_in_stage
    from deals
    left join current_stages on deals.deal_id = current_stages.deal_id
    group by deals.client_id, deals.pipeline_id, deals.stage_id, coalesce(deals.currency, '(none)')
)

select * from final
