{{
  config(
    materialized='incremental',
    incremental_strategy='scoped_diff',
    on_schema_change='fail',
    tags=['person_scoped'],
    indexes=[
      {'columns': ['provider', 'message_key'], 'unique': True},
      {'columns': ['lead_key']},
    ],
    pre_hook=["{{ clear_person_scope(in_person_scope('lead_key', 'email')) }}"],
    post_hook=["{{ record_refresh(person_inputs_version()) }}", "{{ analyze_if_rebuilt() }}"]
  )
}}
{#-
    One row per email sent (provider and message_key), from whatever told of it: the vendor's
    sent webhook (the first delivery of it), Smartlead's statistics row for the same stats_id, or
    both. The webhook's rendered copy and time win; the statistics row adds the step and variant
    ids, which webhooks do not carry.
-#}
-- depends_on: {{ ref('int_engagement_scope') }}, {{ ref('int_engagement_refresh') }}
with

deliveries as (
    select * from {{ ref('int_email_deliveries') }}
    where {{ in_person_scope('lead_key', 'email') }}
),

statistics as (
    select * from {{ ref('stg_smartlead__statistics') }}
    where {{ in_person_scope('lead_key', 'email') }}
),

webhook_sends as (
    select distinct on (provider, message_key)
        provider,
        message_key,
        campaign_id,
        lead_email,
        lead_key,
        vendor_lead_id,
        sequence_number,
        nullif(trim(subject), '') as subject,
        sent_html,
        sent_text,
        coalesce(occurred_at, message_sent_at) as sent_at
    from deliveries
    where event_type = 'sent' and message_key is not null
    order by provider, message_key, occurred_at nulls last, received_at nulls last, delivery_id
),

statistics_sends as (
    select
        'smartlead' as provider,
        stats_id as message_key,
        campaign_id,
        lead_email,
        lead_key,
        sequence_number,
        step_id,
        variant_id,
        nullif(trim(email_subject), '') as subject,
        email_html,
        sent_at
    from statistics
    where stats_id is not null
),

merged as (
    select
        coalesce(webhook_sends.provider, statistics_sends.provider) as provider,
        coalesce(webhook_sends.message_key, statistics_sends.message_key) as message_key,
        coalesce(webhook_sends.campaign_id, statistics_sends.campaign_id) as campaign_id,
        coalesce(webhook_sends.lead_email, statistics_sends.lead_email) as lead_email,
        {{ email_key_or_blank('coalesce(webhook_sends.lead_email, statistics_sends.lead_email)') }} as lead_key,
        webhook_sends.vendor_lead_id,
        coalesce(webhook_sends.sequence_number, statistics_sends.sequence_number) as sequence_number,
        statistics_sends.step_id,
        statistics_sends.variant_id,
        coalesce(webhook_sends.subject, statistics_sends.subject) as subject,
        coalesce(webhook_sends.sent_html, statistics_sends.email_html) as body_html,
        webhook_sends.sent_text as body_text,
        coalesce(webhook_sends.sent_at, statistics_sends.sent_at) as sent_at,
        case
            when webhook_sends.message_key is null then 'statistics'
            when statistics_sends.message_key is null then 'webhook'
            else 'both'
        end as known_from
    from webhook_sends
    full outer join statistics_sends
        on
            webhook_sends.provider = statistics_sends.provider
            and webhook_sends.message_key = statistics_sends.message_key
)

select * from merged
