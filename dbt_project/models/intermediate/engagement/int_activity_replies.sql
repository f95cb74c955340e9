{{
  config(
    materialized='incremental',
    incremental_strategy='scoped_diff',
    on_schema_change='fail',
    tags=['person_scoped'],
    indexes=[
      {'columns': ['provider', 'activity_key']},
      {'columns': ['lead_key']},
      {'columns': ['contact_key']},
    ],
    pre_hook=["{{ clear_person_scope(activity_in_person_scope('channel', 'lead_key', 'contact_key')) }}"],
    post_hook=["{{ record_refresh(person_inputs_version()) }}", "{{ analyze_if_rebuilt() }}"]
  )
}}
{#-
    Each reply, opt-out or unsubscribe-by-text with the activity it answered (docs/engagement.md,
    "Reply attribution"). A reply belongs to the step it answered: the webhook's step number when
    it carries one, else the last send to the same person in the same campaign at or before the
    reply. Smartlead's statistics API stamps a lead's reply_time on earlier rows of the lead too,
    so a statistics reply is one reply per campaign, lead and time, attributed the same way, never
    a reply to every row that carries it.
-#}
-- depends_on: {{ ref('int_engagement_scope') }}, {{ ref('int_engagement_refresh') }}
with

activities as (
    select * from {{ ref('int_activities') }}
    where {{ activity_in_person_scope('channel', 'lead_key', 'contact_key') }}
),

email_events as (
    select * from {{ ref('fct_email_events') }}
    where event_type = 'reply' and {{ in_person_scope(email_key_or_blank('lead_email'), 'email') }}
),

statistics as (
    select * from {{ ref('stg_smartlead__statistics') }}
    where {{ in_person_scope('lead_key', 'email') }}
),

linkedin_events as (
    select * from {{ ref('stg_heyreach__linkedin_events') }}
    where {{ activity_in_person_scope("'linkedin'", 'lead_key', "coalesce(lead_linkedin_key, '')") }}
),

sms_events as (
    select * from {{ ref('stg_twilio__sms_events') }}
    where {{ in_person_scope('phone_key', 'phone') }}
),

-- A duplicate delivery is the same reply: the first delivery's time counts.
linkedin_replies as (
    select distinct on (event_key)
        'heyreach' as provider,
        'linkedin' as channel,
        lead_key,
        coalesce(lead_linkedin_key, '') as contact_key,
        campaign_id,
        lead_linkedin_key as contact_value,
        null::integer as sequence_number,
        occurred_at as replied_at,
        'webhook' as reply_source
    from linkedin_events
    where event_type in ('first_reply', 'reply')
    order by event_key, received_at nulls last, loaded_at, delivery_id
),

sms_replies as (
    select distinct on (event_key)
        'twilio' as provider,
        'sms' as channel,
        '' as lead_key,
        phone_key as contact_key,
        agency_number as campaign_id,
        lead_phone_digits as contact_value,
        null::integer as sequence_number,
        occurred_at as replied_at,
        case when event_type = 'opt_out' then 'opt_out' else 'webhook' end as reply_source
    from sms_events
    where event_type in ('inbound_message', 'opt_out')
    order by event_key, received_at nulls last, loaded_at, delivery_id
),

replies as (
    select
        provider,
        'email' as channel,
        {{ email_key_or_blank('lead_email') }} as lead_key,
        {{ email_key_or_blank('lead_email') }} as contact_key,
        campaign_id,
        lead_email as contact_value,
        sequence_number,
        occurred_at as replied_at,
        'webhook' as reply_source
    from email_events
    where event_type = 'reply' and occurred_at is not null
    union all
    select distinct
        'smartlead' as provider,
        'email' as channel,
        lead_key,
        lead_key as contact_key,
        campaign_id,
        lead_email as contact_value,
        null::integer as sequence_number,
        reply_at as replied_at,
        'statistics' as reply_source
    from statistics
    where reply_at is not null
    union all
    select * from linkedin_replies
    union all
    select * from sms_replies
),

touches as (
    select
        activity_key,
        provider,
        channel,
        lead_key,
        contact_key,
        campaign_id,
        contact_value,
        sequence_number,
        sent_at
    from activities
    where activity_type in ('email', 'sms', 'connection_request', 'message', 'inmail') and sent_at is not null
),

by_step as (
    select
        replies.*,
        touches.activity_key
    from replies
    inner join touches
        on
            replies.provider = touches.provider
            and replies.campaign_id = touches.campaign_id
            and replies.contact_value = touches.contact_value
            and replies.sequence_number = touches.sequence_number
),

unmatched as (
    select replies.*
    from replies
    where not exists (
        select 1 from by_step
        where
            by_step.provider = replies.provider
            and by_step.campaign_id = replies.campaign_id
            and by_step.contact_value = replies.contact_value
            and by_step.sequence_number = replies.sequence_number
            and by_step.replied_at = replies.replied_at
    )
),

-- Sends and replies of one person in one campaign on one timeline: each reply falls in the
-- island that the last send before it opened (sends sort before replies at the same moment).
timeline as (
    select
        provider,
        channel,
        lead_key,
        contact_key,
        campaign_id,
        contact_value,
        sent_at as at,
        0 as kind_order,
        activity_key,
        null::timestamptz as replied_at,
        null as reply_source
    from touches
    union all
    select
        provider,
        channel,
        lead_key,
        contact_key,
        campaign_id,
        contact_value,
        replied_at as at,
        1 as kind_order,
        null as activity_key,
        replied_at,
        reply_source
    from unmatched
),

islands as (
    select
        *,
        count(activity_key) over (
            partition by provider, campaign_id, contact_value
            order by at, kind_order
            rows between unbounded preceding and current row
        ) as island
    from timeline
),

by_time as (
    select
        replies.provider,
        replies.channel,
        replies.lead_key,
        replies.contact_key,
        replies.campaign_id,
        replies.contact_value,
        replies.replied_at,
        replies.reply_source,
        sends.activity_key
    from islands as replies
    inner join islands as sends
        on
            replies.provider = sends.provider
            and replies.campaign_id = sends.campaign_id
            and replies.contact_value = sends.contact_value
            and replies.island = sends.island
            and sends.kind_order = 0
    where replies.kind_order = 1 and replies.island > 0
),

attributed as (
    select
        provider,
        activity_key,
        replied_at,
        reply_source,
        channel,
        lead_key,
        contact_key
    from by_step
    union all
    select
        provider,
        activity_key,
        replied_at,
        reply_source,
        channel,
        lead_key,
        contact_key
    from by_time
)

select * from attributed
