{{ config(
    materialized='table',
    indexes=[{'columns': ['record_kind', 'record_key'], 'unique': True}],
    post_hook=["{{ analyze_if_rebuilt() }}"]
) }}
{#-
    The agency client each CRM meeting and deal belongs to, by the first rule that names one
    (docs/crm.md, "Which client a record belongs to"): the file's client column; a deal pipeline
    the client claims (campaigns.crm.pipeline_ids; a meeting through its deal); a CRM owner it
    claims (campaigns.crm.owner_ids); the client whose touch of the lead came last before the
    record; else the client the lead was assigned to when the record was made (the latest assignment before it, or the latest at all). Null when none applies.
-#}
with

meetings as (
    select * from {{ ref('int_crm_meetings') }}
),

deals as (
    select * from {{ ref('int_crm_deals') }}
),

record_leads as (
    select * from {{ ref('int_crm_record_leads') }}
),

clients as (
    select * from {{ ref('stg_cis__clients') }}
),

claims as (
    select * from {{ ref('stg_cis__client_crm_claims') }}
),

assignments as (
    select * from {{ ref('fct_lead_assignments') }}
),

records as (
    select
        'meeting' as record_kind,
        meetings.meeting_key as record_key,
        meetings.source_system,
        meetings.client_slug,
        deals.pipeline_id,
        meetings.owner_id,
        coalesce(meetings.booked_at, meetings.scheduled_for) as made_at
    from meetings
    left join deals on meetings.deal_key = deals.deal_key
    union all
    select
        'deal' as record_kind,
        deal_key as record_key,
        source_system,
        client_slug,
        pipeline_id,
        owner_id,
        created_at as made_at
    from deals
),

by_assignment as (
    select distinct on (record_leads.record_kind, record_leads.record_key)
        record_leads.record_kind,
        record_leads.record_key,
        assignments.client_id
    from records
    inner join record_leads
        on
            records.record_kind = record_leads.record_kind
            and records.record_key = record_leads.record_key
    inner join assignments on record_leads.lead_id = assignments.current_lead_id
    order by
        record_leads.record_kind asc,
        record_leads.record_key asc,
        coalesce(assignments.assigned_at <= records.made_at, false) desc,
        assignments.assigned_at desc
),

final as (
    select
        records.record_kind,
        records.record_key,
        coalesce(
            by_file.client_id, by_pipeline.client_id, by_owner.client_id, by_touch.client_id, by_assignment.client_id
        ) as client_id,
        case
            when by_file.client_id is not null then 'file'
            when by_pipeline.client_id is not null then 'pipeline'
            when by_owner.client_id is not null then 'owner'
            when by_touch.client_id is not null then 'touch'
            when by_assignment.client_id is not null then 'assignment'
        end as client_attributed_by,
        records.client_slug is not null and by_file.client_id is null as is_unknown_client_slug
    from records
    left join clients as by_file on records.client_slug = by_file.client_slug
    left join lateral (
        select min(claims.client_id::text)::uuid as client_id
        from claims
        where
            claims.claim_kind = 'pipeline'
            and claims.claim_id = records.pipeline_id
            -- CRM ids are HubSpot's: a file's pipeline name (or its 'default') claims nothing.
            and records.source_system = 'hubspot'
        having count(distinct claims.client_id) = 1
    ) as by_pipeline on true
    left join lateral (
        select min(claims.client_id::text)::uuid as client_id
        from claims
        where
            claims.claim_kind = 'owner'
            and claims.claim_id = records.owner_id
            and records.source_system = 'hubspot'
        having count(distinct claims.client_id) = 1
    ) as by_owner on true
    left join record_leads
        on
            records.record_kind = record_leads.record_kind
            and records.record_key = record_leads.record_key
    -- The client whose touch came last before the record (on the index of lead and send time).
    left join lateral (
        select activities.client_id
        from {{ ref('fct_activities') }} as activities
        where
            activities.lead_id = record_leads.lead_id
            and activities.sent_at <= records.made_at
            and activities.is_touch
            and activities.client_id is not null
        order by activities.sent_at desc
        limit 1
    ) as by_touch on true
    left join by_assignment
        on
            records.record_kind = by_assignment.record_kind
            and records.record_key = by_assignment.record_key
)

select * from final
