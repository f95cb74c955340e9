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
    pre_hook=["{{ stash_raw_version('salesforge', 'webhook_events') }}", "{{ clear_load_scope('salesforge', 'webhook_events') }}"],
    post_hook=["{{ record_staged_refresh('salesforge', 'webhook_events') }}", "{{ analyze_if_rebuilt() }}"]
  )
}}
{% set load_scope = staged_load_scope('salesforge', 'webhook_events') %}
{#-
    Salesforge webhook deliveries: `webhookInfo{type, eventTime}`, the email in `sequenceEmail`
    (for a reply, the reply itself), the step in `emailSentData.step`, the contact in `contact`.
-#}
-- depends_on: {{ ref('stg_dlt__event_loads') }}
with

raw_rows as (
    select * from ({{ raw_event_rows('salesforge', 'webhook_events') }}) as raw_rows
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
            when 'email_sent' then 'sent'
            when 'email_opened' then 'open'
            when 'link_clicked' then 'click'
            when 'email_replied' then 'reply'
            when 'email_bounced' then 'bounce'
            when 'contact_unsubscribed' then 'unsubscribe'
            when 'dnc_added' then 'do_not_contact'
            when 'label_changed' then 'category_updated'
            when 'positive_reply' then 'reply_classified'
            when 'negative_reply' then 'reply_classified'
            when 'linkedin_replied' then 'linkedin_reply'
            else 'other'
        end as event_type,
        campaign_id,
        lead_email,
        coalesce({{ email_key('lead_email') }}, '') as lead_key,
        payload #>> '{contact,id}' as vendor_lead_id,
        payload #>> '{sequenceEmail,emailId}' as email_id,
        {{ event_int("payload #>> '{emailSentData,step}'") }} as sequence_number,
        payload #>> '{sequenceEmail,subject}' as subject,
        payload #>> '{sequenceEmail,content,html}' as content_html,
        payload #>> '{sequenceEmail,content,text}' as content_text,
        coalesce(payload #>> '{link,url}', payload ->> 'linkUrl', payload ->> 'url') as clicked_url,
        payload #>> '{label,name}' as label_name,
        coalesce(payload ->> 'userAgent', payload ->> 'user_agent') as user_agent,
        coalesce(payload ->> 'ipAddress', payload ->> 'ip_address', payload ->> 'ip') as ip_address,
        occurred_at,
        received_at,
        loaded_at,
        load_id,
        source_file,
        source_line
    from source
)

select * from renamed
