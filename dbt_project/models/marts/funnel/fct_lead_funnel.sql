{{
  config(
    indexes=[
      {'columns': ['lead_id', 'client_id'], 'unique': True},
      {'columns': ['client_id', 'cohort_month']},
    ],
    post_hook=["{{ client_row_security('client_id') }}"]
  )
}}
{%- set steps = ['human_open', 'reply', 'positive_reply', 'meeting_booked', 'meeting_held', 'opportunity', 'won'] -%}
{#-
    One row per lead and client: when the lead reached each step of the funnel - assigned, first
    touch, human open, reply, positive reply, meeting booked, meeting held, opportunity, won -
    and the touch (with its template, A/B variant and channel) that came last before each step.
    A step not reached is null. The cohort is the month of the first touch (docs/crm.md,
    "The funnel").
-#}
with

assignments as (
    select * from {{ ref('fct_lead_assignments') }}
),

activities as (
    select * from {{ ref('fct_activities') }}
),

engagement as (
    select * from {{ ref('fct_activity_engagement') }}
),

replies as (
    select * from {{ ref('fct_replies') }}
),

meetings as (
    select * from {{ ref('fct_meetings') }}
),

deals as (
    select * from {{ ref('fct_deals') }}
),

step_times as (
    select
        current_lead_id as lead_id,
        client_id,
        'assigned' as step,
        min(assigned_at) as reached_at
    from assignments
    where current_lead_id is not null
    group by current_lead_id, client_id
    union all
    select
        lead_id,
        client_id,
        'first_touch' as step,
        min(sent_at) as reached_at
    from activities
    where is_touch and lead_id is not null and client_id is not null
    group by lead_id, client_id
    union all
    select
        lead_id,
        client_id,
        'human_open' as step,
        min(first_open_at) as reached_at
    from engagement
    where lead_id is not null and client_id is not null and first_open_at is not null
    group by lead_id, client_id
    union all
    select
        lead_id,
        client_id,
        'reply' as step,
        min(replied_at) as reached_at
    from replies
    where lead_id is not null and client_id is not null and not coalesce(is_automatic, false) and not is_from_colleague
    group by lead_id, client_id
    union all
    select
        lead_id,
        client_id,
        'positive_reply' as step,
        min(replied_at) as reached_at
    from replies
    where
        lead_id is not null and client_id is not null and is_positive
        and not coalesce(is_automatic, false) and not is_from_colleague
    group by lead_id, client_id
    union all
    select
        lead_id,
        client_id,
        'meeting_booked' as step,
        min(coalesce(booked_at, scheduled_for)) as reached_at
    from meetings
    where lead_id is not null and client_id is not null and coalesce(meeting_outcome, '') <> 'canceled'
    group by lead_id, client_id
    union all
    select
        lead_id,
        client_id,
        'meeting_held' as step,
        min(scheduled_for) as reached_at
    from meetings
    where lead_id is not null and client_id is not null and is_held
    group by lead_id, client_id
    union all
    select
        lead_id,
        client_id,
        'opportunity' as step,
        min(created_at) as reached_at
    from deals
    where lead_id is not null and client_id is not null
    group by lead_id, client_id
    union all
    select
        lead_id,
        client_id,
        'won' as step,
        min(coalesce(closed_at, created_at)) as reached_at
    from deals
    where lead_id is not null and client_id is not null and is_won
    group by lead_id, client_id
),

-- The touch that came last before each step, on fct_activities' index of lead and send time
-- (the table itself: the activities CTE, read twice, would be materialised without an index).
preceding as (
    select
        step_times.lead_id,
        step_times.client_id,
        step_times.step,
        step_times.reached_at,
        touch.activity_id,
        touch.template_id,
        touch.ab_variant,
        touch.channel
    from step_times
    left join lateral (
        select
            activities.activity_id,
            activities.template_id,
            activities.ab_variant,
            activities.channel
        from {{ ref('fct_activities') }} as activities
        where
            activities.lead_id = step_times.lead_id
            and activities.client_id = step_times.client_id
            and activities.is_touch
            and activities.sent_at <= step_times.reached_at
        order by activities.sent_at desc, activities.activity_id desc
        limit 1
    ) as touch on step_times.step not in ('assigned')
),

final as (
    select
        lead_id,
        client_id,
        date_trunc('month', min(reached_at) filter (where step = 'first_touch'))::date as cohort_month,
        min(reached_at) filter (where step = 'assigned') as assigned_at,
        min(reached_at) filter (where step = 'first_touch') as first_touch_at,
        (array_agg(activity_id) filter (where step = 'first_touch'))[1] as first_touch_activity_id,
        (array_agg(template_id) filter (where step = 'first_touch'))[1] as first_touch_template_id,
        (array_agg(ab_variant) filter (where step = 'first_touch'))[1] as first_touch_variant,
        (array_agg(channel) filter (where step = 'first_touch'))[1] as first_touch_channel,
        {%- for step in steps %}
            min(reached_at) filter (where step = '{{ step }}') as {{ step }}_at,
            (array_agg(activity_id) filter (where step = '{{ step }}'))[1] as {{ step }}_touch_id,
            (array_agg(template_id) filter (where step = '{{ step }}'))[1] as {{ step }}_template_id,
            (array_agg(ab_variant) filter (where step = '{{ step }}'))[1] as {{ step }}_variant,
            (array_agg(channel) filter (where step = '{{ step }}'))[1] as {{ step }}_channel,
        {%- endfor %}
        case
            {%- for step in steps | reverse %}
                when count(*) filter (where step = '{{ step }}') > 0 then '{{ step }}'
            {%- endfor %}
            when count(*) filter (where step = 'first_touch') > 0 then 'first_touch'
            else 'assigned'
        end as furthest_step
    from preceding
    group by lead_id, client_id
)

select * from final
