{#-
    The latest snapshot of each vendor object (a Smartlead campaign, a Salesforge sequence) in a
    raw event table: newest vendor time first, then the last loaded. One row per `campaign_id`
    with its `payload`.
-#}
{% macro latest_snapshots(source_name, table_name) -%}
    select distinct on (campaign_id)
        campaign_id,
        payload
    from ({{ raw_event_rows(source_name, table_name) }}) as snapshots
    where campaign_id is not null
    order by campaign_id asc, occurred_at desc nulls last, loaded_at desc, delivery_id desc
{%- endmacro %}
