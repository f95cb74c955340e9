{#-
    The statistics row (`stats_id`) of each campaign's lead at each step: Smartlead's dialect-B
    webhooks carry no `stats_id`, only the campaign, the lead and the step, so this is how their
    events find the email they are about.
-#}
with

statistics as (
    select * from {{ ref('stg_smartlead__statistics') }}
),

by_step as (
    select distinct on (campaign_id, lead_email, sequence_number)
        campaign_id,
        lead_email,
        sequence_number,
        stats_id
    from statistics
    where campaign_id is not null and lead_email is not null and sequence_number is not null
    order by campaign_id, lead_email, sequence_number, sent_at, stats_id
)

select * from by_step
