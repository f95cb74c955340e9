{{
  config(
    materialized='incremental',
    incremental_strategy='scoped_diff',
    on_schema_change='fail',
    tags=['person_scoped'],
    indexes=[
      {'columns': ['thread_message_id'], 'unique': True},
      {'columns': ['thread_id', 'position_in_thread']},
      {'columns': ['conversation_id']},
      {'columns': ['client_id']},
      {'columns': ['lead_id']},
      {'columns': ['lead_key']},
      {'columns': ['contact_key']},
      {'columns': ['activity_id']},
    ],
    pre_hook=["{{ clear_person_scope(activity_in_person_scope('channel', 'lead_key', 'contact_key')) }}"],
    post_hook=["{{ record_refresh(person_inputs_version()) }}", "{{ client_row_security('client_id') }}"]
  )
}}
{#-
    Every message each way on every channel, in thread order (docs/threads.md): our sequence
    messages (int_activities) and the prospects' replies (int_inbound_messages). A thread is the
    campaign and the person written to; a conversation is the lead (or unknown person) and the
    client, across channels. The new text of a reply is set apart from its quoted history by the
    reply analyzer (cis.reply_analyses); until it has read a message, both are null.
-#}
-- depends_on: {{ ref('int_engagement_scope') }}, {{ ref('int_engagement_refresh') }}
with

activities as (
    select * from {{ ref('int_activities') }}
    where
        activity_type in ('email', 'sms', 'connection_request', 'message', 'inmail')
        and sent_at is not null
        and {{ activity_in_person_scope('channel', 'lead_key', 'contact_key') }}
),

inbound_messages as (
    select * from {{ ref('int_inbound_messages') }}
    where {{ activity_in_person_scope('channel', 'lead_key', 'contact_key') }}
),

inbox_messages as (
    select * from {{ ref('int_inbox_messages') }}
    where {{ activity_in_person_scope('channel', 'lead_key', 'contact_key') }}
),

activity_replies as (
    select * from {{ ref('int_activity_replies') }}
    where {{ activity_in_person_scope('channel', 'lead_key', 'contact_key') }}
),

reply_analyses as (
    select * from {{ ref('stg_cis__reply_analyses') }}
),

outbound as (
    select
        'outbound' as direction,
        'activity:' || provider || ':' || activity_key as message_key,
        provider,
        channel,
        'sequence' as message_source,
        client_id,
        campaign_id,
        lead_id,
        recipient_ref,
        lead_key,
        contact_key,
        null as sender,
        false as is_from_colleague,
        {{ cis_uuid(["'activity'", 'provider', 'activity_key']) }} as activity_id,
        activity_key as provider_message_id,
        null as provider_thread_id,
        {{ thread_key('provider', 'campaign_id', 'contact_key') }} as thread_key,
        sequence_number,
        subject,
        full_message_body as body_text,
        full_message_body as new_text,
        null as quoted_text,
        body_html,
        sent_at as message_at
    from activities
),

-- The step a reply answered, as int_activity_replies attributes it (the webhook's step, else
-- the last send before it).
inbound as (
    select
        'inbound' as direction,
        inbound_messages.message_key,
        inbound_messages.provider,
        inbound_messages.channel,
        inbound_messages.message_source,
        inbound_messages.client_id,
        inbound_messages.campaign_id,
        inbound_messages.lead_id,
        inbound_messages.recipient_ref,
        inbound_messages.lead_key,
        inbound_messages.contact_key,
        inbound_messages.sender,
        inbound_messages.is_from_colleague,
        answered.activity_id,
        inbound_messages.provider_message_id,
        inbound_messages.provider_thread_id,
        inbound_messages.thread_key,
        inbound_messages.sequence_number,
        inbound_messages.subject,
        inbound_messages.body_text,
        reply_analyses.new_text,
        reply_analyses.quoted_text,
        inbound_messages.body_html,
        inbound_messages.message_at
    from inbound_messages
    left join reply_analyses
        on
            inbound_messages.message_key = reply_analyses.message_key
            and inbound_messages.body_hash = reply_analyses.body_hash
    left join lateral (
        select {{ cis_uuid(["'activity'", 'activity_replies.provider', 'activity_replies.activity_key']) }} as activity_id
        from activity_replies
        where
            activity_replies.provider = inbound_messages.provider
            and activity_replies.channel = inbound_messages.channel
            and activity_replies.contact_key = inbound_messages.contact_key
            and activity_replies.replied_at = inbound_messages.message_at
        order by activity_replies.activity_key
        limit 1
    ) as answered on true
),

-- Ours, written by a person in the vendor's inbox (no sequence event reports them).
inbox as (
    select
        'outbound' as direction,
        message_key,
        provider,
        channel,
        'inbox' as message_source,
        client_id,
        campaign_id,
        lead_id,
        recipient_ref,
        lead_key,
        contact_key,
        null as sender,
        false as is_from_colleague,
        null::uuid as activity_id,
        null as provider_message_id,
        provider_thread_id,
        thread_key,
        null::integer as sequence_number,
        null as subject,
        body_text,
        body_text as new_text,
        null as quoted_text,
        null as body_html,
        message_at
    from inbox_messages
),

messages as (
    select * from outbound
    union all
    select * from inbound
    union all
    select * from inbox
),

final as (
    select
        {{ cis_uuid(["'thread-message'", 'message_key']) }} as thread_message_id,
        {{ cis_uuid(["'thread'", 'thread_key']) }} as thread_id,
        thread_key,
        {{ cis_uuid(["'conversation'", 'client_id', 'recipient_ref']) }} as conversation_id,
        row_number() over (
            partition by thread_key
            order by message_at asc, direction desc, message_key asc
        )::integer as position_in_thread,
        direction,
        channel,
        provider,
        message_source,
        client_id,
        campaign_id,
        lead_id,
        recipient_ref,
        lead_key,
        contact_key,
        sender,
        is_from_colleague,
        activity_id,
        message_key,
        provider_message_id,
        provider_thread_id,
        sequence_number,
        subject,
        body_text,
        new_text,
        quoted_text,
        body_html,
        message_at
    from messages
)

select * from final
