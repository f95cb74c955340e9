{#- Deterministic UUID from a natural key: md5 of the parts joined by '|', as cis.clients.deterministic_uuid does. -#}
{% macro cis_uuid(parts) -%}
    md5({%- for part in parts -%}coalesce(({{ part }})::text, ''){%- if not loop.last %} || '|' || {% endif -%}{%- endfor -%})::uuid
{%- endmacro %}
