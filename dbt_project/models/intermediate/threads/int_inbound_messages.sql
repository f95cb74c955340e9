{{
  config(
    materialized='incremental',
    incremental_strategy='scoped_diff',
    on_schema_change='fail',
    tags=['person_scoped'],
    indexes=[
      {'columns': ['message_key'], 'unique': True},
      {'columns': ['lead_key']},
      {'columns': ['contact_key']},
      {'columns': ['thread_key']},
    ],
    pre_hook=["{{ clear_person_scope(activity_in_person_scope('channel', 'lead_key', 'contact_key')) }}"],
    post_hook=["{{ record_refresh(person_inputs_version()) }}", "{{ analyze_if_rebuilt() }}"]
  )
}}
{#-
    Every message a prospect (or a colleague of theirs) sent us, on every channel, one row per
    message (docs/threads.md): Smartlead and Salesforge email replies, HeyReach LinkedIn replies,
    inbound SMS, and replies Smartlead's statistics API reports with no webhook beside them. The
    reply analyzer reads its bodies (`cis replies analyze`); the thread marts number them.
-#}
-- depends_on: {{ ref('int_engagement_scope') }}, {{ ref('int_engagement_refresh') }}
with

smartlead_events as (
    select * from {{ ref('stg_smartlead__email_events') }}
    where event_type = 'reply' and {{ in_person_scope('lead_key', 'email') }}
),

salesforge_events as (
    select * from {{ ref('stg_salesforge__email_events') }}
    where event_type = 'reply' and {{ in_person_scope('lead_key', 'email') }}
),

statistics as (
    select * from {{ ref('stg_smartlead__statistics') }}
    where reply_at is not null and {{ in_person_scope('lead_key', 'email') }}
),

linkedin_events as (
    select * from {{ ref('stg_heyreach__linkedin_events') }}
    where
        event_type in ('first_reply', 'reply')
        and {{ activity_in_person_scope("'linkedin'", 'lead_key', "coalesce(lead_linkedin_key, '')") }}
),

client_campaigns as (
    select * from {{ ref('stg_cis__client_campaigns') }}
),

contact_points as (
    select * from {{ ref('int_lead_contact_points') }}
),

sms_events as (
    select * from {{ ref('stg_twilio__sms_events') }}
    where event_type in ('inbound_message', 'opt_out') and {{ in_person_scope('phone_key', 'phone') }}
),

-- One reply can come in both Smartlead dialects and more than once: its message id is the
-- message, the first delivery received is the one kept.
smartlead_replies as (
    select distinct on (message_key)
        'smartlead:' || coalesce(reply_message_id, event_key) as message_key,
        'smartlead' as provider,
        'email' as channel,
        'webhook' as message_source,
        campaign_id,
        lead_key,
        lead_key as contact_key,
        'email' as contact_kind,
        lead_email as contact_value,
        coalesce({{ email_key('reply_received_from') }}, lead_key) as sender,
        reply_message_id as provider_message_id,
        stats_thread_id as provider_thread_id,
        sequence_number,
        subject,
        reply_text as body_text,
        reply_html as body_html,
        occurred_at as message_at,
        received_at
    from smartlead_events
    where occurred_at is not null
    order by message_key, received_at nulls last, loaded_at, delivery_id
),

salesforge_replies as (
    select distinct on (message_key)
        'salesforge:' || coalesce(email_id, event_key) as message_key,
        'salesforge' as provider,
        'email' as channel,
        'webhook' as message_source,
        campaign_id,
        lead_key,
        lead_key as contact_key,
        'email' as contact_kind,
        lead_email as contact_value,
        lead_key as sender,
        email_id as provider_message_id,
        null as provider_thread_id,
        sequence_number,
        subject,
        content_text as body_text,
        content_html as body_html,
        occurred_at as message_at,
        received_at
    from salesforge_events
    where occurred_at is not null
    order by message_key, received_at nulls last, loaded_at, delivery_id
),

-- Smartlead stamps a lead's reply time on several statistics rows: one reply per campaign, lead
-- and time, and only where no webhook brought that reply (within an hour of it).
statistics_replies as (
    select distinct
        'smartlead-statistics:' || statistics.campaign_id || ':' || statistics.lead_key || ':'
        || to_char(statistics.reply_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as message_key,
        'smartlead' as provider,
        'email' as channel,
        'statistics' as message_source,
        statistics.campaign_id,
        statistics.lead_key,
        statistics.lead_key as contact_key,
        'email' as contact_kind,
        statistics.lead_email as contact_value,
        statistics.lead_key as sender,
        null as provider_message_id,
        null as provider_thread_id,
        null::integer as sequence_number,
        null as subject,
        null as body_text,
        null as body_html,
        statistics.reply_at as message_at,
        null::timestamptz as received_at
    from statistics
    where
        statistics.lead_key <> ''
        and not exists (
            select 1 from smartlead_replies
            where
                smartlead_replies.campaign_id = statistics.campaign_id
                and smartlead_replies.lead_key = statistics.lead_key
                and smartlead_replies.message_at between statistics.reply_at - interval '1 hour'
                and statistics.reply_at + interval '1 hour'
        )
),

-- HeyReach fires MESSAGE_REPLY_RECEIVED on a first reply and EVERY_MESSAGE_REPLY_RECEIVED on
-- each: the same text from the same person in the same conversation is one message, at its
-- earliest time (the person too: a conversation id seen with two profiles keeps both).
linkedin_replies as (
    select distinct on (message_key)
        'heyreach:' || coalesce(conversation_id, campaign_id) || ':' || coalesce(lead_linkedin_key, '')
        || ':' || md5(coalesce(message_text, event_key)) as message_key,
        'heyreach' as provider,
        'linkedin' as channel,
        'webhook' as message_source,
        campaign_id,
        lead_key,
        coalesce(lead_linkedin_key, '') as contact_key,
        'linkedin' as contact_kind,
        lead_linkedin_key as contact_value,
        coalesce(lead_linkedin_key, lead_key) as sender,
        null as provider_message_id,
        conversation_id as provider_thread_id,
        null::integer as sequence_number,
        null as subject,
        message_text as body_text,
        null as body_html,
        occurred_at as message_at,
        received_at
    from linkedin_events
    where occurred_at is not null
    order by message_key, occurred_at, received_at nulls last, delivery_id
),

sms_replies as (
    select distinct on (message_key)
        'twilio:' || coalesce(message_sid, event_key) as message_key,
        'twilio' as provider,
        'sms' as channel,
        'webhook' as message_source,
        agency_number as campaign_id,
        '' as lead_key,
        phone_key as contact_key,
        'phone' as contact_kind,
        lead_phone_digits as contact_value,
        phone_key as sender,
        message_sid as provider_message_id,
        agency_number || ':' || phone_key as provider_thread_id,
        null::integer as sequence_number,
        null as subject,
        message_text as body_text,
        null as body_html,
        occurred_at as message_at,
        received_at
    from sms_events
    where occurred_at is not null
    order by message_key, received_at nulls last, loaded_at, delivery_id
),

unioned as (
    select * from smartlead_replies
    union all
    select * from salesforge_replies
    union all
    select * from statistics_replies
    union all
    select * from linkedin_replies
    union all
    select * from sms_replies
),

final as (
    select
        unioned.message_key,
        unioned.provider,
        unioned.channel,
        unioned.message_source,
        client_campaigns.client_id,
        unioned.campaign_id,
        coalesce(by_email.lead_id, by_contact.lead_id) as lead_id,
        {{ recipient_ref(
            'coalesce(by_email.lead_id, by_contact.lead_id)',
            'unioned.contact_kind',
            'unioned.contact_key',
            "'message:' || unioned.message_key",
        ) }} as recipient_ref,
        unioned.lead_key,
        unioned.contact_key,
        unioned.contact_kind,
        unioned.contact_value,
        unioned.sender,
        unioned.channel = 'email' and unioned.sender <> unioned.lead_key as is_from_colleague,
        unioned.provider_message_id,
        unioned.provider_thread_id,
        {{ thread_key('unioned.provider', 'unioned.campaign_id', 'unioned.contact_key') }} as thread_key,
        unioned.sequence_number,
        unioned.subject,
        unioned.body_text,
        unioned.body_html,
        md5(
            coalesce(unioned.subject, '') || chr(1) || coalesce(unioned.body_text, '') || chr(1)
            || coalesce(unioned.body_html, '')
        ) as body_hash,
        unioned.message_at,
        unioned.received_at
    from unioned
    left join client_campaigns
        on unioned.provider = client_campaigns.vendor and unioned.campaign_id = client_campaigns.campaign_id
    left join contact_points as by_email
        on by_email.contact_kind = 'email' and unioned.lead_key = by_email.contact_value
    left join contact_points as by_contact
        on unioned.contact_kind = by_contact.contact_kind and unioned.contact_value = by_contact.contact_value
)

select * from final
