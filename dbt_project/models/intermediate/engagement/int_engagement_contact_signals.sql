{#-
    What the vendors say that takes a person out of outreach, by address and without the pool
    (the pool reads this: dim_leads must not depend on the marts that depend on it): hard
    bounces (an SMTP 5.x.x status, or a statistics row marked bounced), unsubscribes (an event, a
    statistics row, an SMS STOP) and do-not-contact marks (Salesforge's dnc_added, Smartlead's
    Do Not Contact category).
-#}
-- Not materialized (each is read twice): a reader that wants a few addresses probes the staging
-- tables' indexes through the view.
with

statistics as not materialized (
    select * from {{ ref('stg_smartlead__statistics') }}
),

smartlead_events as not materialized (
    select * from {{ ref('stg_smartlead__email_events') }}
),

salesforge_events as not materialized (
    select * from {{ ref('stg_salesforge__email_events') }}
),

sms_events as not materialized (
    select * from {{ ref('stg_twilio__sms_events') }}
),

client_campaigns as (
    select * from {{ ref('stg_cis__client_campaigns') }}
),

signals as (
    select
        'smartlead' as provider,
        campaign_id,
        'email' as channel,
        event_type,
        lead_email as email,
        null as phone_digits,
        lead_key as contact_key,
        occurred_at
    from smartlead_events
    where
        (event_type = 'bounce' and {{ bounce_type('bounce_text') }} = 'hard')
        or event_type = 'unsubscribe'
    union all
    select
        'salesforge' as provider,
        campaign_id,
        'email' as channel,
        event_type,
        lead_email as email,
        null as phone_digits,
        lead_key as contact_key,
        occurred_at
    from salesforge_events
    where
        (event_type = 'bounce' and {{ bounce_type('content_text') }} = 'hard')
        or event_type = 'unsubscribe'
    union all
    select
        'smartlead' as provider,
        campaign_id,
        'email' as channel,
        case
            when lead_category = 'Do Not Contact' then 'do_not_contact'
            when is_bounced then 'bounce'
            else 'unsubscribe'
        end as event_type,
        lead_email as email,
        null as phone_digits,
        lead_key as contact_key,
        sent_at as occurred_at
    from statistics
    where is_bounced or is_unsubscribed or lead_category = 'Do Not Contact'
    union all
    select
        'smartlead' as provider,
        campaign_id,
        'email' as channel,
        'do_not_contact' as event_type,
        lead_email as email,
        null as phone_digits,
        lead_key as contact_key,
        occurred_at
    from smartlead_events
    where event_type = 'category_updated' and lead_category = 'Do Not Contact'
    union all
    select
        'salesforge' as provider,
        campaign_id,
        'email' as channel,
        'do_not_contact' as event_type,
        lead_email as email,
        null as phone_digits,
        lead_key as contact_key,
        occurred_at
    from salesforge_events
    where event_type = 'do_not_contact'
    union all
    select
        'twilio' as provider,
        agency_number as campaign_id,
        'sms' as channel,
        'unsubscribe' as event_type,
        null as email,
        lead_phone_digits as phone_digits,
        phone_key as contact_key,
        occurred_at
    from sms_events
    where event_type = 'opt_out'
),

final as (
    select
        signals.provider,
        client_campaigns.client_id,
        signals.channel,
        signals.event_type,
        lower(trim(signals.email)) as email,
        signals.phone_digits,
        signals.contact_key,
        signals.occurred_at
    from signals
    left join client_campaigns
        on signals.provider = client_campaigns.vendor and signals.campaign_id = client_campaigns.campaign_id
    where signals.email is not null or signals.phone_digits is not null
)

select * from final
