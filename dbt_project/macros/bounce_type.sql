{#- A bounce message's class: `hard` for an SMTP 5.x.x status, `soft` for 4.x.x, else `unknown`. -#}
{% macro bounce_type(text) -%}
    case
        when {{ text }} ~ '(^|[^0-9.])5\.[0-9]{1,3}\.[0-9]{1,3}' then 'hard'
        when {{ text }} ~ '(^|[^0-9.])4\.[0-9]{1,3}\.[0-9]{1,3}' then 'soft'
        else 'unknown'
    end
{%- endmacro %}
