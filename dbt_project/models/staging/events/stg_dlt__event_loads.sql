{{
  config(
    materialized='incremental',
    unique_key='load_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    indexes=[
      {'columns': ['load_id'], 'unique': True},
      {'columns': ['seen_at']},
    ]
  )
}}
{#-
    Every completed dlt load into a vendor event schema, registered the first time a build sees
    it (`seen_at` is that build's start). The incremental event models read the loads seen since
    they last ran (docs/engagement.md, "Incremental builds"): a load still being written when a
    build starts is not registered yet, and is read by the next build.
-#}
with

loads as (
    {{ raw_event_loads('smartlead') }}
    union all
    {{ raw_event_loads('salesforge') }}
    union all
    {{ raw_event_loads('heyreach') }}
    union all
    {{ raw_event_loads('twilio') }}
),

registered as (
    select
        loads.load_id,
        loads.provider,
        loads.loaded_at,
        '{{ run_started_at }}'::timestamptz as seen_at
    from loads
    {% if is_incremental() -%}
        where not exists (
            select 1 from {{ this }} as registered_loads
            where registered_loads.load_id = loads.load_id
        )
    {%- endif %}
)

select * from registered
