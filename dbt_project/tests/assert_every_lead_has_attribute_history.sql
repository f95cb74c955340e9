-- Every lead in dim_leads has at least one attribute version, and exactly one current version,
-- so "attributes at contact time" joins never silently drop a lead that was pulled.
with

leads as (
    select * from {{ ref('dim_leads') }}
),

history as (
    select * from {{ ref('dim_lead_attribute_history') }}
),

versions as (
    select
        lead_id,
        count(*) as version_count,
        count(*) filter (where is_current) as current_count
    from history
    group by lead_id
),

final as (
    select
        leads.lead_id,
        coalesce(versions.version_count, 0) as version_count,
        coalesce(versions.current_count, 0) as current_count
    from leads
    left join versions on leads.lead_id = versions.lead_id
    where coalesce(versions.current_count, 0) <> 1
)

select * from final
