{#-
    A regular expression that matches the copy a template renders to: the template's text with
    regex characters escaped and each personalization token ({{field}} or %field%) read as any
    text. `anchor_end` false lets the copy run on past the template (a signature, a footer).
-#}
{% macro template_pattern(column, anchor_end=true) -%}
    '^' || regexp_replace(
        regexp_replace(
            regexp_replace(coalesce({{ column }}, ''), {% raw %}'\{\{[^}]*\}\}|%[A-Za-z_]+%'{% endraw %}, chr(1), 'g'),
            '([.^$*+?()\[\]{}|\\])', '\\\1', 'g'
        ),
        chr(1), '.*', 'g'
    ){% if anchor_end %} || '$'{% endif %}
{%- endmacro %}
