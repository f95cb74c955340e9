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
    The model must depend on dim_lead_aliases (ref it, or a `-- depends_on:` comment), whose
    post-hook creates client_held_lead_ids().
-#}
{% macro lead_row_security() -%}
    {{ client_row_security(using="lead_id in (select " ~ this.schema ~ ".client_held_lead_ids())") }}
{%- endmacro %}

{#-
    The leads and organizations the connected client role holds, for the row-level security of
    the lead-keyed marts. SECURITY DEFINER (owned by the role that builds the marts) so that a
    policy on dim_lead_aliases can read dim_lead_aliases without recursing into itself; the
    client is the session's login role, so no caller can ask for another client's leads.
    Bodies are checked when called: dim_leads is built after dim_lead_aliases.
-#}
{% macro create_client_held_functions() -%}
    set check_function_bodies = off;
    create or replace function {{ this.schema }}.client_held_lead_ids() returns setof uuid
    language sql stable security definer set search_path = pg_catalog, pg_temp as $fn$
        select alias.lead_id
        from cis.lead_assignments as held
        inner join {{ this.schema }}.dim_lead_aliases as alias
            on held.lead_id = alias.alias_lead_id
        where
            held.assignment_status in ('active', 'converted')
            and held.client_id = (
                select clients.client_id from cis.clients as clients
                where clients.db_role = session_user
            )
    $fn$;
    create or replace function {{ this.schema }}.client_held_organization_ids() returns setof uuid
    language sql stable security definer set search_path = pg_catalog, pg_temp as $fn$
        select distinct leads.organization_id
        from {{ this.schema }}.dim_leads as leads
        where
            leads.organization_id is not null
            and leads.lead_id in (select {{ this.schema }}.client_held_lead_ids())
    $fn$;
    reset check_function_bodies;
    revoke all on function {{ this.schema }}.client_held_lead_ids() from public;
    revoke all on function {{ this.schema }}.client_held_organization_ids() from public;
    grant execute on function {{ this.schema }}.client_held_lead_ids() to cis_clients;
    grant execute on function {{ this.schema }}.client_held_organization_ids() to cis_clients
{%- endmacro %}
