{{
  config(
    materialized='incremental',
    incremental_strategy='scoped_diff',
    on_schema_change='fail',
    tags=['person_scoped'],
    indexes=[
      {'columns': ['lead_key']},
      {'columns': ['provider', 'message_key']},
      {'columns': ['provider', 'campaign_id', 'event_type']},
    ],
    pre_hook=["{{ clear_person_scope(in_person_scope('lead_key', 'email')) }}"],
    post_hook=["{{ record_refresh(person_inputs_version()) }}", "{{ analyze_if_rebuilt() }}"]
  )
}}
{#-
    Every delivery of an email event from both vendors (and both Smartlead dialects) in one
    shape, each with the email it is about (`message_key`): Smartlead's `stats_id`; for dialect B,
    which carries none, the statistics row of the same campaign, lead and step, else
    `lead:<campaign>:<lead id>:<step>`; Salesforge's `emailId`. Duplicates are still separate
    rows here.
-#}
-- depends_on: {{ ref('int_engagement_scope') }}, {{ ref('int_engagement_refresh') }}
with

smartlead as (
    select * from {{ ref('stg_smartlead__email_events') }}
    where {{ in_person_scope('lead_key', 'email') }}
),

salesforge as (
    select * from {{ ref('stg_salesforge__email_events') }}
    where {{ in_person_scope('lead_key', 'email') }}
),

stats_by_step as (
    select * from {{ ref('int_smartlead_stats_by_step') }}
    where {{ in_person_scope('lead_key', 'email') }}
),

smartlead_deliveries as (
    select
        'smartlead' as provider,
        smartlead.delivery_id,
        smartlead.event_key,
        smartlead.vendor_event_name,
        smartlead.dialect,
        smartlead.event_type,
        smartlead.campaign_id,
        smartlead.lead_email,
        smartlead.lead_key,
        smartlead.vendor_lead_id,
        coalesce(
            smartlead.stats_id,
            stats_by_step.stats_id,
            'lead:' || smartlead.campaign_id || ':' || smartlead.vendor_lead_id || ':' || smartlead.sequence_number
        ) as message_key,
        smartlead.sequence_number,
        smartlead.subject,
        smartlead.sent_html,
        smartlead.sent_text,
        smartlead.clicked_url,
        smartlead.bounce_text,
        smartlead.message_sent_at,
        smartlead.user_agent,
        smartlead.ip_address,
        smartlead.occurred_at,
        smartlead.received_at,
        smartlead.loaded_at,
        smartlead.load_id
    from smartlead
    left join stats_by_step
        on
            smartlead.stats_id is null
            and smartlead.campaign_id = stats_by_step.campaign_id
            and smartlead.lead_email = stats_by_step.lead_email
            and smartlead.sequence_number = stats_by_step.sequence_number
    where smartlead.event_type in ('sent', 'open', 'click', 'reply', 'bounce', 'unsubscribe')
),

salesforge_deliveries as (
    select
        'salesforge' as provider,
        delivery_id,
        event_key,
        vendor_event_name,
        null as dialect,
        event_type,
        campaign_id,
        lead_email,
        lead_key,
        vendor_lead_id,
        email_id as message_key,
        sequence_number,
        subject,
        case when event_type = 'sent' then content_html end as sent_html,
        case when event_type = 'sent' then content_text end as sent_text,
        clicked_url,
        case when event_type = 'bounce' then content_text end as bounce_text,
        null::timestamptz as message_sent_at,
        user_agent,
        ip_address,
        occurred_at,
        received_at,
        loaded_at,
        load_id
    from salesforge
    where event_type in ('sent', 'open', 'click', 'reply', 'bounce', 'unsubscribe')
),

unioned as (
    select * from smartlead_deliveries
    union all
    select * from salesforge_deliveries
)

select * from unioned
