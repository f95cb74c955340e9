{{
  config(
    materialized='incremental',
    incremental_strategy='scoped_diff',
    on_schema_change='fail',
    tags=['person_scoped'],
    indexes=[
      {'columns': ['reply_id'], 'unique': True},
      {'columns': ['thread_id']},
      {'columns': ['client_id']},
      {'columns': ['lead_id', 'replied_at']},
      {'columns': ['lead_key']},
      {'columns': ['contact_key']},
      {'columns': ['answered_activity_id']},
    ],
    pre_hook=["{{ clear_person_scope(activity_in_person_scope('channel', 'lead_key', 'contact_key')) }}"],
    post_hook=["{{ record_refresh(person_inputs_version()) }}", "{{ client_row_security('client_id') }}"]
  )
}}
{#-
    One row per inbound reply with its thread and what the reply analyzer read in it
    (docs/threads.md, docs/replies.md). A reply the analyzer has not read yet is `pending`; one
    whose body changed since it was read is `stale` and carries no labels until it is read again;
    one known only from Smartlead's statistics rows has no body to read. A person's label
    (`cis replies relabel`) wins over the analyzer's.
-#}
-- depends_on: {{ ref('int_engagement_scope') }}, {{ ref('int_engagement_refresh') }}
with

thread_messages as (
    select * from {{ ref('fct_thread_messages') }}
    where direction = 'inbound' and {{ activity_in_person_scope('channel', 'lead_key', 'contact_key') }}
),

inbound_messages as (
    select * from {{ ref('int_inbound_messages') }}
    where {{ activity_in_person_scope('channel', 'lead_key', 'contact_key') }}
),

reply_analyses as (
    select * from {{ ref('stg_cis__reply_analyses') }}
),

reply_labels as (
    select * from {{ ref('stg_cis__reply_labels') }}
),

analysed as (
    select
        thread_messages.*,
        case
            when inbound_messages.body_text is null and inbound_messages.body_html is null
                then 'no_body'
            when reply_analyses.message_key is null then 'pending'
            when reply_analyses.body_hash <> inbound_messages.body_hash then 'stale'
            else 'analysed'
        end as analysis_status,
        reply_analyses.intent,
        reply_analyses.sentiment,
        reply_analyses.sentiment_score,
        reply_analyses.objection_type,
        reply_analyses.questions,
        reply_analyses.referral_email,
        reply_analyses.ooo_return_date,
        reply_analyses.confidence,
        reply_analyses.analyzer_version,
        reply_analyses.backend as analysis_backend,
        reply_analyses.analyzed_at,
        reply_labels.message_key is not null as is_labelled,
        reply_labels.intent as labelled_intent,
        reply_labels.sentiment as labelled_sentiment,
        reply_labels.objection_type as labelled_objection_type,
        reply_labels.labelled_by,
        reply_labels.labelled_at
    from thread_messages
    inner join inbound_messages
        on thread_messages.message_key = inbound_messages.message_key
    left join reply_analyses
        on thread_messages.message_key = reply_analyses.message_key
    left join reply_labels
        on thread_messages.message_key = reply_labels.message_key
),

-- A person's label wins over the analyzer's, field by field; the analyzer's count only when
-- they read the message as it is now.
labelled as (
    select
        thread_message_id,
        thread_id,
        conversation_id,
        position_in_thread,
        channel,
        provider,
        message_source,
        client_id,
        campaign_id,
        lead_id,
        recipient_ref,
        lead_key,
        contact_key,
        sender,
        is_from_colleague,
        activity_id,
        provider_message_id,
        subject,
        new_text,
        message_at,
        analysis_status,
        is_labelled,
        coalesce(labelled_intent, case when analysis_status = 'analysed' then intent end) as intent,
        coalesce(labelled_sentiment, case when analysis_status = 'analysed' then sentiment end) as sentiment,
        case
            when labelled_sentiment = 'positive' and coalesce(sentiment, '') <> 'positive' then 1.0
            when labelled_sentiment = 'negative' and coalesce(sentiment, '') <> 'negative' then -1.0
            when labelled_sentiment = 'neutral' and coalesce(sentiment, '') <> 'neutral' then 0.0
            when analysis_status = 'analysed' then sentiment_score
        end as sentiment_score,
        coalesce(labelled_objection_type, case when analysis_status = 'analysed' then objection_type end)
            as objection_type,
        case when analysis_status = 'analysed' then questions end as questions,
        case when analysis_status = 'analysed' then referral_email end as referral_email,
        case when analysis_status = 'analysed' then ooo_return_date end as ooo_return_date,
        case
            when is_labelled then 1.0
            when analysis_status = 'analysed' then confidence
        end as confidence,
        case when analysis_status = 'analysed' then analyzer_version end as analyzer_version,
        case when analysis_status = 'analysed' then analysis_backend end as analysis_backend,
        case when analysis_status = 'analysed' then analyzed_at end as analyzed_at,
        labelled_by,
        labelled_at
    from analysed
),

final as (
    select
        thread_message_id as reply_id,
        thread_id,
        conversation_id,
        position_in_thread,
        row_number() over (partition by thread_id order by message_at, thread_message_id)::integer
            as reply_number,
        channel,
        provider,
        message_source,
        client_id,
        campaign_id,
        lead_id,
        recipient_ref,
        lead_key,
        contact_key,
        sender,
        is_from_colleague,
        activity_id as answered_activity_id,
        provider_message_id,
        message_at as replied_at,
        subject,
        new_text,
        analysis_status,
        case when is_labelled then 'review' when intent is not null then 'analyzer' end as label_source,
        intent,
        sentiment,
        sentiment_score,
        objection_type,
        questions,
        referral_email,
        ooo_return_date,
        confidence,
        intent in ('interested', 'meeting_request', 'info_request') as is_positive,
        intent in ('out_of_office', 'auto_reply', 'bounce') as is_automatic,
        -- Why the lead said no, in the fixed set dim_leads carries (docs/threads.md).
        {{ reply_rejection_reason('intent', 'objection_type') }} as rejection_reason,
        analyzer_version,
        analysis_backend,
        analyzed_at,
        labelled_by,
        labelled_at
    from labelled
)

select * from final
