{#-
    A vendor's time text as timestamptz, or null when it is not an ISO-8601 time PostgreSQL can
    read (a hostile or new format must not fail the build; the raw text stays in the payload).
    PostgreSQL's own input check (pg_input_is_valid, PostgreSQL 16 and later) decides, after a
    shape check that keeps words such as 'now' or 'epoch' out.
-#}
{% macro event_time(text) -%}
    case
        when {{ text }} ~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}'
            and pg_input_is_valid({{ text }}, 'timestamptz')
            then ({{ text }})::timestamptz
    end
{%- endmacro %}

{#- A whole number sent as a JSON number or a string, as integer; else null. -#}
{% macro event_int(text) -%}
    case when {{ text }} ~ '^\s*-?\d{1,9}\s*$' then trim({{ text }})::integer end
{%- endmacro %}

{#- A decimal number sent as a JSON number or a string ("24000", "0.3", "1e3"), as numeric; else null. -#}
{% macro event_number(text) -%}
    case
        when {{ text }} ~ '^\s*-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d{1,3})?\s*$'
            then trim({{ text }})::numeric
    end
{%- endmacro %}

{#- A boolean sent as true/false, "true"/"false" (any case) or 1/0, as boolean; else null. -#}
{% macro event_bool(text) -%}
    case
        when lower(trim({{ text }})) in ('true', '1', 'yes') then true
        when lower(trim({{ text }})) in ('false', '0', 'no') then false
    end
{%- endmacro %}

{% macro json_array_or_empty(expression) -%}
    {#- A jsonb value that should be an array, or an empty one when it is anything else (absent,
        null, an object, a scalar), so jsonb_array_elements never fails on a vendor's shape. -#}
    case when jsonb_typeof({{ expression }}) = 'array' then {{ expression }} else '[]'::jsonb end
{%- endmacro %}
