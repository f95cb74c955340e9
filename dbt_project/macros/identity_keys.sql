{#- Normalised identity keys, the same as cis.privacy in Python. -#}
{% macro email_key(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}

{% macro linkedin_key(column) -%}
    nullif(
        rtrim(lower(regexp_replace(trim({{ column }}), '^(https?://)?([a-z]{2,3}\.)?linkedin\.com/', 'linkedin.com/', 'i')), '/'),
        ''
    )
{%- endmacro %}

{% macro identity_hash(kind, value) -%}
    encode(sha256(convert_to('{{ kind }}:' || {{ value }}, 'UTF8')), 'hex')
{%- endmacro %}
