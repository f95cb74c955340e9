{#-
    An HTML email body as plain text: block ends become spaces, tags go, `&nbsp;` and runs of
    white space become one space. Enough for word counts and reading; not a full HTML parser.
-#}
{% macro html_to_text(column) -%}
    trim(regexp_replace(
        regexp_replace(
            regexp_replace(coalesce({{ column }}, ''), '<(br|/p|/div|/li)[^>]*>', ' ', 'gi'),
            '<[^>]*>', ' ', 'g'
        ),
        '(&nbsp;|\s)+', ' ', 'g'
    ))
{%- endmacro %}
