"""No verb lends the administrator's rights to code a lower role wrote.

The loader owns the raw tables and the transformer the marts; each may put a trigger on what it
owns. A trigger runs as whoever changes the table, so a verb that changed those tables as the
superuser would run the trigger as the superuser (here: ``alter role … superuser``). The test
arms such a trigger on every table each role owns, runs every verb that touches them, and
checks that the triggers fired (so the verbs did reach those tables) and never as a superuser.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from psycopg2 import sql

from cis.bootstrap import bootstrap
from cis.clients import load_clients
from cis.db import LOADER_ROLE, TRANSFORMER_ROLE, Target, cursor, loader_target, transformer_target
from cis.generate import generate_landing
from cis.jobs.allocate import allocate
from cis.jobs.clients_sync import sync_clients
from cis.jobs.forget import forget_person
from cis.jobs.gaps import completeness
from cis.jobs.ingest import ingest_landing
from cis.jobs.quarantine import quarantined
from cis.jobs.summary import pool_figures
from cis.jobs.validate import validate_assigned
from cis.pool_settings import load_pool_settings
from cis.transform import run_dbt
from tests.event_builds import MODELS_ONLY
from tests.pg import embedded_server, fresh_database, query

ROOT = Path(__file__).resolve().parents[1]
LOG = "public.cis_trigger_log"

_ARM = """
create or replace function {schema}.cis_escalate() returns trigger language plpgsql as $$
begin
    insert into public.cis_trigger_log (fired_as, fired_as_superuser, on_table)
    values (current_user,
            (select rolsuper from pg_roles where rolname = current_user),
            tg_table_schema || '.' || tg_table_name);
    begin
        execute 'alter role {role} superuser';
    exception when others then
        null;  -- not allowed: the point of the test
    end;
    return null;
end $$;
"""


def _arm(target: Target, role: str, schema: str) -> list[str]:
    """As ``role``: a statement trigger on every table of ``schema`` it owns."""
    with cursor(target) as cur:
        cur.execute(_ARM.format(schema=schema, role=role))
        cur.execute(
            "select c.relname from pg_class as c join pg_namespace as n on n.oid = c.relnamespace "
            "where n.nspname = %s and c.relkind = 'r' and pg_get_userbyid(c.relowner) = %s",
            (schema, role),
        )
        tables = [row[0] for row in cur.fetchall()]
        for table in tables:
            relation = sql.Identifier(schema, table)
            for event in ("insert or update or delete", "truncate"):
                cur.execute(
                    sql.SQL(
                        "create trigger {} after " + event + " on {} for each statement "
                        "execute function {}()"
                    ).format(
                        sql.Identifier(f"cis_escalate_{event.split()[0]}"),
                        relation,
                        sql.Identifier(schema, "cis_escalate"),
                    )
                )
    return tables


@pytest.fixture(scope="module")
def armed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("escalation")
    target = fresh_database(embedded_server(), "no_escalation")
    bootstrap(target)
    with cursor(target) as cur:
        cur.execute(
            f"create table {LOG} (fired_as text, fired_as_superuser boolean, on_table text, "
            "fired_at timestamptz default clock_timestamp())"
        )
        cur.execute(f"grant insert on {LOG} to public")
    landing = work / "landing"
    generate_landing(landing, 60, seed=3)
    ingest_landing(target, landing, pipelines_dir=work / "dlt")
    clients = load_clients(ROOT / "config" / "clients.yml")
    sync_clients(target, clients)
    run_dbt(MODELS_ONLY, transformer_target(target), work_dir=work / "dbt")
    raw = _arm(loader_target(target), LOADER_ROLE, "raw_apollo")
    marts = _arm(transformer_target(target), TRANSFORMER_ROLE, "pool")
    marts += _arm(transformer_target(target), TRANSFORMER_ROLE, "intermediate")
    assert "people" in raw and "dim_leads" in marts
    return {"target": target, "work": work, "landing": landing, "clients": clients}


def _superusers(target: Target) -> list[tuple]:
    return query(
        target,
        "select rolname from pg_roles where rolsuper and rolname = any(%s)",
        ([LOADER_ROLE, TRANSFORMER_ROLE],),
    )


def test_the_administrator_is_a_superuser(armed: dict) -> None:
    """Otherwise the test below would prove nothing."""
    assert query(armed["target"], "select rolsuper from pg_roles where rolname = current_user") == [
        (True,)
    ]


def test_no_verb_runs_a_lower_roles_trigger_as_superuser(armed: dict) -> None:
    target, work = armed["target"], armed["work"]
    settings = load_pool_settings(ROOT / "config" / "pool.yml")
    email = query(
        target,
        "select email from raw_apollo.people where email is not null "
        "and split_part(email, '@', 1) not in ('info', 'sales') order by _record_id limit 1",
    )[0][0]

    ingest_landing(target, armed["landing"], pipelines_dir=work / "dlt")
    sync_clients(target, armed["clients"])
    allocate(target, armed["clients"], settings.allocation)
    validate_assigned(target, armed["clients"], "email")
    forget_person(target, email=email, pipelines_dir=work / "dlt")
    quarantined(target)
    completeness(target)
    pool_figures(target)

    fired = query(
        target, f"select on_table, fired_as, fired_as_superuser from {LOG} order by fired_at"
    )
    tables = {row[0] for row in fired}
    # forget changed raw people, the marts and the intermediate tables: their triggers fired.
    assert {"raw_apollo.people", "pool.dim_leads"} <= tables
    assert any(t.startswith("intermediate.") for t in tables)
    assert [row for row in fired if row[2]] == []
    assert {row[1] for row in fired} <= {LOADER_ROLE, TRANSFORMER_ROLE}
    assert _superusers(target) == []
