{{
  config(
    materialized='incremental',
    incremental_strategy='scoped_diff',
    on_schema_change='fail',
    tags=['person_scoped'],
    indexes=[
      {'columns': ['campaign_id', 'lead_email', 'sequence_number']},
      {'columns': ['lead_key']},
    ],
    pre_hook=["{{ clear_person_scope(in_person_scope('lead_key', 'email')) }}"],
    post_hook=["{{ record_refresh(person_inputs_version()) }}", "{{ analyze_if_rebuilt() }}"]
  )
}}
{#-
    The statistics row (`stats_id`) of each campaign's lead at each step: Smartlead's dialect-B
    webhooks carry no `stats_id`, only the campaign, the lead and the step, so this is how their
    events find the email they are about.
-#}
-- depends_on: {{ ref('int_engagement_scope') }}, {{ ref('int_engagement_refresh') }}
with

statistics as (
    select * from {{ ref('stg_smartlead__statistics') }}
    where {{ in_person_scope('lead_key', 'email') }}
),

by_step as (
    select distinct on (campaign_id, lead_email, sequence_number)
        campaign_id,
        lead_email,
        lead_key,
        sequence_number,
        stats_id
    from statistics
    where campaign_id is not null and lead_email is not null and sequence_number is not null
    order by campaign_id, lead_email, sequence_number, sent_at, stats_id
)

select * from by_step
