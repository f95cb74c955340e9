{{
  config(
    materialized='incremental',
    incremental_strategy='scoped_diff',
    on_schema_change='fail',
    tags=['person_scoped'],
    indexes=[
      {'columns': ['contact_event_id'], 'unique': True},
      {'columns': ['lead_id', 'occurred_at']},
      {'columns': ['client_id']},
    ],
    pre_hook=["{{ clear_person_scope(in_contact_event_scope('lead_id')) }}"],
    post_hook=["{{ record_refresh(person_inputs_version()) }}", "{{ client_row_security('client_id') }}"]
  )
}}
{#-
    Every contact event the vendors report, per pool lead, in the shape of cis.contact_events:
    what the validator's touch rules read beside the hand-entered events (docs/engagement.md,
    "Feedback into the pool"). Touches (fct_activities), replies (attributed as in
    fct_activity_engagement), hard bounces, unsubscribes and do-not-contact marks, and the
    replies the reply analyzer read as a no (threads.fct_replies).
-#}
-- depends_on: {{ ref('int_engagement_scope') }}, {{ ref('int_engagement_refresh') }}
-- depends_on: {{ ref('int_activities') }}, {{ ref('int_recomputed_activities') }}
with

activities as (
    select * from {{ ref('fct_activities') }}
    where {{ in_contact_event_scope('lead_id') }}
),

replies as (
    select * from {{ ref('int_activity_replies') }}
),

signals as (
    select * from {{ ref('int_engagement_contact_signals') }}
),

contact_points as (
    select * from {{ ref('int_lead_contact_points') }}
),

thread_replies as (
    select * from {{ ref('fct_replies') }}
    where rejection_reason is not null and lead_id is not null and {{ in_contact_event_scope('lead_id') }}
),

-- The signals of the leads recomputed, found through their addresses (an index probe into each
-- staging table the signals come from, not a read of every event).
scoped_signals as (
    select signals.*
    from contact_points
    inner join signals
        on contact_points.contact_value = signals.contact_key
    where {{ in_contact_event_scope('contact_points.lead_id') }}
),

touches as (
    select
        provider,
        activity_key as source_key,
        lead_id,
        client_id,
        channel,
        'touch' as event_type,
        sent_at as occurred_at
    from activities
    where is_touch and lead_id is not null and sent_at is not null
),

lead_replies as (
    select
        replies.provider,
        replies.activity_key || '@' || replies.replied_at::text as source_key,
        activities.lead_id,
        activities.client_id,
        activities.channel,
        'reply' as event_type,
        replies.replied_at as occurred_at
    from replies
    inner join activities
        on replies.provider = activities.provider and replies.activity_key = activities.activity_key
    -- An SMS STOP is an unsubscribe, and comes in with the signals below.
    where activities.lead_id is not null and replies.reply_source <> 'opt_out'
),

lead_signals as (
    select distinct
        signals.provider,
        coalesce(signals.email, signals.phone_digits) || '@' || coalesce(signals.occurred_at::text, '')
            as source_key,
        coalesce(by_email.lead_id, by_phone.lead_id) as lead_id,
        signals.client_id,
        signals.channel,
        signals.event_type,
        signals.occurred_at
    from scoped_signals as signals
    left join contact_points as by_email
        on by_email.contact_kind = 'email' and signals.email = by_email.contact_value
    left join contact_points as by_phone
        on by_phone.contact_kind = 'phone' and signals.phone_digits = by_phone.contact_value
    where
        coalesce(by_email.lead_id, by_phone.lead_id) is not null
        and signals.occurred_at is not null
),

-- A reply that says no (the reply analyzer's reading): an opt-out is an unsubscribe, any other
-- no but a wrong person's starts the validator's not-interested cooling period.
lead_rejections as (
    select
        provider,
        reply_id::text as source_key,
        lead_id,
        client_id,
        channel,
        case when rejection_reason = 'do_not_contact' then 'unsubscribe' else 'not_interested' end as event_type,
        replied_at as occurred_at
    from thread_replies
    where rejection_reason <> 'wrong_contact'
),

unioned as (
    select * from touches
    union all
    select * from lead_rejections
    union all
    select * from lead_replies
    union all
    select * from lead_signals
),

final as (
    select distinct on (provider, event_type, source_key, lead_id)
        {{ cis_uuid(["'contact_event'", 'provider', 'event_type', 'source_key', 'lead_id::text']) }}
            as contact_event_id,
        provider,
        lead_id,
        client_id,
        channel,
        event_type,
        occurred_at
    from unioned
    order by provider, event_type, source_key, lead_id, occurred_at
)

select * from final
