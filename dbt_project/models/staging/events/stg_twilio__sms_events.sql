{{
  config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    indexes=[
      {'columns': ['load_id']},
      {'columns': ['phone_key']},
      {'columns': ['event_type']},
    ],
    pre_hook=["{{ stash_raw_version('twilio', 'webhook_events') }}", "{{ clear_load_scope('twilio', 'webhook_events') }}"],
    post_hook=["{{ record_staged_refresh('twilio', 'webhook_events') }}", "{{ analyze_if_rebuilt() }}"]
  )
}}
{% set load_scope = staged_load_scope('twilio', 'webhook_events') %}
{#-
    Twilio deliveries (form fields as JSON strings): inbound messages, STOP/START opt-outs and the
    status callbacks of messages the agency sent, which arrive once per transition and possibly
    out of order. Twilio sends no event time: the receiver's receipt time stands in, and
    `RawDlrDoneDate` (YYMMDDhhmm, UTC, minute precision, often absent) is read beside it.
-#}
-- depends_on: {{ ref('stg_dlt__event_loads') }}
with

raw_rows as (
    select * from ({{ raw_event_rows('twilio', 'webhook_events') }}) as raw_rows
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
        coalesce(payload ->> 'MessageSid', payload ->> 'SmsMessageSid', payload ->> 'SmsSid') as message_sid,
        lower(payload ->> 'MessageStatus') as message_status,
        upper(payload ->> 'OptOutType') as opt_out_type,
        payload ->> 'MessageStatus' is not null as is_status_callback,
        -- campaign_id is the agency's number (clients config campaigns.twilio), lead_phone the lead's.
        campaign_id as agency_number,
        lead_phone,
        regexp_replace(lead_phone, '[^0-9]', '', 'g') as lead_phone_digits,
        payload ->> 'Body' as message_text,
        {{ event_int("payload ->> 'NumSegments'") }} as segments,
        {{ event_int("payload ->> 'NumMedia'") }} as media_count,
        nullif(payload ->> 'ErrorCode', '') as error_code,
        {{ event_time(
            "regexp_replace(payload ->> 'RawDlrDoneDate', '^(\\d{2})(\\d{2})(\\d{2})(\\d{2})(\\d{2})$', '20\\1-\\2-\\3 \\4:\\5:00+00')"
        ) }} as carrier_done_at,
        coalesce(occurred_at, received_at) as occurred_at,
        received_at,
        loaded_at,
        load_id
    from source
),

final as (
    select
        delivery_id,
        event_key,
        vendor_event_name,
        case
            when is_status_callback then message_status
            when opt_out_type = 'STOP' then 'opt_out'
            when opt_out_type = 'START' then 'opt_in'
            when opt_out_type is not null then 'opt_' || lower(opt_out_type)
            else 'inbound_message'
        end as event_type,
        is_status_callback as is_outbound,
        message_sid,
        message_status,
        opt_out_type,
        agency_number,
        lead_phone,
        lead_phone_digits,
        coalesce(lead_phone_digits, '') as phone_key,
        message_text,
        segments,
        media_count,
        error_code,
        carrier_done_at,
        occurred_at,
        received_at,
        loaded_at,
        load_id
    from renamed
)

select * from final
