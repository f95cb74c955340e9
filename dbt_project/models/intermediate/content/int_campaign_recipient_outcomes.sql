{{
  config(
    materialized='table',
    indexes=[{'columns': ['provider', 'campaign_id', 'recipient_ref'], 'unique': True}],
    post_hook=["analyze {{ this }}"]
  )
}}
{#-
    What became of each person in each campaign, for the A/B results (counted per lead, not per
    send): their first reply to the campaign, and whether the vendor classed them positive
    (Smartlead's lead category Interested, Meeting Request or Information Request; Salesforge's
    positive_reply) until the reply analyzer classifies replies itself.
-#}
with

activities as (
    select * from {{ ref('fct_activities') }}
),

engagement as (
    select * from {{ ref('fct_activity_engagement') }}
),

statistics as (
    select * from {{ ref('stg_smartlead__statistics') }}
),

salesforge_events as (
    select * from {{ ref('stg_salesforge__email_events') }}
),

positive_activities as (
    select
        'smartlead' as provider,
        stats_id as activity_key
    from statistics
    where lead_category in ('Interested', 'Meeting Request', 'Information Request')
),

positive_people as (
    select distinct
        'salesforge' as provider,
        campaign_id,
        lead_email
    from salesforge_events
    where lower(vendor_event_name) = 'positive_reply'
),

outcomes as (
    select
        activities.provider,
        activities.campaign_id,
        activities.recipient_ref,
        min(engagement.replied_at) as first_replied_at,
        bool_or(positive_activities.activity_key is not null or positive_people.lead_email is not null)
            as is_positive
    from activities
    inner join engagement
        on activities.activity_id = engagement.activity_id
    left join positive_activities
        on activities.provider = positive_activities.provider and activities.activity_key = positive_activities.activity_key
    left join positive_people
        on
            activities.provider = positive_people.provider
            and activities.campaign_id = positive_people.campaign_id
            and activities.lead_email = positive_people.lead_email
    where activities.channel = 'email'
    group by activities.provider, activities.campaign_id, activities.recipient_ref
)

select * from outcomes
