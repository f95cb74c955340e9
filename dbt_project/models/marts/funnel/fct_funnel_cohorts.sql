{{
  config(
    indexes=[{'columns': ['client_id', 'cohort_month'], 'unique': True}],
    post_hook=["{{ client_row_security('client_id') }}"]
  )
}}
{#-
    The funnel per client and cohort (the month of the lead's first touch): how many leads
    reached each step, the conversion between steps, the meetings' show, no-show and reschedule
    rates, and the deals' outcomes. Rates compare a cohort with itself, never this month's
    meetings with this month's leads. Open deals are censored: a win rate is won / (won + lost),
    and lead -> won leaves out the leads not won yet with a deal still open; they are counted apart
    (open_deals) rather than as losses. A rate whose base is 0 is null.
-#}
with

funnel as (
    select * from {{ ref('fct_lead_funnel') }}
    where cohort_month is not null
),

meetings as (
    select * from {{ ref('fct_meetings') }}
),

deals as (
    select * from {{ ref('fct_deals') }}
),

leads as (
    select
        client_id,
        cohort_month,
        count(*) as leads_touched,
        count(human_open_at) as leads_opened,
        count(reply_at) as leads_replied,
        count(positive_reply_at) as leads_replied_positively,
        count(meeting_booked_at) as leads_booked,
        count(meeting_held_at) as leads_met,
        count(opportunity_at) as leads_with_opportunity,
        count(won_at) as leads_won
    from funnel
    group by client_id, cohort_month
),

meeting_outcomes as (
    select
        funnel.client_id,
        funnel.cohort_month,
        count(*) as meetings,
        count(*) filter (where meetings.meeting_outcome = 'completed') as meetings_held,
        count(*) filter (where meetings.meeting_outcome = 'no_show') as no_shows,
        count(*) filter (where meetings.meeting_outcome = 'canceled') as cancellations,
        count(*) filter (where meetings.reschedule_count > 0 or meetings.meeting_outcome = 'rescheduled') as reschedules,
        count(*) filter (where meetings.is_past_still_scheduled) as past_still_scheduled,
        count(*) filter (where meetings.showed_up is not null and meetings.is_confirmed) as confirmed_decided,
        count(*) filter (where meetings.showed_up and meetings.is_confirmed) as confirmed_held,
        count(*) filter (where meetings.showed_up is not null and meetings.is_reminder_sent) as reminded_decided,
        count(*) filter (where meetings.showed_up and meetings.is_reminder_sent) as reminded_held,
        count(*) filter (where meetings.is_held and meetings.has_deal_followed) as held_with_deal
    from meetings
    inner join funnel on meetings.lead_id = funnel.lead_id and meetings.client_id = funnel.client_id
    group by funnel.client_id, funnel.cohort_month
),

deal_outcomes as (
    select
        funnel.client_id,
        funnel.cohort_month,
        count(*) as deals,
        count(*) filter (where deals.is_won) as deals_won,
        count(*) filter (where deals.is_lost) as deals_lost,
        count(*) filter (where deals.is_open) as open_deals,
        -- Leads not yet won with a deal still open: their outcome is not known (censored).
        count(distinct deals.lead_id) filter (where deals.is_open and funnel.won_at is null)
            as leads_undecided
    from deals
    inner join funnel on deals.lead_id = funnel.lead_id and deals.client_id = funnel.client_id
    group by funnel.client_id, funnel.cohort_month
),

final as (
    select
        leads.client_id,
        leads.cohort_month,
        leads.leads_touched,
        leads.leads_opened,
        leads.leads_replied,
        leads.leads_replied_positively,
        leads.leads_booked,
        leads.leads_met,
        leads.leads_with_opportunity,
        leads.leads_won,
        coalesce(meeting_outcomes.meetings, 0) as meetings,
        coalesce(meeting_outcomes.meetings_held, 0) as meetings_held,
        coalesce(meeting_outcomes.no_shows, 0) as no_shows,
        coalesce(meeting_outcomes.past_still_scheduled, 0) as meetings_past_still_scheduled,
        coalesce(deal_outcomes.deals, 0) as deals,
        coalesce(deal_outcomes.deals_won, 0) as deals_won,
        coalesce(deal_outcomes.deals_lost, 0) as deals_lost,
        coalesce(deal_outcomes.open_deals, 0) as open_deals,
        {{ rate('leads.leads_opened', 'leads.leads_touched') }} as open_rate,
        {{ rate('leads.leads_replied', 'leads.leads_touched') }} as reply_rate,
        {{ rate('leads.leads_replied_positively', 'leads.leads_replied') }} as positive_reply_rate,
        {{ rate('leads.leads_booked', 'leads.leads_replied_positively') }} as positive_reply_to_meeting_rate,
        {{ rate('leads.leads_booked', 'leads.leads_touched') }} as lead_to_meeting_rate,
        {{ rate('meeting_outcomes.meetings_held', 'meeting_outcomes.meetings_held + meeting_outcomes.no_shows') }} as show_rate,
        {{ rate('meeting_outcomes.no_shows', 'meeting_outcomes.meetings_held + meeting_outcomes.no_shows') }} as no_show_rate,
        {{ rate('meeting_outcomes.confirmed_held', 'meeting_outcomes.confirmed_decided') }} as show_rate_confirmed,
        {{ rate('meeting_outcomes.reminded_held', 'meeting_outcomes.reminded_decided') }} as show_rate_reminded,
        {{ rate('meeting_outcomes.reschedules', 'meeting_outcomes.meetings') }} as reschedule_rate,
        {{ rate('meeting_outcomes.cancellations', 'meeting_outcomes.meetings') }} as cancellation_rate,
        {{ rate('meeting_outcomes.held_with_deal', 'meeting_outcomes.meetings_held') }} as meeting_to_deal_rate,
        {{ rate('deal_outcomes.deals_won', 'deal_outcomes.deals_won + deal_outcomes.deals_lost') }} as win_rate,
        {{ rate('leads.leads_won', 'leads.leads_touched - coalesce(deal_outcomes.leads_undecided, 0)') }} as lead_to_won_rate
    from leads
    left join meeting_outcomes
        on leads.client_id = meeting_outcomes.client_id and leads.cohort_month = meeting_outcomes.cohort_month
    left join deal_outcomes
        on leads.client_id = deal_outcomes.client_id and leads.cohort_month = deal_outcomes.cohort_month
)

select * from final
