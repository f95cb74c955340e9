{{
  config(
    indexes=[
      {'columns': ['meeting_id'], 'unique': True},
      {'columns': ['client_id']},
      {'columns': ['lead_id', 'booked_at']},
      {'columns': ['deal_id']},
    ],
    post_hook=["{{ client_row_security('client_id') }}"]
  )
}}
{#-
    One row per CRM meeting (HubSpot or the standalone files) with what led to it and what
    followed: the lead and client, the outcome and whether the lead showed up, the booking lag,
    the positive reply, thread and touch before it, and whether a deal followed. A past meeting
    still marked scheduled is flagged (is_past_still_scheduled), never counted as held. Meetings
    int_crm_rejections names (no contact, no start time) are left out.
-#}
with

meetings as (
    select * from {{ ref('int_crm_meetings') }}
),

record_leads as (
    select * from {{ ref('int_crm_record_leads') }}
    where record_kind = 'meeting'
),

record_clients as (
    select * from {{ ref('int_crm_record_clients') }}
    where record_kind = 'meeting'
),

rejections as (
    select * from {{ ref('int_crm_rejections') }}
    where record_kind = 'meeting'
),

-- The deals the marts hold (rejected ones left out): fct_deals has already decided which.
deals as (
    select * from {{ ref('fct_deals') }}
),

replies as (
    select * from {{ ref('fct_replies') }}
),

activities as (
    select * from {{ ref('fct_activities') }}
),

usable as (
    select
        meetings.*,
        record_leads.lead_id,
        record_leads.contact_key,
        record_leads.match_method,
        record_leads.match_confidence,
        record_clients.client_id,
        record_clients.client_attributed_by,
        coalesce(meetings.booked_at, meetings.scheduled_for) as booked_or_start_at
    from meetings
    inner join record_leads on meetings.meeting_key = record_leads.record_key
    inner join record_clients on meetings.meeting_key = record_clients.record_key
    where not exists (
        select 1 from rejections
        where rejections.record_key = meetings.meeting_key
    )
),

positive_reply as (
    select distinct on (usable.meeting_key)
        usable.meeting_key,
        replies.reply_id,
        replies.thread_id,
        replies.replied_at
    from usable
    inner join replies
        on
            usable.lead_id = replies.lead_id
            and replies.replied_at <= usable.booked_or_start_at
            and (usable.client_id is null or replies.client_id = usable.client_id)
    where replies.is_positive
    order by usable.meeting_key asc, replies.replied_at desc, replies.reply_id asc
),

touches as (
    select
        usable.meeting_key,
        count(*) as touches_before_booking,
        min(activities.sent_at) as first_touch_at,
        (array_agg(activities.activity_id order by activities.sent_at desc, activities.activity_id desc))[1] as last_touch_activity_id,
        (array_agg(activities.channel order by activities.sent_at desc, activities.activity_id desc))[1] as last_touch_channel
    from usable
    inner join activities
        on
            usable.lead_id = activities.lead_id
            and activities.sent_at <= usable.booked_or_start_at
            and (usable.client_id is null or activities.client_id = usable.client_id)
    where activities.is_touch
    group by usable.meeting_key
),

-- A deal followed: the meeting's own deal, or a deal with the same lead opened after it.
followed as (
    select usable.meeting_key
    from usable
    inner join deals on usable.deal_key = deals.deal_id
    union
    select usable.meeting_key
    from usable
    inner join deals
        on
            usable.lead_id = deals.lead_id
            and deals.created_at >= usable.booked_or_start_at
),

final as (
    select
        usable.meeting_key as meeting_id,
        usable.source_system,
        usable.meeting_id as crm_meeting_id,
        usable.client_id,
        usable.client_attributed_by,
        usable.lead_id,
        usable.contact_key,
        usable.match_method,
        usable.match_confidence,
        usable.title,
        usable.meeting_type,
        usable.booking_source,
        usable.booked_at,
        usable.scheduled_for,
        usable.originally_scheduled_for,
        coalesce(usable.reschedule_count, case when usable.meeting_outcome = 'rescheduled' then 1 end) as reschedule_count,
        usable.outcome_text,
        usable.meeting_outcome,
        case usable.meeting_outcome when 'completed' then true when 'no_show' then false end as showed_up,
        coalesce(usable.meeting_outcome, 'scheduled') = 'scheduled'
        and usable.scheduled_for < {{ funnel_as_of() }} as is_past_still_scheduled,
        usable.meeting_outcome = 'completed' as is_held,
        usable.quality,
        usable.is_confirmed,
        usable.is_reminder_sent,
        round((extract(epoch from usable.scheduled_for - usable.booked_at) / 3600)::numeric, 2) as booking_lag_hours,
        positive_reply.reply_id as positive_reply_id,
        positive_reply.thread_id,
        round((extract(epoch from usable.booked_at - positive_reply.replied_at) / 3600)::numeric, 2) as hours_from_positive_reply,
        touches.last_touch_activity_id,
        touches.last_touch_channel,
        coalesce(touches.touches_before_booking, 0) as touches_before_booking,
        touches.first_touch_at,
        round((extract(epoch from usable.booked_or_start_at - touches.first_touch_at) / 86400)::numeric, 2) as days_from_first_touch,
        usable.deal_key as deal_id,
        followed.meeting_key is not null as has_deal_followed,
        usable.is_archived
    from usable
    left join positive_reply on usable.meeting_key = positive_reply.meeting_key
    left join touches on usable.meeting_key = touches.meeting_key
    left join followed on usable.meeting_key = followed.meeting_key
)

select * from final
