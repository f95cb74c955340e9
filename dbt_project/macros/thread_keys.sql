{#-
    The keys every event, message and thread model agrees on (docs/threads.md).

    thread_key: a thread is the campaign and the person written to, for our messages as for
    theirs (a colleague's reply joins the lead's thread; SMS: the number pair).

    recipient_ref: who a row is about. The pool's lead when the address resolves to one; else
    the address used, so a person the pool does not know is still one recipient; else the row
    itself (no address at all).
-#}
{% macro thread_key(provider, campaign_id, contact_key) -%}
    {{ provider }} || ':' || {{ campaign_id }} || ':' || {{ contact_key }}
{%- endmacro %}

{% macro recipient_ref(lead_id, contact_kind, contact_key, row_ref) -%}
    coalesce({{ lead_id }}::text, {{ contact_kind }} || ':' || nullif({{ contact_key }}, ''), {{ row_ref }})
{%- endmacro %}
