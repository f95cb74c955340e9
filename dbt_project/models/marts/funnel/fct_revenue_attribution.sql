{{
  config(
    indexes=[
      {'columns': ['attribution_id'], 'unique': True},
      {'columns': ['deal_id', 'attribution_model']},
      {'columns': ['client_id']},
    ],
    post_hook=["{{ client_row_security('client_id') }}"]
  )
}}
{%- set half_life_days = var('attribution_half_life_days', 7) -%}
{#-
    Each won deal's value shared among the touches that came before it (the lead's touches by
    the deal's client up to the deal's opening) under four models: first_touch and last_touch
    (all to one touch), linear (equal shares) and time_decay (a touch's weight halves every
    `attribution_half_life_days` days before the deal opened, default 7). Under every model a
    deal's credits sum to 1 and its attributed amounts to its value, in its own currency; a won
    deal with no touch before it is one 'unattributed' row per model, so nothing is dropped.
-#}
with

deals as (
    select * from {{ ref('fct_deals') }}
    where is_won
),

activities as (
    select * from {{ ref('fct_activities') }}
    where is_touch
),

touches as (
    select
        deals.deal_id,
        activities.activity_id,
        activities.sent_at,
        activities.channel,
        activities.template_id,
        activities.ab_variant,
        row_number() over by_deal as touch_number,
        count(*) over (partition by deals.deal_id) as touches,
        power(0.5, extract(epoch from deals.created_at - activities.sent_at) / 86400 / {{ half_life_days }}) as decay_weight
    from deals
    inner join activities
        on
            deals.lead_id = activities.lead_id
            and deals.client_id = activities.client_id
            and activities.sent_at <= deals.created_at
    window by_deal as (partition by deals.deal_id order by activities.sent_at asc, activities.activity_id asc)
),

weighted as (
    select
        *,
        decay_weight / sum(decay_weight) over (partition by deal_id) as decay_share
    from touches
),

credits as (
    select
        deal_id,
        activity_id,
        'first_touch' as attribution_model,
        1.0::numeric as credit
    from weighted
    where touch_number = 1
    union all
    select
        deal_id,
        activity_id,
        'last_touch' as attribution_model,
        1.0::numeric as credit
    from weighted
    where touch_number = touches
    union all
    select
        deal_id,
        activity_id,
        'linear' as attribution_model,
        1.0::numeric / touches as credit
    from weighted
    union all
    select
        deal_id,
        activity_id,
        'time_decay' as attribution_model,
        decay_share::numeric as credit
    from weighted
    union all
    select
        deals.deal_id,
        null::uuid as activity_id,
        models.attribution_model,
        1.0::numeric as credit
    from deals
    cross join (values ('first_touch'), ('last_touch'), ('linear'), ('time_decay')) as models (attribution_model)
    where not exists (
        select 1 from touches
        where touches.deal_id = deals.deal_id
    )
),

final as (
    select
        md5(credits.deal_id || '|' || credits.attribution_model || '|' || coalesce(credits.activity_id::text, '')) as attribution_id,
        credits.deal_id,
        deals.client_id,
        deals.lead_id,
        credits.attribution_model,
        credits.activity_id,
        weighted.sent_at as touch_sent_at,
        coalesce(weighted.channel, 'unattributed') as channel,
        weighted.template_id,
        weighted.ab_variant,
        credits.credit,
        deals.amount * credits.credit as attributed_amount,
        deals.currency,
        deals.closed_at as won_at
    from credits
    inner join deals on credits.deal_id = deals.deal_id
    left join weighted on credits.deal_id = weighted.deal_id and credits.activity_id = weighted.activity_id
)

select * from final
