-- Exclusivity: at most one active or converted assignment per lead (the partial unique index in
-- cis.lead_assignments guarantees it; this checks the mart did not duplicate rows).
with

assignments as (
    select * from {{ ref('fct_lead_assignments') }}
),

final as (
    select
        lead_id,
        count(*) as holder_count
    from assignments
    where assignment_status in ('active', 'converted')
    group by lead_id
    having count(*) > 1
)

select * from final
