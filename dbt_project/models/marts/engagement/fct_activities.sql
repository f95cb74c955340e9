{{
  config(
    materialized='incremental',
    incremental_strategy='scoped_diff',
    on_schema_change='fail',
    tags=['person_scoped'],
    indexes=[
      {'columns': ['activity_id'], 'unique': True},
      {'columns': ['provider', 'activity_key']},
      {'columns': ['client_id']},
      {'columns': ['lead_id', 'sent_at']},
      {'columns': ['recipient_ref']},
      {'columns': ['template_id']},
      {'columns': ['sent_at']},
    ],
    pre_hook=["{{ clear_person_scope(in_refreshed_rows('recipient_ref', 'recipient_ref')) }}"],
    post_hook=["{{ record_refresh(person_inputs_version()) }}", "{{ client_row_security('client_id') }}"]
  )
}}
{#-
    One row per outbound action on any channel (docs/engagement.md, "Activities"). Touches (an
    email, an SMS, a LinkedIn connection request, message or InMail) are numbered per lead and
    client across channels in time order; profile views, likes and follows are kept as activities
    but are not touches. Local send times come from the tz database, so clock changes are right.
-#}
-- depends_on: {{ ref('int_engagement_scope') }}, {{ ref('int_engagement_refresh') }}
-- depends_on: {{ ref('int_recomputed_activities') }}
with

activities as (
    select * from {{ ref('int_activities') }}
    where {{ in_refreshed_rows('recipient_ref', 'recipient_ref') }}
),

lead_zones as (
    select * from {{ ref('int_lead_time_zones') }}
),

recipients as (
    select
        *,
        activity_type in ('email', 'sms', 'connection_request', 'message', 'inmail') as is_touch
    from activities
),

numbered as (
    select
        *,
        row_number() over touches as touch_rank,
        sent_at - lag(sent_at) over touches as since_last_touch,
        -- A threaded follow-up goes out with an empty subject and is rendered with the thread's.
        first_value(subject) over (
            partition by provider, campaign_id, recipient_ref
            order by subject is null, sent_at, activity_key
        ) as thread_subject
    from recipients
    window touches as (
        partition by client_id, recipient_ref, is_touch
        order by sent_at nulls last, provider, activity_key
    )
),

final as (
    select
        {{ cis_uuid(["'activity'", 'numbered.provider', 'numbered.activity_key']) }} as activity_id,
        numbered.activity_key,
        numbered.provider,
        numbered.channel,
        numbered.activity_type,
        numbered.is_touch,
        numbered.client_id,
        numbered.campaign_id,
        numbered.lead_id,
        numbered.lead_id is null as is_unknown_lead,
        numbered.recipient_ref,
        numbered.lead_email,
        numbered.contact_kind,
        numbered.contact_value,
        numbered.vendor_lead_id,
        numbered.sequence_number,
        numbered.step_id,
        numbered.variant_id,
        numbered.template_id,
        numbered.ab_variant,
        case when numbered.channel = 'email' then coalesce(numbered.subject, numbered.thread_subject) end as subject,
        numbered.channel = 'email' and numbered.subject is null and numbered.thread_subject is not null
            as is_subject_inherited,
        numbered.full_message_body,
        numbered.body_html,
        numbered.links_included,
        numbered.personalization_fields,
        numbered.sent_at,
        case when numbered.is_touch then numbered.touch_rank::integer end as touch_number,
        case
            when numbered.is_touch
                then round((extract(epoch from numbered.since_last_touch) / 86400)::numeric, 2)
        end as days_since_last_touch,
        lead_zones.time_zone as lead_time_zone,
        (numbered.sent_at at time zone lead_zones.time_zone) as local_sent_at,
        extract(hour from numbered.sent_at at time zone lead_zones.time_zone)::integer as local_hour,
        trim(to_char(numbered.sent_at at time zone lead_zones.time_zone, 'Day')) as local_day_of_week,
        extract(isodow from numbered.sent_at at time zone lead_zones.time_zone)::integer as local_iso_day_of_week,
        numbered.delivery_status,
        numbered.error_code,
        numbered.known_from
    from numbered
    left join lead_zones
        on numbered.lead_id = lead_zones.lead_id
)

select * from final
