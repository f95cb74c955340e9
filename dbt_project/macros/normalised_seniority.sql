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

{#-
    The lead's functional department: Apollo's first `master_*` department without the prefix
    (master_finance -> finance). Apollo also lists seniority-like values (`c_suite`) among the
    departments of executives; those are never a department. Without a master_* value, the first
    other entry that is not seniority-like; else null. The raw list stays in `departments`.
-#}
{% macro primary_department(departments) -%}
    (
        select regexp_replace(entry.value, '^master_', '')
        from jsonb_array_elements_text(
            case when jsonb_typeof({{ departments }}) = 'array' then {{ departments }} end
        ) with ordinality as entry (value, position)
        where
            nullif(trim(entry.value), '') is not null
            and entry.value not in (
                'owner', 'founder', 'c_suite', 'partner', 'vp', 'head', 'director',
                'manager', 'senior', 'entry', 'intern'
            )
        order by entry.value like 'master\_%' desc, entry.position asc
        limit 1
    )
{%- endmacro %}
