{#- The pool lead each email address belongs to (one lead per address), for the event marts. -#}
with

leads as (
    select * from {{ ref('dim_leads') }}
),

by_email as (
    select distinct on (email)
        email,
        lead_id
    from leads
    where email is not null
    order by email asc, lead_id asc
)

select * from by_email
