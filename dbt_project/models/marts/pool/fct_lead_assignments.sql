{{ config(
    indexes=[
        {'columns': ['lead_id']},
        {'columns': ['client_id', 'assignment_status']},
        {'columns': ['assigned_at']},
    ],
    post_hook=["{{ client_row_security('client_id') }}"]
) }}

with

assignments as (
    select * from {{ ref('stg_cis__lead_assignments') }}
),

clients as (
    select * from {{ ref('dim_clients') }}
),

aliases as (
    select * from {{ ref('dim_lead_aliases') }}
),

activities as (
    select * from {{ ref('fct_activities') }}
),

engagement as (
    select * from {{ ref('fct_activity_engagement') }}
),

-- What this client has done with each lead, on every channel (the engagement marts).
contact_summary as (
    select
        activities.client_id,
        activities.lead_id,
        min(activities.sent_at) as first_contacted_at,
        max(activities.sent_at) as last_contacted_at,
        count(*)::integer as touches,
        array_agg(distinct activities.channel order by activities.channel) as channels_used,
        count(*) filter (where activities.channel = 'email')::integer as emails_sent,
        count(*) filter (where engagement.email_opened)::integer as emails_opened,
        count(*) filter (where engagement.email_clicked)::integer as emails_clicked,
        coalesce(bool_or(engagement.replied), false) as has_replied
    from activities
    inner join engagement on activities.activity_id = engagement.activity_id
    where activities.is_touch and activities.lead_id is not null
    group by activities.client_id, activities.lead_id
),

final as (
    select
        assignments.assignment_id,
        assignments.lead_id,
        aliases.lead_id as current_lead_id,
        assignments.client_id,
        clients.client_slug,
        assignments.assignment_status,
        assignments.assignment_status = 'active' as is_active,
        assignments.icp_score,
        assignments.assigned_by,
        assignments.assigned_at,
        assignments.released_at,
        assignments.release_reason,
        assignments.converted_at,
        assignments.allocation_run_id,
        contact_summary.first_contacted_at,
        contact_summary.last_contacted_at,
        coalesce(contact_summary.touches, 0) as touches,
        coalesce(contact_summary.channels_used, array[]::text[]) as channels_used,
        coalesce(contact_summary.emails_sent, 0) as emails_sent,
        coalesce(contact_summary.emails_opened, 0) as emails_opened,
        coalesce(contact_summary.emails_clicked, 0) as emails_clicked,
        coalesce(contact_summary.has_replied, false) as has_replied
    from assignments
    inner join clients on assignments.client_id = clients.client_id
    left join aliases on assignments.lead_id = aliases.alias_lead_id
    left join contact_summary
        on
            assignments.client_id = contact_summary.client_id
            and coalesce(aliases.lead_id, assignments.lead_id) = contact_summary.lead_id
)

select * from final
