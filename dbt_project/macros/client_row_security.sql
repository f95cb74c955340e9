{#-
    Row-level security on a mart, enabled and forced: a client read role sees only its own rows
    (cis.current_client_id() maps the connected role to its client), the transformer sees all.
    `using` overrides the client predicate, e.g. for tables keyed by lead rather than client.
-#}
{% macro client_row_security(client_column='client_id', using=none) -%}
    {%- set predicate = using if using else client_column ~ ' = cis.current_client_id()' -%}
    alter table {{ this }} enable row level security;
    alter table {{ this }} force row level security;
    drop policy if exists cis_client_own_rows on {{ this }};
    create policy cis_client_own_rows on {{ this }} for select to cis_clients using ({{ predicate }});
    drop policy if exists cis_owner_all on {{ this }};
    create policy cis_owner_all on {{ this }} for all to current_user using (true) with check (true)
{%- endmacro %}

{#-
    Row-level security for tables keyed by lead: a client role sees the leads it holds (an
    active or converted assignment, recorded against the lead's current id or any alias).
    The model must depend on dim_lead_aliases (ref it, or a `-- depends_on:` comment).
-#}
{% macro lead_row_security() -%}
    {{ client_row_security(using=(
        "exists (select 1 from cis.lead_assignments as held"
        ~ " inner join " ~ this.schema ~ ".dim_lead_aliases as alias"
        ~ " on held.lead_id = alias.alias_lead_id"
        ~ " where alias.lead_id = " ~ this.identifier ~ ".lead_id"
        ~ " and held.client_id = cis.current_client_id()"
        ~ " and held.assignment_status in ('active', 'converted'))"
    )) }}
{%- endmacro %}
