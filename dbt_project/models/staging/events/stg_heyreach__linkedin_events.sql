{{
  config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    indexes=[
      {'columns': ['load_id']},
      {'columns': ['lead_key']},
      {'columns': ['lead_linkedin_key']},
    ],
    pre_hook=["{{ stash_raw_version('heyreach', 'webhook_events') }}", "{{ clear_load_scope('heyreach', 'webhook_events') }}"],
    post_hook=["{{ record_staged_refresh('heyreach', 'webhook_events') }}", "{{ analyze_if_rebuilt() }}"]
  )
}}
{% set load_scope = staged_load_scope('heyreach', 'webhook_events') %}
{#-
    HeyReach (LinkedIn) webhook deliveries in the project's event names. The body value is the
    lower-case form of the API's enum; a delivery without any event type (it happens) is kept as
    `other`. The message a delivery is about is the newest of `recent_messages` (newest first)
    written by the side that acted: the sender for a message or InMail sent, the lead for a reply.
-#}
-- depends_on: {{ ref('stg_dlt__event_loads') }}
with

raw_rows as (
    select * from ({{ raw_event_rows('heyreach', 'webhook_events') }}) as raw_rows
    where {{ in_load_scope('load_id', load_scope) }}
),

source as (
    {{ unpacked_event_rows('raw_rows') }}
),

renamed as (
    select
        delivery_id,
        event_key,
        event_name as vendor_event_name,
        case lower(event_name)
            when 'viewed_profile' then 'profile_view'
            when 'liked_post' then 'post_like'
            when 'follow_sent' then 'follow'
            when 'connection_request_sent' then 'connection_request'
            when 'connection_request_accepted' then 'connection_accepted'
            when 'message_sent' then 'message'
            when 'inmail_sent' then 'inmail'
            when 'message_reply_received' then 'first_reply'
            when 'every_message_reply_received' then 'reply'
            when 'inmail_reply_received' then 'reply'
            when 'campaign_completed' then 'campaign_completed'
            when 'lead_tag_updated' then 'tag_updated'
            else 'other'
        end as event_type,
        campaign_id,
        payload #>> '{campaign,name}' as campaign_name,
        lead_email,
        coalesce({{ email_key('lead_email') }}, '') as lead_key,
        {{ linkedin_key('lead_linkedin_url') }} as lead_linkedin_key,
        payload #>> '{lead,id}' as vendor_lead_id,
        payload #>> '{sender,id}' as sender_id,
        payload ->> 'conversation_id' as conversation_id,
        case lower(payload ->> 'is_inmail')
            when 'true' then true
            when 'false' then false
        end as is_inmail,
        occurred_at,
        received_at,
        loaded_at,
        load_id,
        payload
    from source
),

with_message as (
    select
        renamed.*,
        history.newest_message ->> 'message' as message_text,
        {{ event_time("history.newest_message ->> 'creation_time'") }} as message_at,
        history.agency_messages
    from renamed
    -- One pass over the delivery's history (newest first). The message it is about: the newest
    -- written by the side that acted. A reply delivery's history also holds our side of the
    -- conversation (a person's answer from the inbox included, which no other event reports):
    -- kept for int_inbox_messages.
    left join lateral (
        select
            (array_agg(messages.message order by messages.position) filter (
                where
                coalesce(lower(messages.message ->> 'is_reply') = 'true', false)
                = (renamed.event_type in ('first_reply', 'reply'))
            ))[1] as newest_message,
            jsonb_agg(messages.message order by messages.position) filter (
                where
                renamed.event_type in ('first_reply', 'reply')
                and not coalesce(lower(messages.message ->> 'is_reply') = 'true', false)
            ) as agency_messages
        from
            jsonb_array_elements(
                {{ json_array_or_empty("renamed.payload -> 'recent_messages'") }}
            ) with ordinality as messages (message, position)
        where jsonb_typeof(messages.message) = 'object'
    ) as history on true
),

final as (
    select
        delivery_id,
        event_key,
        vendor_event_name,
        event_type,
        event_type in ('profile_view', 'post_like', 'follow', 'connection_request', 'message', 'inmail')
            as is_outbound,
        campaign_id,
        campaign_name,
        lead_email,
        lead_key,
        lead_linkedin_key,
        vendor_lead_id,
        sender_id,
        conversation_id,
        is_inmail,
        message_text,
        agency_messages,
        coalesce(occurred_at, message_at, received_at) as occurred_at,
        received_at,
        loaded_at,
        load_id
    from with_message
)

select * from final
