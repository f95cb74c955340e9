{{
  config(
    materialized='incremental',
    incremental_strategy='scoped_diff',
    on_schema_change='fail',
    tags=['person_scoped'],
    diff_ignore=['status_as_of'],
    indexes=[
      {'columns': ['thread_id'], 'unique': True},
      {'columns': ['conversation_id']},
      {'columns': ['client_id']},
      {'columns': ['lead_id']},
      {'columns': ['status']},
    ],
    pre_hook=["{{ clear_person_scope(thread_in_scope()) }}"],
    post_hook=["{{ record_refresh(person_inputs_version()) }}", "{{ client_row_security('client_id') }}"]
  )
}}
{#-
    One row per thread with its timing, its status as of this build and its outcome so far
    (docs/threads.md, "Status and outcome"). Person-scoped like the messages it reads, and a
    thread turns stale or dead by the clock alone, with no new data: each build also recomputes
    the threads the clock moved (thread_scope.sql). A row that came out the same keeps the
    status_as_of of the build that wrote it. Meetings and deals (the CRM) will add
    meeting_booked and converted.
-#}
-- depends_on: {{ ref('int_engagement_scope') }}, {{ ref('int_engagement_refresh') }}
with

messages as (
    select * from {{ ref('fct_thread_messages') }}
    where {{ thread_in_scope() }}
),

replies as (
    select * from {{ ref('fct_replies') }}
    where {{ thread_in_scope() }}
),

ordered as (
    select
        *,
        lag(direction) over (partition by thread_id order by position_in_thread) as previous_direction,
        min(case when direction = 'inbound' then position_in_thread end) over (partition by thread_id)
            as first_inbound_position,
        -- The last message of ours before each message: a reply's latency runs from it.
        max(case when direction = 'outbound' then message_at end) over (
            partition by thread_id order by position_in_thread
            rows between unbounded preceding and 1 preceding
        ) as last_outbound_before,
        -- The next message of ours after each: the agency's response to an inbound one.
        min(case when direction = 'outbound' then message_at end) over (
            partition by thread_id order by position_in_thread
            rows between 1 following and unbounded following
        ) as next_outbound_after,
        min(case when direction = 'outbound' then position_in_thread end) over (
            partition by thread_id order by position_in_thread
            rows between 1 following and unbounded following
        ) as next_outbound_position
    from messages
),

responses as (
    select
        ordered.thread_id,
        extract(epoch from ordered.next_outbound_after - ordered.message_at) / 60 as response_minutes,
        ordered.position_in_thread,
        min(ordered.position_in_thread) over (partition by ordered.thread_id) as first_response_position,
        -- A message a person wrote in the vendor's inbox, or a sequence step.
        answer.message_source = 'inbox' as is_by_person
    from ordered
    inner join messages as answer
        on ordered.thread_id = answer.thread_id and ordered.next_outbound_position = answer.position_in_thread
    where
        ordered.direction = 'inbound'
        and ordered.next_outbound_after is not null
        and ordered.previous_direction is distinct from 'inbound'
),

summary as (
    select
        thread_id,
        min(thread_key) as thread_key,
        min(conversation_id::text)::uuid as conversation_id,
        min(client_id::text)::uuid as client_id,
        min(campaign_id) as campaign_id,
        min(lead_id::text)::uuid as lead_id,
        min(recipient_ref) as recipient_ref,
        min(lead_key) as lead_key,
        min(contact_key) as contact_key,
        min(channel) as channel,
        min(provider) as provider,
        min(message_at) filter (where direction = 'outbound') as first_outbound_at,
        min(message_at) filter (where direction = 'inbound') as first_reply_at,
        max(message_at) as last_message_at,
        count(*) filter (where direction = 'outbound')::integer as messages_outbound,
        count(*) filter (where direction = 'inbound')::integer as messages_inbound,
        count(*) filter (where direction is distinct from previous_direction)::integer as conversation_turns,
        min(extract(epoch from message_at - last_outbound_before) / 60) filter (
            where position_in_thread = first_inbound_position
        ) as lead_reply_latency_minutes,
        bool_or(is_from_colleague) as has_colleague_reply
    from ordered
    group by thread_id
),

response_summary as (
    select
        thread_id,
        count(*)::integer as agency_responses,
        min(response_minutes) filter (where position_in_thread = first_response_position)
            as agency_first_response_minutes,
        percentile_cont(0.5) within group (order by response_minutes) as agency_median_response_minutes,
        bool_or(is_by_person) as any_by_person
    from responses
    group by thread_id
),

-- The thread's last reply a person wrote (automatic notices say nothing of the outcome).
last_human_reply as (
    select distinct on (thread_id)
        thread_id,
        intent,
        objection_type,
        rejection_reason,
        referral_email,
        replied_at
    from replies
    where analysis_status = 'analysed' and not is_automatic
    order by thread_id asc, replied_at desc, reply_id asc
),

classified as (
    select
        summary.*,
        response_summary.agency_responses,
        response_summary.agency_first_response_minutes,
        response_summary.agency_median_response_minutes,
        response_summary.any_by_person,
        last_human_reply.intent as last_reply_intent,
        last_human_reply.replied_at as last_reply_at,
        case
            when last_human_reply.rejection_reason = 'timing_not_now' then 'future_interest'
            when last_human_reply.rejection_reason = 'wrong_contact' and last_human_reply.referral_email is not null
                then 'referral'
            when last_human_reply.rejection_reason is not null then 'rejected'
            when last_human_reply.intent = 'referral' then 'referral'
            when summary.last_message_at < {{ threads_as_of() }} - interval '30 days' then 'no_response'
            else 'ongoing'
        end as outcome,
        case
            when last_human_reply.rejection_reason = 'wrong_contact' and last_human_reply.referral_email is not null
                then 'referral_email'
            else last_human_reply.rejection_reason
        end as outcome_reason
    from summary
    left join response_summary
        on summary.thread_id = response_summary.thread_id
    left join last_human_reply
        on summary.thread_id = last_human_reply.thread_id
),

final as (
    select
        thread_id,
        thread_key,
        conversation_id,
        client_id,
        campaign_id,
        lead_id,
        recipient_ref,
        lead_key,
        contact_key,
        channel,
        provider,
        first_outbound_at,
        first_reply_at,
        last_message_at,
        messages_outbound,
        messages_inbound,
        conversation_turns,
        round(lead_reply_latency_minutes::numeric, 1)::numeric(12, 1) as lead_reply_latency_minutes,
        coalesce(agency_responses, 0) as agency_responses,
        round(agency_first_response_minutes::numeric, 1)::numeric(12, 1) as agency_first_response_minutes,
        round(agency_median_response_minutes::numeric, 1)::numeric(12, 1) as agency_median_response_minutes,
        case
            when any_by_person then 'person'
            when agency_responses > 0 then 'automation'
        end as agency_answered_by,
        has_colleague_reply,
        last_reply_intent,
        case
            when outcome in ('rejected', 'referral', 'future_interest') then 'resolved'
            when last_message_at < {{ threads_as_of() }} - interval '30 days' then 'dead'
            when last_message_at < {{ threads_as_of() }} - interval '14 days' then 'stale'
            else 'active'
        end as status,
        outcome,
        case
            when outcome = 'no_response' then last_message_at + interval '30 days'
            when outcome <> 'ongoing' then last_reply_at
        end as outcome_at,
        outcome_reason,
        {{ threads_as_of() }} as status_as_of
    from classified
)

select * from final
