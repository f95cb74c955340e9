{#- Client read roles may enter the mart schemas; row-level security decides which rows they see. -#}
{% macro grant_mart_schema_usage(built_schemas) -%}
    {%- for schema in built_schemas if schema in var('mart_schemas') %}
        grant usage on schema {{ schema }} to cis_clients;
    {%- endfor %}
{%- endmacro %}
