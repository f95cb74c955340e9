{{
  config(
    materialized='incremental',
    incremental_strategy='scoped_diff',
    on_schema_change='fail',
    tags=['person_scoped'],
    indexes=[
      {'columns': ['activity_id'], 'unique': True},
      {'columns': ['client_id']},
      {'columns': ['lead_id']},
    ],
    pre_hook=["{{ clear_activity_scope() }}"],
    post_hook=["{{ record_refresh(person_inputs_version()) }}", "{{ client_row_security('client_id') }}"]
  )
}}
{#-
    What the recipient did with each activity (docs/engagement.md, "Engagement per activity"):
    opens and clicks by people beside the raw ones (machine opens and bot clicks are counted, not
    believed), the reply attributed to the step it answered, bounces and unsubscribes.
-#}
-- depends_on: {{ ref('int_engagement_scope') }}, {{ ref('int_engagement_refresh') }}
-- depends_on: {{ ref('int_recomputed_activities') }}, {{ ref('fct_activities') }}
with

activities as (
    select * from {{ ref('int_activities') }}
    where {{ in_refreshed_rows('(provider, activity_key)', 'provider, activity_key') }}
),

email_events as (
    select * from {{ ref('fct_email_events') }}
    where {{ in_refreshed_rows('(provider, message_key)', 'provider, activity_key') }}
),

replies as (
    select * from {{ ref('int_activity_replies') }}
    where {{ in_refreshed_rows('(provider, activity_key)', 'provider, activity_key') }}
),

statistics as (
    select
        'smartlead' as provider,
        stats_id,
        is_bounced,
        is_unsubscribed
    from {{ ref('stg_smartlead__statistics') }}
    where {{ in_refreshed_rows("('smartlead', stats_id)", 'provider, activity_key') }}
),

email_engagement as (
    select
        provider,
        message_key,
        count(*) filter (where event_type = 'open')::integer as opens,
        count(*) filter (where event_type = 'open' and not is_machine_open)::integer as human_opens,
        min(occurred_at) filter (where event_type = 'open' and not is_machine_open) as first_open_at,
        max(occurred_at) filter (where event_type = 'open' and not is_machine_open) as last_opened_at,
        count(*) filter (where event_type = 'click')::integer as clicks,
        count(*) filter (where event_type = 'click' and not is_bot_click)::integer as human_clicks,
        min(occurred_at) filter (where event_type = 'click' and not is_bot_click) as first_click_at,
        (array_agg(clicked_url order by occurred_at, event_key) filter (
            where event_type = 'click' and not is_bot_click and clicked_url is not null
        ))[1] as clicked_url,
        bool_or(event_type = 'bounce') as bounced,
        (array_agg(bounce_type order by occurred_at, event_key) filter (where event_type = 'bounce'))[1]
            as bounce_type,
        bool_or(event_type = 'unsubscribe') as unsubscribed
    from email_events
    where message_key is not null
    group by provider, message_key
),

activity_replies as (
    select
        provider,
        activity_key,
        min(replied_at) filter (where reply_source <> 'opt_out') as replied_at,
        string_agg(distinct reply_source, ',' order by reply_source) filter (where reply_source <> 'opt_out')
            as reply_sources,
        bool_or(reply_source = 'opt_out') as opted_out
    from replies
    group by provider, activity_key
),

final as (
    select
        {{ cis_uuid(["'activity'", 'activities.provider', 'activities.activity_key']) }} as activity_id,
        activities.provider,
        activities.channel,
        activities.client_id,
        activities.lead_id,
        activities.sent_at,
        coalesce(email_engagement.opens, 0) as opens,
        coalesce(email_engagement.human_opens, 0) as human_opens,
        coalesce(email_engagement.opens, 0) > 0 as email_opened_raw,
        coalesce(email_engagement.human_opens, 0) > 0 as email_opened,
        email_engagement.first_open_at,
        email_engagement.last_opened_at,
        round((extract(epoch from email_engagement.first_open_at - activities.sent_at) / 60)::numeric, 1)
            as time_to_open_minutes,
        coalesce(email_engagement.clicks, 0) as clicks,
        coalesce(email_engagement.human_clicks, 0) as human_clicks,
        coalesce(email_engagement.clicks, 0) > 0 as email_clicked_raw,
        coalesce(email_engagement.human_clicks, 0) > 0 as email_clicked,
        email_engagement.first_click_at,
        round((extract(epoch from email_engagement.first_click_at - activities.sent_at) / 60)::numeric, 1)
            as time_to_click_minutes,
        email_engagement.clicked_url,
        activity_replies.replied_at is not null as replied,
        activity_replies.replied_at,
        round((extract(epoch from activity_replies.replied_at - activities.sent_at) / 60)::numeric, 1)
            as time_to_reply_minutes,
        activity_replies.reply_sources,
        coalesce(email_engagement.bounced, false)
        or coalesce(statistics.is_bounced, false)
        or coalesce(activities.delivery_status = 'undelivered', false) as bounced,
        case
            when email_engagement.bounce_type is not null then email_engagement.bounce_type
            when statistics.is_bounced then 'unknown'
        end as bounce_type,
        coalesce(email_engagement.unsubscribed, false)
        or coalesce(statistics.is_unsubscribed, false)
        or coalesce(activity_replies.opted_out, false) as unsubscribed
    from activities
    left join email_engagement
        on
            activities.channel = 'email'
            and activities.provider = email_engagement.provider
            and activities.activity_key = email_engagement.message_key
    left join activity_replies
        on activities.provider = activity_replies.provider and activities.activity_key = activity_replies.activity_key
    left join statistics
        on activities.provider = statistics.provider and activities.activity_key = statistics.stats_id
)

select * from final
