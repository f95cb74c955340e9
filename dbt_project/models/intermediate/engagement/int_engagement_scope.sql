{{
  config(
    materialized='table',
    indexes=[{'columns': ['scope_kind', 'scope_value'], 'unique': True}],
    post_hook=["{{ analyze_if_rebuilt() }}"]
  )
}}
{#-
    The addresses this build of the person-scoped event models recomputes (docs/engagement.md,
    "Incremental builds"): every address a new load names (an email, a LinkedIn profile or a
    phone number; '' for a row that names none), every address with an email event in a campaign
    whose first open is new (a click before any open is a bot's only where the campaign tracks
    opens), and the pool's leads these addresses belong to. Empty when the build recomputes
    everyone.
-#}
{%- set new_loads = engagement_scope_loads() %}
-- depends_on: {{ ref('stg_dlt__event_loads') }}
with

-- Not materialized: each use reads its own rows through the staging tables' indexes.
smartlead_events as not materialized (
    select * from {{ ref('stg_smartlead__email_events') }}
),

salesforge_events as not materialized (
    select * from {{ ref('stg_salesforge__email_events') }}
),

linkedin_events as (
    select * from {{ ref('stg_heyreach__linkedin_events') }}
),

sms_events as (
    select * from {{ ref('stg_twilio__sms_events') }}
),

raw_statistics as (
    {{ raw_event_rows('smartlead', 'statistics') }}
),

contact_points as (
    select * from {{ ref('int_lead_contact_points') }}
),

refresh as (
    select * from {{ ref('int_engagement_refresh') }}
),

reply_analyses as (
    select * from {{ ref('stg_cis__reply_analyses') }}
),

reply_labels as (
    select * from {{ ref('stg_cis__reply_labels') }}
),

-- People whose replies have analyzer results or a person's labels the person-scoped models
-- have not read yet.
new_reply_analyses as (
    select
        reply_analyses.contact_kind,
        reply_analyses.contact_value
    from reply_analyses
    inner join refresh
        on reply_analyses.analyzed_at > refresh.results_since
    where not refresh.is_full
    union all
    select
        reply_labels.contact_kind,
        reply_labels.contact_value
    from reply_labels
    inner join refresh
        on reply_labels.labelled_at > refresh.results_since
    where not refresh.is_full
),

new_email_events as (
    select
        'smartlead' as provider,
        campaign_id,
        event_type,
        lead_key
    from smartlead_events
    where {{ in_load_scope('load_id', new_loads) }}
    union all
    select
        'salesforge' as provider,
        campaign_id,
        event_type,
        lead_key
    from salesforge_events
    where {{ in_load_scope('load_id', new_loads) }}
),

new_statistics as (
    select raw_statistics.lead_email
    from raw_statistics
    where {{ in_load_scope('raw_statistics.load_id', new_loads) }}
),

new_linkedin_events as (
    select lead_linkedin_key
    from linkedin_events
    where {{ in_load_scope('load_id', new_loads) }}
),

new_sms_events as (
    select phone_key
    from sms_events
    where {{ in_load_scope('load_id', new_loads) }}
),

opened_campaigns as (
    select distinct
        provider,
        campaign_id
    from new_email_events
    where event_type = 'open'
),

-- Campaigns opened for the first time by the new loads: no earlier load has an open of them
-- (one indexed probe per campaign: the limit keeps each a probe, not a join of every open).
first_opened_campaigns as (
    select
        opened_campaigns.provider,
        opened_campaigns.campaign_id
    from opened_campaigns
    where
        not exists (
            select 1 from smartlead_events as earlier
            where
                opened_campaigns.provider = 'smartlead'
                and earlier.campaign_id = opened_campaigns.campaign_id
                and earlier.event_type = 'open'
                and not {{ in_load_scope('earlier.load_id', new_loads) }}
            limit 1  -- noqa: AM09
        )
        and not exists (
            select 1 from salesforge_events as earlier
            where
                opened_campaigns.provider = 'salesforge'
                and earlier.campaign_id = opened_campaigns.campaign_id
                and earlier.event_type = 'open'
                and not {{ in_load_scope('earlier.load_id', new_loads) }}
            limit 1  -- noqa: AM09
        )
),

touched as (
    select
        'email' as scope_kind,
        new_email_events.lead_key as scope_value
    from new_email_events
    union
    select
        'email' as scope_kind,
        smartlead_events.lead_key as scope_value
    from smartlead_events
    inner join first_opened_campaigns
        on first_opened_campaigns.provider = 'smartlead' and smartlead_events.campaign_id = first_opened_campaigns.campaign_id
    union
    select
        'email' as scope_kind,
        salesforge_events.lead_key as scope_value
    from salesforge_events
    inner join first_opened_campaigns
        on first_opened_campaigns.provider = 'salesforge' and salesforge_events.campaign_id = first_opened_campaigns.campaign_id
    union
    select
        'email' as scope_kind,
        coalesce({{ email_key('new_statistics.lead_email') }}, '') as scope_value
    from new_statistics
    union
    select
        'linkedin' as scope_kind,
        coalesce(new_linkedin_events.lead_linkedin_key, '') as scope_value
    from new_linkedin_events
    union
    select
        'phone' as scope_kind,
        new_sms_events.phone_key as scope_value
    from new_sms_events
    union
    select
        new_reply_analyses.contact_kind as scope_kind,
        new_reply_analyses.contact_value as scope_value
    from new_reply_analyses
),

touched_leads as (
    select distinct contact_points.lead_id
    from touched
    inner join contact_points
        on touched.scope_kind = contact_points.contact_kind and touched.scope_value = contact_points.contact_value
),

scope as (
    select
        touched.scope_kind,
        touched.scope_value
    from touched
    union
    select
        'lead' as scope_kind,
        touched_leads.lead_id::text as scope_value
    from touched_leads
)

select * from scope
