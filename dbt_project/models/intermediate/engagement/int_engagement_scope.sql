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
with

refresh as (
    select * from {{ ref('int_engagement_refresh') }}
),

loads as (
    select * from {{ ref('stg_dlt__event_loads') }}
),

smartlead_events as (
    select * from {{ ref('stg_smartlead__email_events') }}
),

salesforge_events as (
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

new_loads as (
    select loads.load_id
    from loads
    cross join refresh
    where loads.seen_at > refresh.scope_since and not refresh.is_full
),

new_email_events as (
    select
        'smartlead' as provider,
        smartlead_events.campaign_id,
        smartlead_events.event_type,
        smartlead_events.lead_key,
        smartlead_events.load_id
    from smartlead_events
    inner join new_loads on smartlead_events.load_id = new_loads.load_id
    union all
    select
        'salesforge' as provider,
        salesforge_events.campaign_id,
        salesforge_events.event_type,
        salesforge_events.lead_key,
        salesforge_events.load_id
    from salesforge_events
    inner join new_loads on salesforge_events.load_id = new_loads.load_id
),

-- Campaigns opened for the first time by the new loads: no earlier load has an open of them.
earlier_opens as (
    select
        'smartlead' as provider,
        smartlead_events.campaign_id
    from smartlead_events
    where
        smartlead_events.event_type = 'open'
        and smartlead_events.campaign_id in (select new_email_events.campaign_id from new_email_events)
        and smartlead_events.load_id not in (select new_loads.load_id from new_loads)
    union
    select
        'salesforge' as provider,
        salesforge_events.campaign_id
    from salesforge_events
    where
        salesforge_events.event_type = 'open'
        and salesforge_events.campaign_id in (select new_email_events.campaign_id from new_email_events)
        and salesforge_events.load_id not in (select new_loads.load_id from new_loads)
),

first_opened_campaigns as (
    select distinct
        new_email_events.provider,
        new_email_events.campaign_id
    from new_email_events
    left join earlier_opens
        on
            new_email_events.provider = earlier_opens.provider
            and new_email_events.campaign_id = earlier_opens.campaign_id
    where new_email_events.event_type = 'open' and earlier_opens.campaign_id is null
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
        coalesce({{ email_key('raw_statistics.lead_email') }}, '') as scope_value
    from raw_statistics
    inner join new_loads on raw_statistics.load_id = new_loads.load_id
    union
    select
        'linkedin' as scope_kind,
        coalesce(linkedin_events.lead_linkedin_key, '') as scope_value
    from linkedin_events
    inner join new_loads on linkedin_events.load_id = new_loads.load_id
    union
    select
        'phone' as scope_kind,
        sms_events.phone_key as scope_value
    from sms_events
    inner join new_loads on sms_events.load_id = new_loads.load_id
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
