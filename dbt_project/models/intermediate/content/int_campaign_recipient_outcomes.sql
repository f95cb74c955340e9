{{
  config(
    materialized='incremental',
    incremental_strategy='scoped_diff',
    on_schema_change='fail',
    tags=['person_scoped'],
    indexes=[{'columns': ['provider', 'campaign_id', 'recipient_ref'], 'unique': True}],
    pre_hook=["{{ clear_person_scope(in_refreshed_rows('recipient_ref', 'recipient_ref')) }}"],
    post_hook=["{{ record_refresh(person_inputs_version()) }}", "{{ analyze_if_rebuilt() }}"]
  )
}}
{#-
    What became of each person in each campaign, for the A/B results (counted per lead, not per
    send): their first reply to the campaign, and whether the vendor classed them positive
    (Smartlead's lead category Interested, Meeting Request or Information Request; Salesforge's
    positive_reply) until the reply analyzer classifies replies itself.
-#}
-- depends_on: {{ ref('int_engagement_scope') }}, {{ ref('int_engagement_refresh') }}
-- depends_on: {{ ref('int_recomputed_activities') }}, {{ ref('int_activities') }}
with

activities as (
    select * from {{ ref('fct_activities') }}
    where {{ in_refreshed_rows('recipient_ref', 'recipient_ref') }}
),

engagement as (
    select * from {{ ref('fct_activity_engagement') }}
),

statistics as (
    select * from {{ ref('stg_smartlead__statistics') }}
    where stats_id in (
        select activities.activity_key from activities
        where activities.provider = 'smartlead'
    )
),

salesforge_events as (
    select * from {{ ref('stg_salesforge__email_events') }}
    where lead_key in (select {{ email_key_or_blank('activities.lead_email') }} from activities)
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
