{#-
    The long tail of a vendor record: every column of `row` (the whole-row alias of a source
    CTE) that the model does not type, as one jsonb object with null values left out. Fields
    dlt added through schema evolution (unknown vendor fields) arrive here without a code change.
-#}
{% macro extra_fields(row, typed) -%}
    jsonb_strip_nulls(
        to_jsonb({{ row }})
        - array[
            '_dlt_load_id', '_dlt_id', '_record_id', '_pull_id', '_pulled_at', '_pulled_at_basis',
            '_observed_at', '_record_hash', '_source', '_source_file', '_source_line'
    {%- for column in typed %}, '{{ column }}'{% endfor %}
        ]::text[]
    )
{%- endmacro %}
