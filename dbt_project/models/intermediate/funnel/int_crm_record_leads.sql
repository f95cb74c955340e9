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

own_contact as (
    select
        records.record_kind,
        records.record_key,
        best.contact_key,
        best.lead_id,
        best.match_method,
        best.match_confidence
    from records
    left join lateral (
        select
            matches.contact_key,
            matches.lead_id,
            matches.match_method,
            matches.match_confidence
        from jsonb_array_elements_text(records.contact_keys) with ordinality as listed (contact_key, position)
        left join matches on listed.contact_key = matches.contact_key
        order by matches.lead_id is null, listed.position
        limit 1
    ) as best on true
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
