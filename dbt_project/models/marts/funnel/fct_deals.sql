{{
  config(
    indexes=[
      {'columns': ['deal_id'], 'unique': True},
      {'columns': ['client_id']},
      {'columns': ['lead_id']},
    ],
    post_hook=["{{ client_row_security('client_id') }}"]
  )
}}
{#-
    One row per CRM deal: value and currency (no single currency assumed), pipeline and current
    stage, won, lost or open, the lost reason in a fixed set (deal_lost_reason) with the CRM's
    text beside it, the first and converting touch (the last before the deal was opened) and
    their channels, the touches before it, and the days to close. Deals int_crm_rejections names
    (a stage the pipeline does not list) are left out.
-#}
with

deals as (
    select * from {{ ref('int_crm_deals') }}
),

record_leads as (
    select * from {{ ref('int_crm_record_leads') }}
    where record_kind = 'deal'
),

record_clients as (
    select * from {{ ref('int_crm_record_clients') }}
    where record_kind = 'deal'
),

rejections as (
    select * from {{ ref('int_crm_rejections') }}
    where record_kind = 'deal'
),

meetings as (
    select * from {{ ref('int_crm_meetings') }}
),

activities as (
    select * from {{ ref('fct_activities') }}
),

stage_changes as (
    select * from {{ ref('int_crm_deal_stage_changes') }}
),

-- A closed deal without a close date closed when it last changed stage.
current_stage_entered as (
    select
        deal_key,
        max(entered_at) as entered_at
    from stage_changes
    where not is_inferred  -- a deal with no recorded move did not close at its creation
    group by deal_key
),

usable as (
    select
        deals.*,
        record_leads.lead_id,
        record_leads.contact_key,
        record_leads.match_method,
        record_leads.match_confidence,
        record_clients.client_id,
        record_clients.client_attributed_by
    from deals
    inner join record_leads on deals.deal_key = record_leads.record_key
    inner join record_clients on deals.deal_key = record_clients.record_key
    where not exists (
        select 1 from rejections
        where rejections.record_key = deals.deal_key
    )
),

touches as (
    select
        usable.deal_key,
        count(*) as touches_before_deal,
        (array_agg(activities.activity_id order by activities.sent_at asc, activities.activity_id asc))[1] as first_touch_activity_id,
        (array_agg(activities.channel order by activities.sent_at asc, activities.activity_id asc))[1] as first_touch_channel,
        min(activities.sent_at) as first_touch_at,
        (array_agg(activities.activity_id order by activities.sent_at desc, activities.activity_id desc))[1]
            as converting_touch_activity_id,
        (array_agg(activities.channel order by activities.sent_at desc, activities.activity_id desc))[1] as converting_touch_channel
    from usable
    inner join activities
        on
            usable.lead_id = activities.lead_id
            and activities.sent_at <= usable.created_at
            and (usable.client_id is null or activities.client_id = usable.client_id)
    where activities.is_touch
    group by usable.deal_key
),

first_meeting as (
    select distinct on (deal_key)
        deal_key,
        meeting_key
    from meetings
    where deal_key is not null
    order by deal_key asc, scheduled_for asc nulls last, meeting_key asc
),

final as (
    select
        usable.deal_key as deal_id,
        usable.source_system,
        usable.deal_id as crm_deal_id,
        usable.client_id,
        usable.client_attributed_by,
        usable.lead_id,
        usable.contact_key,
        usable.match_method,
        usable.match_confidence,
        usable.deal_name,
        usable.pipeline_id,
        usable.stage_id,
        usable.stage_label,
        usable.deal_status,
        usable.deal_status = 'won' as is_won,
        usable.deal_status = 'lost' as is_lost,
        usable.deal_status = 'open' as is_open,
        usable.amount,
        usable.currency,
        usable.probability,
        usable.created_at,
        case when usable.deal_status = 'open' then usable.close_date_at end as expected_close_at,
        case
            when usable.deal_status <> 'open' then coalesce(usable.close_date_at, current_stage_entered.entered_at)
        end as closed_at,
        case when usable.deal_status = 'lost' then {{ deal_lost_reason('usable.lost_reason_text') }} end as lost_reason,
        usable.lost_reason_text,
        usable.lost_reason_notes,
        touches.first_touch_activity_id,
        touches.first_touch_channel,
        touches.first_touch_at,
        touches.converting_touch_activity_id,
        touches.converting_touch_channel,
        coalesce(touches.touches_before_deal, 0) as touches_before_deal,
        round((extract(epoch from usable.created_at - touches.first_touch_at) / 86400)::numeric, 2) as days_from_first_touch,
        case
            when usable.deal_status <> 'open'
                then round((
                    extract(epoch from coalesce(usable.close_date_at, current_stage_entered.entered_at) - usable.created_at)
                    / 86400
                )::numeric, 2)
        end as days_to_close,
        first_meeting.meeting_key as first_meeting_id,
        usable.is_archived
    from usable
    left join touches on usable.deal_key = touches.deal_key
    left join first_meeting on usable.deal_key = first_meeting.deal_key
    left join current_stage_entered on usable.deal_key = current_stage_entered.deal_key
)

select * from final
