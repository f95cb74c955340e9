{#-
    Under every attribution model, each won deal's credits sum to 1 and its attributed amounts to
    its value (within a cent): no revenue is lost or counted twice. Rows returned are the deals
    and models that break it; a won deal missing from a model is one too.
-#}
with

won as (
    select
        deal_id,
        amount
    from {{ ref('fct_deals') }}
    where is_won
),

models as (
    select model.attribution_model
    from (values ('first_touch'), ('last_touch'), ('linear'), ('time_decay')) as model (attribution_model)
),

sums as (
    select
        deal_id,
        attribution_model,
        sum(credit) as credit,
        sum(attributed_amount) as attributed_amount
    from {{ ref('fct_revenue_attribution') }}
    group by deal_id, attribution_model
),

broken as (
    select
        won.deal_id,
        models.attribution_model,
        sums.credit,
        sums.attributed_amount,
        won.amount
    from won
    cross join models
    left join sums on won.deal_id = sums.deal_id and models.attribution_model = sums.attribution_model
    where
        sums.deal_id is null
        or abs(sums.credit - 1) > 0.00001
        or (won.amount is not null and abs(sums.attributed_amount - won.amount) > 0.01)
)

select * from broken
