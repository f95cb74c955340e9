{#-
    Every analysed reply that says no or raises an objection, by the sender's address, profile
    or number: what pool.dim_leads reads for rejection_reason, the objection history and the
    cooling period.
    Read from the analyzer's results alone, without the pool (dim_leads cannot depend on the
    models that depend on it).
-#}
with

reply_analyses as (
    select * from {{ ref('stg_cis__reply_analyses') }}
),

reply_labels as (
    select * from {{ ref('stg_cis__reply_labels') }}
),

-- A person's label wins over the analyzer's, field by field (as in fct_replies).
readings as (
    select
        coalesce(reply_labels.message_key, reply_analyses.message_key) as message_key,
        coalesce(reply_labels.contact_kind, reply_analyses.contact_kind) as contact_kind,
        coalesce(reply_labels.contact_value, reply_analyses.contact_value) as contact_value,
        coalesce(reply_labels.message_at, reply_analyses.message_at) as message_at,
        coalesce(reply_labels.intent, reply_analyses.intent) as intent,
        coalesce(reply_labels.objection_type, reply_analyses.objection_type, 'none') as objection_type
    from reply_analyses
    full outer join reply_labels
        on reply_analyses.message_key = reply_labels.message_key
),

rejections as (
    select
        message_key,
        contact_kind,
        contact_value,
        message_at as rejected_at,
        intent,
        objection_type,
        {{ reply_rejection_reason('intent', 'objection_type') }} as rejection_reason
    from readings
    where message_at is not null
)

select * from rejections
where rejection_reason is not null or objection_type <> 'none'
