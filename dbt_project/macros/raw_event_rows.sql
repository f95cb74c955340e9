{#-
    The rows of one raw vendor event table (ingestion/events: every vendor's tables share these
    columns), or no rows with the same columns when the table does not exist yet: a project that
    has loaded no Salesforge (or no Twilio ...) data still builds. The source is always named, so
    dbt's lineage and docs show it; whether it exists is read when the model compiles (every
    `dbt build` recompiles the staging views, so a table loaded since is read).
-#}
{% macro raw_event_rows(source_name, table_name) -%}
    {%- set src = source(source_name, table_name) -%}
    {%- set relation = adapter.get_relation(src.database, src.schema, src.identifier) if execute else none -%}
    {%- if relation is not none -%}
        select
            delivery_id::text as delivery_id,
            event_key::text as event_key,
            event_name::text as event_name,
            campaign_id::text as campaign_id,
            lead_email::text as lead_email,
            lead_linkedin_url::text as lead_linkedin_url,
            lead_phone::text as lead_phone,
            occurred_at::timestamptz as occurred_at,
            occurred_at_text::text as occurred_at_text,
            received_at::timestamptz as received_at,
            request_id::text as request_id,
            payload::jsonb as payload,
            _source_file::text as source_file,
            _source_line::bigint as source_line,
            _loaded_at::timestamptz as loaded_at,
            _dlt_load_id::text as load_id
        from {{ src }}
    {%- else -%}
        select
            null::text as delivery_id,
            null::text as event_key,
            null::text as event_name,
            null::text as campaign_id,
            null::text as lead_email,
            null::text as lead_linkedin_url,
            null::text as lead_phone,
            null::timestamptz as occurred_at,
            null::text as occurred_at_text,
            null::timestamptz as received_at,
            null::text as request_id,
            null::jsonb as payload,
            null::text as source_file,
            null::bigint as source_line,
            null::timestamptz as loaded_at,
            null::text as load_id
        where false
    {%- endif -%}
{%- endmacro %}

{#-
    The completed loads dlt recorded in one vendor schema (none when it has loaded nothing yet),
    but none while a loader of that schema is at work: after dlt records a load, the loader still
    deletes the copies it repeated and scrubs suppressed people, under its lock
    (ingestion/pipeline.py, pipeline_lock). A shared try of the same advisory lock, held to the
    end of the registering transaction, tells; the next build registers those loads.
-#}
{% macro raw_event_loads(source_name) -%}
    {%- set src = source(source_name, '_dlt_loads') -%}
    {%- set relation = adapter.get_relation(src.database, src.schema, src.identifier) if execute else none -%}
    {%- if relation is not none -%}
        select
            load_id::text as load_id,
            '{{ source_name }}' as provider,
            inserted_at::timestamptz as loaded_at
        from {{ src }}
        where status = 0 and (select pg_try_advisory_xact_lock_shared({{ loader_lock_key(src.schema) }}))
    {%- else -%}
        select
            null::text as load_id,
            '{{ source_name }}' as provider,
            null::timestamptz as loaded_at
        where false
    {%- endif -%}
{%- endmacro %}

{#-
    The advisory lock key of the loader of `schema` on this database, as ingestion/pipeline.py's
    pipeline_lock computes it: the first 8 bytes of sha256('cis-pipeline:<schema>@<database>'),
    unsigned, less 2^63 (the same bits with the top one flipped, read as a signed bigint).
-#}
{% macro loader_lock_key(schema) -%}
    (
        (
            'x' || left(encode(sha256(convert_to('cis-pipeline:{{ schema }}@' || current_database(), 'UTF8')), 'hex'), 16)
        )::bit(64) # (b'1' || repeat('0', 63)::varbit)::bit(64)
    )::bigint
{%- endmacro %}

{#-
    The rows of `relation` (raw_event_rows' columns) with each payload decompressed once. A
    payload of a few kilobytes is stored compressed, and every `->>` on it decompresses it
    again: a staging model reads thirty fields. `#> '{}'` is the value itself, decompressed;
    `offset 0` keeps the planner from copying that expression into each lookup (measured on
    406,218 Smartlead webhook rows: 4.8 s instead of 12.9 s).
-#}
{% macro unpacked_event_rows(relation) -%}
    select
        {{ relation }}.delivery_id,
        {{ relation }}.event_key,
        {{ relation }}.event_name,
        {{ relation }}.campaign_id,
        {{ relation }}.lead_email,
        {{ relation }}.lead_linkedin_url,
        {{ relation }}.lead_phone,
        {{ relation }}.occurred_at,
        {{ relation }}.occurred_at_text,
        {{ relation }}.received_at,
        {{ relation }}.request_id,
        {{ relation }}.payload #> '{}' as payload,
        {{ relation }}.source_file,
        {{ relation }}.source_line,
        {{ relation }}.loaded_at,
        {{ relation }}.load_id
    from {{ relation }}
    offset 0
{%- endmacro %}
