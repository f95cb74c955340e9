{{
  config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    indexes=[
      {'columns': ['load_id']},
      {'columns': ['lead_key']},
      {'columns': ['campaign_id']},
      {'columns': ['event_type']},
    ],
    pre_hook=["{{ stash_raw_version('smartlead', 'webhook_events') }}", "{{ clear_load_scope('smartlead', 'webhook_events') }}"],
    post_hook=["{{ record_staged_refresh('smartlead', 'webhook_events') }}", "{{ analyze_if_rebuilt() }}"]
  )
}}
{% set load_scope = staged_load_scope('smartlead', 'webhook_events') %}
{#-
    Smartlead webhook deliveries in one shape, whichever of the two documented dialects sent
    them: dialect A names the event in `event_type` (EMAIL_OPEN ...) with `event_timestamp`,
    dialect B in `event` (EMAIL_OPENED ...) with `timestamp` and a nested `lead{}`.
-#}
-- depends_on: {{ ref('stg_dlt__event_loads') }}
with

raw_rows as (
    select * from ({{ raw_event_rows('smartlead', 'webhook_events') }}) as raw_rows
    where {{ in_load_scope('load_id', load_scope) }}
),

source as (
    {{ unpacked_event_rows('raw_rows') }}
),

renamed as (
    select
        delivery_id,
        event_key,
        case
            when payload ? 'event_type' then 'A'
            when payload ? 'event' then 'B'
        end as dialect,
        event_name as vendor_event_name,
        case upper(event_name)
            when 'EMAIL_SENT' then 'sent'
            when 'EMAIL_OPEN' then 'open'
            when 'EMAIL_OPENED' then 'open'
            when 'EMAIL_LINK_CLICK' then 'click'
            when 'EMAIL_CLICKED' then 'click'
            when 'EMAIL_REPLY' then 'reply'
            when 'EMAIL_REPLIED' then 'reply'
            when 'EMAIL_BOUNCE' then 'bounce'
            when 'EMAIL_BOUNCED' then 'bounce'
            when 'LEAD_UNSUBSCRIBED' then 'unsubscribe'
            when 'EMAIL_UNSUBSCRIBED' then 'unsubscribe'
            when 'LEAD_CATEGORY_UPDATED' then 'category_updated'
            else 'other'
        end as event_type,
        campaign_id,
        lead_email,
        coalesce({{ email_key('lead_email') }}, '') as lead_key,
        coalesce(payload ->> 'sl_email_lead_id', payload ->> 'lead_id') as vendor_lead_id,
        payload ->> 'stats_id' as stats_id,
        payload ->> 'stats_thread_id' as stats_thread_id,
        {{ event_int("payload ->> 'sequence_number'") }} as sequence_number,
        coalesce(
            payload #>> '{sent_message,message_id}',
            payload #>> '{email,message_id}',
            case when upper(event_name) in ('EMAIL_SENT', 'EMAIL_BOUNCE') then payload ->> 'message_id' end
        ) as sent_message_id,
        {{ event_time("payload #>> '{sent_message,time}'") }} as message_sent_at,
        coalesce(
            payload #>> '{reply_message,message_id}',
            payload #>> '{reply,message_id}',
            case when upper(event_name) = 'EMAIL_REPLY' then payload ->> 'message_id' end
        ) as reply_message_id,
        coalesce(payload ->> 'subject', payload #>> '{email,subject}') as subject,
        coalesce(payload #>> '{sent_message,html}', payload ->> 'sent_message_body') as sent_html,
        payload #>> '{sent_message,text}' as sent_text,
        coalesce(payload #>> '{reply_message,html}', payload ->> 'reply_body') as reply_html,
        coalesce(payload #>> '{reply_message,text}', payload #>> '{reply,body}') as reply_text,
        coalesce(
            payload ->> 'link_clicked',
            payload #>> '{link,url}',
            payload #>> '{link_details,url}'
        ) as clicked_url,
        case lower(payload ->> 'is_sender_originated_bounce')
            when 'true' then true
            when 'false' then false
        end as is_sender_originated_bounce,
        coalesce(payload #>> '{lead_category,new_name}', payload ->> 'category') as lead_category,
        payload #>> '{leadCorrespondence,replyReceivedFrom}' as reply_received_from,
        coalesce(payload #>> '{bounce_message,text}', payload ->> 'bounce_reply_email_preview') as bounce_text,
        coalesce(payload ->> 'user_agent', payload ->> 'userAgent') as user_agent,
        coalesce(payload ->> 'ip_address', payload ->> 'ip') as ip_address,
        occurred_at,
        received_at,
        loaded_at,
        load_id,
        source_file,
        source_line
    from source
)

select * from renamed
