{{
  config(
    materialized='incremental',
    incremental_strategy='scoped_diff',
    on_schema_change='fail',
    tags=['person_scoped'],
    indexes=[
      {'columns': ['email_event_id'], 'unique': True},
      {'columns': ['provider', 'message_key']},
      {'columns': ['client_id']},
      {'columns': ['lead_id']},
      {'columns': ['occurred_at']},
    ],
    pre_hook=["{{ clear_person_scope(in_person_scope(email_key_or_blank('lead_email'), 'email')) }}"],
    post_hook=["{{ record_refresh(person_inputs_version()) }}", "{{ client_row_security('client_id') }}"]
  )
}}
{#-
    Every email event of both vendors (and both Smartlead dialects) in one schema, one row per
    event key (a duplicate delivery is counted in `deliveries`, not repeated), with machine
    activity flagged, never dropped (docs/engagement.md, "Machine opens and bot clicks"):

    - an open within 60 seconds of the email's delivery (Apple Mail Privacy Protection and
      similar prefetching fetch the pixel as the message arrives), or from Apple's 17.0.0.0/8
      network when the vendor sends an address;
    - a click within 30 seconds of delivery (link scanners follow links on arrival), a click
      before any open of that email in a campaign that tracks opens, or two or more clicks on one
      email within 5 seconds of each other (a scanner clicks every link at once).
-#}
-- depends_on: {{ ref('int_engagement_scope') }}, {{ ref('int_engagement_refresh') }}
with

-- The columns this model reads, not the message bodies: every sort below carries these rows.
deliveries_raw as (
    select
        provider,
        delivery_id,
        event_key,
        vendor_event_name,
        dialect,
        event_type,
        campaign_id,
        lead_email,
        vendor_lead_id,
        message_key,
        sequence_number,
        subject,
        clicked_url,
        bounce_text,
        message_sent_at,
        ip_address,
        occurred_at,
        received_at,
        loaded_at
    from {{ ref('int_email_deliveries') }}
    where {{ in_person_scope('lead_key', 'email') }}
),

all_deliveries as (
    select * from {{ ref('int_email_deliveries') }}
),

client_campaigns as (
    select * from {{ ref('stg_cis__client_campaigns') }}
),

leads_by_email as (
    select * from {{ ref('int_leads_by_email') }}
),

-- The first delivery of each event, with how many came. DISTINCT ON rather than a rank
-- filtered to 1: the planner then knows how many rows come out (it guesses a handful for a
-- rank filter, and sorts and joins for that handful).
first_deliveries as (
    select distinct on (provider, event_key)
        *,
        count(*) over (partition by provider, event_key) as delivery_count
    from deliveries_raw
    order by provider, event_key, received_at nulls last, loaded_at, delivery_id
),

-- A campaign tracks opens when any email of it was opened, whoever opened it: one index probe
-- per campaign, not a scan of every open.
campaigns as (
    select distinct
        provider,
        campaign_id
    from first_deliveries
),

campaigns_tracking_opens as (
    select
        provider,
        campaign_id
    from campaigns
    where exists (
        select 1 from all_deliveries as opens
        where
            opens.provider = campaigns.provider
            and (opens.campaign_id = campaigns.campaign_id or (opens.campaign_id is null and campaigns.campaign_id is null))
            and opens.event_type = 'open'
    )
),

timed as (
    select
        events.*,
        campaigns_tracking_opens.provider is not null as campaign_tracks_opens,
        -- When the email was sent: a window rather than a join, over the partition the windows
        -- below sort anyway.
        coalesce(
            case
                when events.message_key is not null
                    then min(events.occurred_at) filter (where events.event_type = 'sent') over (
                        partition by events.provider, events.message_key
                    )
            end,
            events.message_sent_at
        ) as delivered_at,
        min(events.occurred_at) filter (where events.event_type = 'open') over (
            partition by events.provider, events.message_key
        ) as first_open_at,
        -- Clicks on the same email within 5 seconds either side, this one included.
        case
            when events.event_type = 'click' and events.message_key is not null and events.occurred_at is not null
                then count(*) filter (where events.event_type = 'click') over (
                    partition by events.provider, events.message_key
                    order by events.occurred_at
                    range between interval '5 seconds' preceding and interval '5 seconds' following
                )
        end as clicks_within_5s
    from first_deliveries as events
    left join campaigns_tracking_opens
        on
            events.provider = campaigns_tracking_opens.provider
            and events.campaign_id is not distinct from campaigns_tracking_opens.campaign_id
),

flagged as (
    select
        timed.*,
        extract(epoch from timed.occurred_at - timed.delivered_at) as seconds_after_delivery,
        case
            when
                timed.event_type = 'open'
                and timed.occurred_at - timed.delivered_at between interval '0' and interval '60 seconds'
                then 'open_within_60s_of_delivery'
            when
                timed.event_type = 'open'
                and timed.ip_address ~ '^17\.\d{1,3}\.\d{1,3}\.\d{1,3}$'
                then 'apple_proxy_address'
            when
                timed.event_type = 'click'
                and timed.occurred_at - timed.delivered_at between interval '0' and interval '30 seconds'
                then 'click_within_30s_of_delivery'
            when timed.event_type = 'click' and timed.clicks_within_5s >= 2
                then 'links_clicked_at_once'
            when
                timed.event_type = 'click'
                and timed.campaign_tracks_opens
                and (timed.first_open_at is null or timed.first_open_at > timed.occurred_at)
                then 'click_before_any_open'
        end as machine_reason
    from timed
),

final as (
    select
        {{ cis_uuid(["'email_event'", 'flagged.provider', 'flagged.event_key']) }} as email_event_id,
        flagged.provider,
        flagged.event_key,
        flagged.event_type,
        flagged.vendor_event_name,
        flagged.dialect,
        client_campaigns.client_id,
        flagged.campaign_id,
        leads_by_email.lead_id,
        flagged.lead_email,
        flagged.vendor_lead_id,
        flagged.message_key,
        flagged.sequence_number,
        flagged.subject,
        flagged.clicked_url,
        case when flagged.event_type = 'bounce' then {{ bounce_type('flagged.bounce_text') }} end as bounce_type,
        flagged.delivered_at,
        flagged.occurred_at,
        flagged.received_at,
        round(flagged.seconds_after_delivery::numeric, 3) as seconds_after_delivery,
        flagged.event_type = 'open' and flagged.machine_reason is not null as is_machine_open,
        flagged.event_type = 'click' and flagged.machine_reason is not null as is_bot_click,
        flagged.machine_reason,
        flagged.delivery_count::integer as deliveries,
        row_number() over (
            partition by flagged.provider, flagged.message_key
            order by flagged.occurred_at, flagged.event_key
        )::integer as event_order
    from flagged
    left join client_campaigns
        on flagged.provider = client_campaigns.vendor and flagged.campaign_id = client_campaigns.campaign_id
    left join leads_by_email
        on lower(trim(flagged.lead_email)) = leads_by_email.email
)

select * from final
