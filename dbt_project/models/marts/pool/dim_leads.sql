{{ config(
    indexes=[
        {'columns': ['apollo_person_id']},
        {'columns': ['email']},
        {'columns': ['linkedin_url']},
        {'columns': ['organization_id']},
        {'columns': ['pool_status']},
        {'columns': ['assigned_client_id']},
        {'columns': ['seniority', 'department']},
    ],
    post_hook=["{{ lead_row_security() }}"]
) }}

with

-- Read three times (the lead rows, suppressions, events): not materialized, so each reads the
-- table rather than a copy of every lead written to disk first.
leads as not materialized (
    select * from {{ ref('int_leads_survived') }}
),

organizations as (
    select * from {{ ref('dim_organizations') }}
),

current_roles as (
    select * from {{ ref('int_current_roles_derived') }}
),

countries as (
    select * from {{ ref('country_codes') }}
),

country_lookup as (
    -- A country as Apollo writes it (a name) or as a code, one equi-join key for both.
    select
        lower(country_name) as country_key,
        country_code,
        default_time_zone
    from countries
    union
    select
        lower(country_code) as country_key,
        country_code,
        default_time_zone
    from countries
),

regions as (
    select * from {{ ref('region_time_zones') }}
),

assignments as (
    select * from {{ ref('stg_cis__lead_assignments') }}
),

aliases as (
    select * from {{ ref('dim_lead_aliases') }}
),

contact_events as (
    select * from {{ ref('stg_cis__contact_events') }}
),

engagement_signals as (
    select * from {{ ref('int_engagement_contact_signals') }}
),

suppression_keys as (
    select * from {{ ref('stg_cis__suppression_keys') }}
),

reply_objections as (
    select * from {{ ref('int_reply_objections') }}
),

held_assignments as (
    -- Assignments may name a lead id that gave way in a merge: read them through the aliases.
    select
        aliases.lead_id,
        assignments.client_id,
        assignments.assignment_status,
        row_number() over (
            partition by aliases.lead_id
            order by assignments.assignment_status = 'converted' desc, assignments.assigned_at
        ) as holder_rank
    from assignments
    inner join aliases on assignments.lead_id = aliases.alias_lead_id
    where assignments.assignment_status in ('active', 'converted')
),

holders as (
    select
        lead_id,
        client_id,
        assignment_status
    from held_assignments
    where holder_rank = 1
),

suppression_by_lead as (
    select
        leads.lead_id,
        min(suppression_keys.suppressed_at) as deleted_at
    from leads
    cross join lateral unnest(leads.apollo_person_ids) as person_ids (apollo_person_id)
    inner join suppression_keys
        on
            suppression_keys.key_kind = 'apollo_id'
            and suppression_keys.key_hash = {{ identity_hash('apollo_id', 'person_ids.apollo_person_id') }}
    group by leads.lead_id
),

events_by_lead as (
    -- Events name a lead, or (from sources that only know the address) an email.
    select
        lead_id,
        bool_or(event_type = 'do_not_contact') as has_do_not_contact,
        bool_or(event_type = 'unsubscribe') as has_unsubscribed,
        bool_or(event_type = 'bounce') as has_bounced,
        bool_or(event_type = 'bounce' and channel = 'email') as has_email_bounced
    from (
        select
            aliases.lead_id,
            contact_events.event_type,
            contact_events.channel
        from contact_events
        inner join aliases on contact_events.lead_id = aliases.alias_lead_id
        union all
        select
            leads.lead_id,
            contact_events.event_type,
            contact_events.channel
        from contact_events
        inner join leads on contact_events.email = leads.email
        where contact_events.lead_id is null
        -- What the vendors report (hard bounces, unsubscribes, do-not-contact), by address.
        union all
        select
            leads.lead_id,
            engagement_signals.event_type,
            engagement_signals.channel
        from engagement_signals
        inner join leads on engagement_signals.email = leads.email
        union all
        select
            leads.lead_id,
            engagement_signals.event_type,
            engagement_signals.channel
        from engagement_signals
        inner join leads
            on engagement_signals.phone_digits = regexp_replace(leads.phone_numbers -> 0 ->> 'sanitized_number', '[^0-9]', '', 'g')
    ) as lead_events
    group by lead_id
),

-- What the lead's replies said (the reply analyzer's results, by address or profile): the
-- latest no, when it came, every objection raised, and whether it starts the cooling period.
objections_by_lead as (
    select
        lead_id,
        (array_agg(rejection_reason order by rejected_at desc, message_key asc) filter (
            where rejection_reason is not null
        ))[1] as rejection_reason,
        max(rejected_at) filter (where rejection_reason is not null) as rejection_at,
        max(rejected_at) filter (
            where rejection_reason not in ('do_not_contact', 'wrong_contact')
        ) as not_interested_at,
        bool_or(rejection_reason = 'do_not_contact') as asked_to_stop,
        jsonb_agg(
            jsonb_build_object(
                'at', rejected_at, 'intent', intent, 'objection_type', objection_type,
                'rejection_reason', rejection_reason
            )
            order by rejected_at, message_key
        ) as objection_history
    from (
        select
            leads.lead_id,
            reply_objections.*
        from reply_objections
        inner join leads
            on reply_objections.contact_kind = 'email' and reply_objections.contact_value = leads.email
        union
        select
            leads.lead_id,
            reply_objections.*
        from reply_objections
        inner join leads
            on
                reply_objections.contact_kind = 'linkedin'
                and reply_objections.contact_value = {{ linkedin_key('leads.linkedin_url') }}
    ) as lead_objections
    group by lead_id
),

