{#- A person's labels for a reply (`cis replies relabel`); they win over the analyzer's. -#}
with

source as (
    select * from {{ source('cis', 'reply_labels') }}
),

renamed as (
    select
        message_key,
        contact_kind,
        contact_value,
        intent,
        sentiment,
        objection_type,
        message_at,
        labelled_by,
        note,
        labelled_at
    from source
)

select * from renamed
