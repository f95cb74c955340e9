{#- Company size band from an employee count. -#}
{% macro size_band(column) -%}
    case
        when {{ column }} is null then null
        when {{ column }} <= 10 then '1-10'
        when {{ column }} <= 50 then '11-50'
        when {{ column }} <= 200 then '51-200'
        when {{ column }} <= 500 then '201-500'
        when {{ column }} <= 1000 then '501-1000'
        when {{ column }} <= 5000 then '1001-5000'
        when {{ column }} <= 10000 then '5001-10000'
        else '10001+'
    end
{%- endmacro %}
