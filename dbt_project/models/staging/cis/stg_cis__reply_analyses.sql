{#- The reply analyzer's result for each inbound message (docs/replies.md). -#}
with

source as (
    select * from {{ source('cis', 'reply_analyses') }}
),

renamed as (
    select
        message_key,
        contact_kind,
        contact_value,
        body_hash,
        analyzer_version,
        backend,
        intent,
        sentiment,
        sentiment_score,
        objection_type,
        questions,
        referral_email,
        ooo_return_date,
        confidence,
        new_text,
        quoted_text,
        message_at,
        analyzed_at
    from source
)

select * from renamed
