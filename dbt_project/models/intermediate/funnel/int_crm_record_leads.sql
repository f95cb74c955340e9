{{ config(
    materialized='table',
    indexes=[{'columns': ['record_kind', 'record_key'], 'unique': True}, {'columns': ['lead_id']}],
    post_hook=["{{ analyze_if_rebuilt() }}"]
) }}
{#-
    The pool lead each CRM meeting and deal is about. A record's own contacts come first (the
    first that matched a lead, in the CRM's order); a deal with no matched contact of its own
    takes the lead of a meeting that belongs to it. One row per record, matched or not.
-#}
with

meetings as (
    select * from {{ ref('int_crm_meetings') }}
),

deals as (
    select * from {{ ref('int_crm_deals') }}
),

matches as (
    select * from {{ ref('int_crm_contact_matches') }}
),

records as (
    select
        'meeting' as record_kind,
        meeting_key as record_key,
        contact_keys
    from meetings
    union all
    select
        'deal' as record_kind,
        deal_key as record_key,
        contact_keys
    from deals
),

-- Each record's contacts in the CRM's order, with their matches (set-based: one pass).
listed as (
    select
        records.record_kind,
        records.record_key,
        contact_list.contact_key,
        contact_list.position
    from records
    cross join
        lateral jsonb_array_elements_text(records.contact_keys)
        with ordinality as contact_list (contact_key, position)
),

best_contact as (
    select distinct on (listed.record_kind, listed.record_key)
        listed.record_kind,
        listed.record_key,
        matches.contact_key,
        matches.lead_id,
        matches.match_method,
        matches.match_confidence
    from listed
    left join matches on listed.contact_key = matches.contact_key
    order by listed.record_kind asc, listed.record_key asc, matches.lead_id is null asc, listed.position asc
),

own_contact as (
    select
        records.record_kind,
        records.record_key,
        best_contact.contact_key,
        best_contact.lead_id,
        best_contact.match_method,
        best_contact.match_confidence
    from records
    left join best_contact
        on records.record_kind = best_contact.record_kind and records.record_key = best_contact.record_key
),

meeting_of_deal as (
    select distinct on (meetings.deal_key)
        meetings.deal_key,
        own_contact.contact_key,
        own_contact.lead_id,
        own_contact.match_method,
        own_contact.match_confidence
    from meetings
    inner join own_contact
        on
            own_contact.record_kind = 'meeting'
            and meetings.meeting_key = own_contact.record_key
    where meetings.deal_key is not null and own_contact.lead_id is not null
    order by meetings.deal_key asc, meetings.scheduled_for asc nulls last, meetings.meeting_key asc
),

final as (
    select
        own_contact.record_kind,
        own_contact.record_key,
        coalesce(own_contact.lead_id, meeting_of_deal.lead_id) as lead_id,
        case
            when own_contact.lead_id is null and meeting_of_deal.lead_id is not null
                then meeting_of_deal.contact_key
            else own_contact.contact_key
        end as contact_key,
        case
            when own_contact.lead_id is null and meeting_of_deal.lead_id is not null
                then meeting_of_deal.match_method
            else coalesce(own_contact.match_method, 'no_contact')
        end as match_method,
        coalesce(own_contact.match_confidence, meeting_of_deal.match_confidence) as match_confidence,
        own_contact.lead_id is null and meeting_of_deal.lead_id is not null as is_lead_from_meeting
    from own_contact
    left join meeting_of_deal
        on
            own_contact.record_kind = 'deal'
            and own_contact.record_key = meeting_of_deal.deal_key
)

select * from final
