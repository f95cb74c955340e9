{#-
    An Apollo date: 'YYYY-MM-DD', or a partial 'YYYY-MM' / 'YYYY' read as the first day of that
    month or year (employment history often knows only the month). Anything else, impossible
    dates such as 2013-02-30 included, is null rather than an error that breaks the view.
    Nested CASEs, because only CASE guarantees the shape is checked before the casts run.
-#}
{% macro apollo_date(column) -%}
    case
        when {{ column }} ~ '^[1-9]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$'
            then case
                when substr({{ column }}, 9, 2)::int <= extract(day from (
                    make_date(substr({{ column }}, 1, 4)::int, substr({{ column }}, 6, 2)::int, 1)
                    + interval '1 month' - interval '1 day'
                ))
                    then {{ column }}::date
            end
        when {{ column }} ~ '^[1-9]\d{3}-(0[1-9]|1[0-2])$' then ({{ column }} || '-01')::date
        when {{ column }} ~ '^[1-9]\d{3}$' then ({{ column }} || '-01-01')::date
    end
{%- endmacro %}
