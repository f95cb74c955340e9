{#- numerator / denominator as a share with four decimals; null when the denominator is 0 or null. -#}
{% macro rate(numerator, denominator) -%}
    round(({{ numerator }})::numeric / nullif({{ denominator }}, 0), 4)
{%- endmacro %}
