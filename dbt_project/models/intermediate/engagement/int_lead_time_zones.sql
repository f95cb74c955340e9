{#-
    Each pool lead's time zone, where it names a zone of the tz database this server knows (an
    unknown name from a vendor would fail every local-time computation it reached).
-#}
with

leads as (
    select * from {{ ref('dim_leads') }}
),

known_zones as (
    select name from pg_catalog.pg_timezone_names
),

zoned as (
    select
        leads.lead_id,
        leads.lead_time_zone as time_zone,
        leads.time_zone_source
    from leads
    inner join known_zones
        on leads.lead_time_zone = known_zones.name
)

select * from zoned
