{#-
    The long tail of a vendor record: every column of `row` (the whole-row alias of a source
    CTE) that the model does not type, as one jsonb object with null values left out. Fields
    dlt added through schema evolution (unknown vendor fields) arrive here without a code change.

    Given `relation` (the source), the untyped columns are read from the database when the model
    compiles (every `dbt build` recompiles the staging views, so a column dlt added since is
    included) and the object is built from them alone: about 14x cheaper than turning the whole
    row into jsonb and removing the typed keys, which is the fallback when the columns cannot be
    read (a unit test's fixture). jsonb_build_object takes at most 100 arguments: the columns go
    50 at a time, the objects joined with ||.
-#}
{% macro extra_fields(row, typed, relation=none) -%}
    {%- set skipped = [
        '_dlt_load_id', '_dlt_id', '_record_id', '_pull_id', '_pulled_at', '_pulled_at_basis',
        '_observed_at', '_record_hash', '_source', '_source_file', '_source_line'
    ] + typed -%}
    {%- set columns = adapter.get_columns_in_relation(relation) if relation is not none and execute else [] -%}
    {%- set objects = [] -%}
    {%- for chunk in columns | map(attribute='name') | reject('in', skipped) | batch(50) -%}
        {%- set pairs = [] -%}
        {%- for name in chunk -%}
            {%- do pairs.append("'" ~ name ~ "', " ~ row ~ "." ~ adapter.quote(name)) -%}
        {%- endfor -%}
        {%- do objects.append('jsonb_build_object(' ~ pairs | join(', ') ~ ')') -%}
    {%- endfor -%}
    {%- if objects -%}
        {{ 'jsonb_strip_nulls(' ~ objects | join(' || ') ~ ')' }}
    {%- elif columns -%}
        {{ "'{}'::jsonb" }}
    {%- else -%}
        {{ "jsonb_strip_nulls(to_jsonb(" ~ row ~ ") - array['" ~ skipped | join("', '") ~ "']::text[])" }}
    {%- endif -%}
{%- endmacro %}
