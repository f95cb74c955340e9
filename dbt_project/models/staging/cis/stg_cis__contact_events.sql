with

source as (
    select * from {{ source('cis', 'contact_events') }}
),

renamed as (
    select
        event_id,
        lead_id,
        {{ email_key('email') }} as email,
        client_id,
        channel,
        event_type,
        occurred_at,
        source as event_source
    from source
)

select * from renamed
