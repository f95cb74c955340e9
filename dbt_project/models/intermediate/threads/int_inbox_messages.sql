{{
  config(
    materialized='incremental',
    incremental_strategy='scoped_diff',
    on_schema_change='fail',
    tags=['person_scoped'],
    indexes=[
      {'columns': ['message_key'], 'unique': True},
      {'columns': ['contact_key']},
      {'columns': ['thread_key']},
    ],
    pre_hook=["{{ clear_person_scope(activity_in_person_scope('channel', 'lead_key', 'contact_key')) }}"],
    post_hook=["{{ record_refresh(person_inputs_version()) }}", "{{ analyze_if_rebuilt() }}"]
  )
}}
{#-
    The messages a person at the agency wrote in the vendor's inbox, which no sequence event
    reports (docs/threads.md, "Who answered"): on LinkedIn, the messages of ours that a later
    reply delivery's history (HeyReach recent_messages) holds, written after the lead's first
    reply in that conversation (a HeyReach campaign stops at a reply) and not the text of one
    of the campaign's own messages. The same text in the same conversation is one message, at its
    earliest time.
-#}
-- depends_on: {{ ref('int_engagement_scope') }}, {{ ref('int_engagement_refresh') }}
with

linkedin_events as (
    select * from {{ ref('stg_heyreach__linkedin_events') }}
    where {{ activity_in_person_scope("'linkedin'", 'lead_key', "coalesce(lead_linkedin_key, '')") }}
),

client_campaigns as (
    select * from {{ ref('stg_cis__client_campaigns') }}
),

contact_points as (
    select * from {{ ref('int_lead_contact_points') }}
),

conversations as (
    select
        *,
        -- The person too: a conversation id seen with two profiles is two conversations.
        coalesce(conversation_id, campaign_id) || ':' || coalesce(lead_linkedin_key, '') as conversation
    from linkedin_events
),

first_replies as (
    select
        conversation,
        min(occurred_at) as first_reply_at
    from conversations
    where event_type in ('first_reply', 'reply')
    group by conversation
),

sequence_texts as (
    select distinct
        conversation,
        message_text
    from conversations
    where event_type in ('message', 'inmail') and message_text is not null
),

history as (
    select
        conversations.conversation,
        conversations.campaign_id,
        conversations.conversation_id,
        conversations.lead_key,
        coalesce(conversations.lead_linkedin_key, '') as contact_key,
        conversations.received_at,
        conversations.delivery_id,
        messages.message ->> 'message' as message_text,
        {{ event_time("messages.message ->> 'creation_time'") }} as message_at
    from conversations
    cross join lateral jsonb_array_elements(conversations.agency_messages) as messages (message)
    where conversations.agency_messages is not null
),

inbox as (
    select distinct on (message_key)
        'heyreach-inbox:' || history.conversation || ':' || md5(history.message_text) as message_key,
        history.campaign_id,
        history.conversation_id,
        history.lead_key,
        history.contact_key,
        history.message_text,
        history.message_at
    from history
    inner join first_replies
        on history.conversation = first_replies.conversation
    where
        history.message_text is not null
        and history.message_at > first_replies.first_reply_at
        and not exists (
            select 1 from sequence_texts
            where
                sequence_texts.conversation = history.conversation
                and sequence_texts.message_text = history.message_text
        )
    order by message_key asc, history.message_at asc, history.received_at asc nulls last, history.delivery_id asc
),

final as (
    select
        inbox.message_key,
        'heyreach' as provider,
        'linkedin' as channel,
        client_campaigns.client_id,
        inbox.campaign_id,
        contact_points.lead_id,
        {{ recipient_ref('contact_points.lead_id', "'linkedin'", 'inbox.contact_key', "'message:' || inbox.message_key") }}
            as recipient_ref,
        inbox.lead_key,
        inbox.contact_key,
        inbox.conversation_id as provider_thread_id,
        {{ thread_key("'heyreach'", 'inbox.campaign_id', 'inbox.contact_key') }} as thread_key,
        inbox.message_text as body_text,
        inbox.message_at
    from inbox
    left join client_campaigns
        on client_campaigns.vendor = 'heyreach' and inbox.campaign_id = client_campaigns.campaign_id
    left join contact_points
        on contact_points.contact_kind = 'linkedin' and inbox.contact_key = contact_points.contact_value
)

select * from final
