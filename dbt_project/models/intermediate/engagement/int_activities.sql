{{
  config(
    materialized='incremental',
    incremental_strategy='scoped_diff',
    diff_ignore=['refreshed_at'],
    on_schema_change='fail',
    tags=['person_scoped'],
    indexes=[
      {'columns': ['provider', 'activity_key'], 'unique': True},
      {'columns': ['provider', 'campaign_id', 'contact_value']},
      {'columns': ['lead_key']},
      {'columns': ['contact_key']},
      {'columns': ['recipient_ref']},
      {'columns': ['refreshed_at']},
    ],
    pre_hook=["{{ clear_person_scope(activity_in_person_scope('channel', 'lead_key', 'contact_key')) }}"],
    post_hook=["{{ record_refresh(person_inputs_version()) }}", "{{ analyze_if_rebuilt() }}", "{{ analyze_refreshed_at() }}"]
  )
}}
{#-
    Every outbound action on every channel, one row each, with its lead, client, template and
    copy: emails (int_email_sends), LinkedIn actions (HeyReach: profile views, likes, follows,
    connection requests, messages, InMails) and SMS (Twilio status callbacks, one row per
    message). Whether an action is a touch, and the numbering, is fct_activities' work. Each
    row is stamped with the build that last changed it (`refreshed_at`): the per-recipient models
    recompute the people in scope and the rows stamped since they last ran (docs/engagement.md,
    "Incremental builds").
-#}
-- depends_on: {{ ref('int_engagement_scope') }}, {{ ref('int_engagement_refresh') }}
with

email_sends as (
    select * from {{ ref('int_email_sends') }}
    where {{ in_person_scope('lead_key', 'email') }}
),

linkedin_events as (
    select * from {{ ref('stg_heyreach__linkedin_events') }}
    where {{ activity_in_person_scope("'linkedin'", 'lead_key', "coalesce(lead_linkedin_key, '')") }}
),

sms_events as (
    select * from {{ ref('stg_twilio__sms_events') }}
    where {{ in_person_scope('phone_key', 'phone') }}
),

templates as (
    select * from {{ ref('dim_templates') }}
),

client_campaigns as (
    select * from {{ ref('stg_cis__client_campaigns') }}
),

contact_points as (
    select * from {{ ref('int_lead_contact_points') }}
),

salesforge_variants as (
    select * from {{ ref('int_salesforge_send_variants') }}
    where {{ in_person_scope('lead_key', 'email') }}
),

-- A step whose template is not known by id (Salesforge webhooks, Smartlead sends without a
-- statistics row) still has one when the step has exactly one live template.
single_template_steps as (
    select
        provider,
        campaign_id,
        channel_step_number,
        min(template_id::text)::uuid as template_id
    from templates
    where channel = 'email' and not coalesce(is_deleted, false)
    group by provider, campaign_id, channel_step_number
    having count(*) = 1
),

emails as (
    select
        email_sends.message_key as activity_key,
        email_sends.provider,
        'email' as channel,
        'email' as activity_type,
        email_sends.campaign_id,
        email_sends.lead_email,
        email_sends.lead_key,
        'email' as contact_kind,
        email_sends.lead_email as contact_value,
        email_sends.lead_key as contact_key,
        email_sends.vendor_lead_id,
        email_sends.sequence_number,
        email_sends.step_id,
        coalesce(email_sends.variant_id, by_copy.variant_id) as variant_id,
        coalesce(by_id.template_id, by_copy.template_id, by_step.template_id) as template_id,
        email_sends.subject,
        email_sends.body_html,
        coalesce(nullif(trim(email_sends.body_text), ''), nullif({{ html_to_text('email_sends.body_html') }}, ''))
            as full_message_body,
        email_sends.sent_at,
        null as delivery_status,
        null as error_code,
        email_sends.known_from
    from email_sends
    left join templates as by_id
        on
            email_sends.provider = by_id.provider
            and email_sends.campaign_id = by_id.campaign_id
            and email_sends.step_id = by_id.step_id
            and coalesce(email_sends.variant_id, '') = coalesce(by_id.variant_id, '')
    left join salesforge_variants as by_copy
        on email_sends.provider = by_copy.provider and email_sends.message_key = by_copy.message_key
    left join single_template_steps as by_step
        on
            email_sends.provider = by_step.provider
            and email_sends.campaign_id = by_step.campaign_id
            and email_sends.sequence_number = by_step.channel_step_number
),

linkedin_actions as (
    select distinct on (event_key)
        event_key as activity_key,
        'heyreach' as provider,
        'linkedin' as channel,
        event_type as activity_type,
        campaign_id,
        lead_email,
        lead_key,
        'linkedin' as contact_kind,
        lead_linkedin_key as contact_value,
        coalesce(lead_linkedin_key, '') as contact_key,
        vendor_lead_id,
        null::integer as sequence_number,
        null as step_id,
        null as variant_id,
        null::uuid as template_id,
        null as subject,
        null as body_html,
        message_text as full_message_body,
        occurred_at as sent_at,
        null as delivery_status,
        null as error_code,
        'webhook' as known_from
    from linkedin_events
    where is_outbound
    order by event_key, received_at nulls last, loaded_at, delivery_id
),

-- Twilio calls back once per status change, possibly out of order: the message was sent at the
-- first callback received, and its outcome is the furthest status reached.
sms_messages as (
    select
        message_sid as activity_key,
        'twilio' as provider,
        'sms' as channel,
        'sms' as activity_type,
        min(agency_number) as campaign_id,
        null as lead_email,
        '' as lead_key,
        'phone' as contact_kind,
        min(lead_phone_digits) as contact_value,
        coalesce(min(lead_phone_digits), '') as contact_key,
        null as vendor_lead_id,
        null::integer as sequence_number,
        null as step_id,
        null as variant_id,
        null::uuid as template_id,
        null as subject,
        null as body_html,
        min(message_text) as full_message_body,
        min(occurred_at) as sent_at,
        case
            when bool_or(message_status in ('undelivered', 'failed')) then 'undelivered'
            when bool_or(message_status in ('delivered', 'read')) then 'delivered'
            when bool_or(message_status = 'sent') then 'sent'
            else min(message_status)
        end as delivery_status,
        max(error_code) as error_code,
        'webhook' as known_from
    from sms_events
    where is_outbound and message_sid is not null
    group by message_sid
),

unioned as (
    select * from emails
    union all
    select * from linkedin_actions
    union all
    select * from sms_messages
),

final as (
    select
        unioned.activity_key,
        unioned.provider,
        unioned.channel,
        unioned.activity_type,
        client_campaigns.client_id,
        unioned.campaign_id,
        coalesce(by_email.lead_id, by_contact.lead_id) as lead_id,
        {{ recipient_ref(
            'coalesce(by_email.lead_id, by_contact.lead_id)',
            'unioned.contact_kind',
            'unioned.contact_key',
            "'activity:' || unioned.provider || ':' || unioned.activity_key",
        ) }} as recipient_ref,
        unioned.lead_email,
        unioned.lead_key,
        unioned.contact_kind,
        unioned.contact_value,
        unioned.contact_key,
        unioned.vendor_lead_id,
        unioned.sequence_number,
        unioned.step_id,
        unioned.variant_id,
        unioned.template_id,
        templates.variant_label as ab_variant,
        unioned.subject,
        unioned.body_html,
        unioned.full_message_body,
        array(
            select distinct link.match[1]
            from
                regexp_matches(
                    coalesce(unioned.body_html, unioned.full_message_body, ''), '(https?://[^\s"''<>]+)', 'g'
                ) as link (match)
            order by link.match[1]
        ) as links_included,
        templates.personalization_tokens as personalization_fields,
        unioned.sent_at,
        unioned.delivery_status,
        unioned.error_code,
        unioned.known_from,
        '{{ run_started_at }}'::timestamptz as refreshed_at
    from unioned
    left join templates
        on unioned.template_id = templates.template_id
    left join client_campaigns
        on unioned.provider = client_campaigns.vendor and unioned.campaign_id = client_campaigns.campaign_id
    left join contact_points as by_email
        on by_email.contact_kind = 'email' and unioned.lead_key = by_email.contact_value
    left join contact_points as by_contact
        on unioned.contact_kind = by_contact.contact_kind and unioned.contact_value = by_contact.contact_value
)

select * from final