enriched as (
    select
        leads.*,
        organizations.organization_id,
        organizations.organization_name as company_name,
        organizations.primary_domain as company_domain,
        organizations.industry,
        organizations.employee_count,
        organizations.company_size_band,
        current_roles.current_role_title,
        current_roles.current_role_started_on,
        coalesce(
            country_lookup.country_code,
            case when upper(leads.country) ~ '^[A-Z]{2}$' then upper(leads.country) end
        ) as country_code,
        regions.time_zone as region_time_zone,
        country_lookup.default_time_zone as country_time_zone,
        holders.client_id as assigned_client_id,
        holders.assignment_status as holder_status,
        suppression_by_lead.deleted_at,
        coalesce(events_by_lead.has_do_not_contact, false) as has_do_not_contact,
        coalesce(events_by_lead.has_unsubscribed, false) as has_unsubscribed,
        coalesce(events_by_lead.has_bounced, false) as has_bounced,
        coalesce(events_by_lead.has_email_bounced, false) as has_email_bounced,
        objections_by_lead.rejection_reason,
        objections_by_lead.rejection_at,
        objections_by_lead.not_interested_at,
        coalesce(objections_by_lead.asked_to_stop, false) as asked_to_stop,
        objections_by_lead.objection_history
    from leads
    left join organizations on leads.apollo_organization_id = organizations.apollo_organization_id
    left join current_roles on leads.role_record_id = current_roles.person_record_id
    left join country_lookup on lower(leads.country) = country_lookup.country_key
    left join regions
        on
            country_lookup.country_code = regions.country_code
            and lower(leads.state) = lower(regions.region_name)
    left join holders on leads.lead_id = holders.lead_id
    left join suppression_by_lead on leads.lead_id = suppression_by_lead.lead_id
    left join events_by_lead on leads.lead_id = events_by_lead.lead_id
    left join objections_by_lead on leads.lead_id = objections_by_lead.lead_id
),

final as (
    select
        lead_id,
        apollo_person_id,
        apollo_person_ids,
        identity_basis,
        first_name,
        last_name,
        full_name,
        title,
        headline,
        email,
        -- A hard bounce says more about the address than Apollo's verification did.
        case when has_email_bounced then 'bounced' else email_status end as email_status,
        coalesce(email_status = 'verified' and not has_email_bounced, false) as is_email_verified,
        linkedin_url,
        phone_numbers -> 0 ->> 'sanitized_number' as phone,
        phone_numbers,
        personal_emails,
        photo_url,
        twitter_url,
        github_url,
        facebook_url,
        extrapolated_email_confidence,
        {{ normalised_seniority('seniority') }} as seniority,
        {{ primary_department('departments') }} as department,
        departments,
        subdepartments,
        functions,
        intent_strength,
        show_intent,
        email_domain_catchall,
        revealed_for_current_team,
        is_likely_to_engage,
        street_address,
        city,
        state,
        country,
        country_code,
        postal_code,
        formatted_address,
        time_zone as apollo_time_zone,
        coalesce(time_zone, region_time_zone, country_time_zone) as lead_time_zone,
        case
            when time_zone is not null then 'apollo'
            when region_time_zone is not null then 'region'
            when country_time_zone is not null then 'country'
        end as time_zone_source,
        organization_id,
        apollo_organization_id,
        company_name,
        company_domain,
        industry,
        employee_count,
        company_size_band,
        coalesce(current_role_title, title) as current_role_title,
        current_role_started_on,
        pull_count::integer as pull_count,
        field_sources,
        extra_fields,
        role_record_id,
        latest_record_id,
        enriched_at,
        last_enriched_at,
        case
            when deleted_at is not null or has_do_not_contact then 'do_not_contact'
            when has_unsubscribed or asked_to_stop then 'unsubscribed'
            when has_bounced then 'bounced'
            when
                not_interested_at
                > '{{ run_started_at }}'::timestamptz - interval '{{ var("not_interested_cooling_days") }} days'
                then 'cooling'
            when email is null and linkedin_url is null then 'invalid'
            when holder_status = 'converted' then 'converted'
            when holder_status = 'active' then 'assigned'
            else 'available'
        end as pool_status,
        assigned_client_id,
        rejection_reason,
        rejection_at,
        coalesce(objection_history, '[]'::jsonb) as objection_history,
        deleted_at
    from enriched
)

select * from final
