{{
  config(
    indexes=[{'columns': ['client_id', 'currency'], 'unique': True}],
    post_hook=["{{ client_row_security('client_id') }}"]
  )
}}
{#-
    Deal figures per client and currency (values are never added across currencies; a deal
    without one is under '(none)'): deals won, lost and open, the won value with its average
    and median, the median days to close a won deal, the open pipeline and its value weighted
    by each deal's probability, and the win rate with open deals censored.
-#}
with

deals as (
    select * from {{ ref('fct_deals') }}
),

final as (
    select
        client_id,
        coalesce(currency, '(none)') as currency,
        count(*) as deals,
        count(*) filter (where is_won) as deals_won,
        count(*) filter (where is_lost) as deals_lost,
        count(*) filter (where is_open) as deals_open,
        coalesce(sum(amount) filter (where is_won), 0) as won_value,
        round(avg(amount) filter (where is_won), 2) as average_won_value,
        percentile_cont(0.5) within group (order by amount) filter (where is_won)::numeric as median_won_value,
        percentile_cont(0.5) within group (order by days_to_close) filter (where is_won)::numeric as median_days_to_close,
        coalesce(sum(amount) filter (where is_open), 0) as open_pipeline_value,
        round(coalesce(sum(amount * coalesce(probability, 0)) filter (where is_open), 0), 2) as weighted_pipeline_value,
        {{ rate("count(*) filter (where is_won)", "count(*) filter (where is_won or is_lost)") }} as win_rate
    from deals
    where client_id is not null
    group by client_id, coalesce(currency, '(none)')
)

select * from final
