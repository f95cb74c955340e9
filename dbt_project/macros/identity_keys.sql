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

{#- A shared role address (info@, sales@ ...): a contact point, not a person's identity. -#}
{% macro is_role_email(column) -%}
    (split_part({{ column }}, '@', 1) in ('{{ var("role_email_local_parts") | join("', '") }}'))
{%- endmacro %}

{#- An email's key, '' for none: the incremental models scope people by it (a row without an address is one more person). -#}
{% macro email_key_or_blank(column) -%}
    coalesce({{ email_key(column) }}, '')
{%- endmacro %}
