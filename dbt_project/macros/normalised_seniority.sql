{#- Apollo's seniority when it is one Apollo documents, else 'unknown'. -#}
{% macro normalised_seniority(column) -%}
    case
        when {{ column }} in (
            'owner', 'founder', 'c_suite', 'partner', 'vp', 'head', 'director',
            'manager', 'senior', 'entry', 'intern'
        ) then {{ column }}
        else 'unknown'
    end
{%- endmacro %}

{#- The first Apollo department without its master_ prefix (master_operations -> operations). -#}
{% macro primary_department(departments) -%}
    nullif(regexp_replace({{ departments }} ->> 0, '^master_', ''), '')
{%- endmacro %}
