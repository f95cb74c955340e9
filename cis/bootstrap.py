"""Create the project's roles, operational schema and row-level security (idempotent)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from psycopg2 import errors, sql

from cis.db import CLIENTS_GROUP_ROLE, LOADER_ROLE, TRANSFORMER_ROLE, Target, cursor

# Operational tables that hold a client's rows, and the predicate a client role's rows meet.
# cis.clients matches on the role itself: cis.current_client_id() reads that table.
CLIENT_SCOPED_OPS_TABLES: dict[str, str] = {
    "clients": "db_role = current_user",
    "lead_assignments": "client_id = cis.current_client_id()",
    "contact_events": "client_id = cis.current_client_id()",
    "validation_results": "client_id = cis.current_client_id()",
}


@contextlib.contextmanager
def _set_up_lock(target: Target) -> Iterator:
    """A cursor holding the set-up lock: roles, grants and the ops schema change one at a time.

    Every verb runs the set-up first; without the lock, concurrent verbs fail on catalog
    updates of the same objects ("tuple concurrently updated").
    """
    with cursor(target) as cur:
        cur.execute("select pg_advisory_lock(hashtext('cis.bootstrap'))")
        try:
            yield cur
        finally:
            cur.execute("select pg_advisory_unlock(hashtext('cis.bootstrap'))")


def _ensure_role(cur, role: str, login: bool) -> None:
    cur.execute("select 1 from pg_roles where rolname = %s", (role,))
    if cur.fetchone() is None:
        # Roles belong to the whole server: a set-up on another database may race this one.
        with contextlib.suppress(errors.DuplicateObject, errors.UniqueViolation):
            cur.execute(
                sql.SQL("create role {} {}").format(
                    sql.Identifier(role), sql.SQL("login" if login else "nologin")
                )
            )


def ensure_roles(target: Target) -> None:
    """The loader, the transformer and the group every client read role belongs to."""
    with _set_up_lock(target) as cur:
        _ensure_role(cur, LOADER_ROLE, login=True)
        _ensure_role(cur, TRANSFORMER_ROLE, login=True)
        _ensure_role(cur, CLIENTS_GROUP_ROLE, login=False)
        database = sql.Identifier(target.dbname)
        for role in (LOADER_ROLE, TRANSFORMER_ROLE):
            cur.execute(
                sql.SQL("grant connect, create on database {} to {}").format(
                    database, sql.Identifier(role)
                )
            )
        cur.execute(
            sql.SQL("grant connect on database {} to {}").format(
                database, sql.Identifier(CLIENTS_GROUP_ROLE)
            )
        )
        if target.embedded:
            # What the loader creates, the transformer may read (raw_* schemas and tables).
            cur.execute(
                sql.SQL(
                    "alter default privileges for role {l} grant usage on schemas to {t};"
                    "alter default privileges for role {l} grant select on tables to {t}"
                ).format(l=sql.Identifier(LOADER_ROLE), t=sql.Identifier(TRANSFORMER_ROLE))
            )


def ensure_client_role(target: Target, role: str) -> None:
    """One login role per agency client, a member of the clients group."""
    with _set_up_lock(target) as cur:
        _ensure_role(cur, role, login=True)
        cur.execute(
            sql.SQL("grant {} to {}").format(
                sql.Identifier(CLIENTS_GROUP_ROLE), sql.Identifier(role)
            )
        )


def ensure_ops_schema(target: Target) -> None:
    """Create the ``cis`` schema and its tables, grants and row-level security."""
    ddl = (Path(__file__).parent / "sql" / "ops_schema.sql").read_text()
    with _set_up_lock(target) as cur:
        cur.execute(ddl)
        _grant_ops(cur)
        for table, predicate in CLIENT_SCOPED_OPS_TABLES.items():
            enable_client_rls(cur, "cis", table, predicate)


def _grant_ops(cur) -> None:
    transformer = sql.Identifier(TRANSFORMER_ROLE)
    clients = sql.Identifier(CLIENTS_GROUP_ROLE)
    loader = sql.Identifier(LOADER_ROLE)
    cur.execute(
        sql.SQL("grant usage on schema cis to {}, {}, {}").format(transformer, clients, loader)
    )
    # The loader applies deletion requests to what it loads (hashed keys only).
    cur.execute(sql.SQL("grant select on cis.suppression_keys to {}").format(loader))
    cur.execute(sql.SQL("grant select on all tables in schema cis to {}").format(transformer))
    cur.execute(sql.SQL("grant execute on function cis.current_client_id() to {}").format(clients))
    for table in CLIENT_SCOPED_OPS_TABLES:
        cur.execute(
            sql.SQL("grant select on {} to {}").format(sql.Identifier("cis", table), clients)
        )


def enable_client_rls(cur, schema: str, table: str, predicate: str) -> None:
    """Enable and force row-level security: a client role sees only its own rows.

    The operator that runs the pool steps and the transformer see every row.
    """
    relation = sql.Identifier(schema, table)
    cur.execute(sql.SQL("alter table {} enable row level security").format(relation))
    cur.execute(sql.SQL("alter table {} force row level security").format(relation))
    policies = {
        "cis_client_own_rows": sql.SQL("for select to {} using (" + predicate + ")").format(
            sql.Identifier(CLIENTS_GROUP_ROLE)
        ),
        "cis_transformer_reads_all": sql.SQL("for select to {} using (true)").format(
            sql.Identifier(TRANSFORMER_ROLE)
        ),
        "cis_operator_all": sql.SQL("for all to current_user using (true) with check (true)"),
    }
    for name, body in policies.items():
        cur.execute(
            sql.SQL("drop policy if exists {} on {}").format(sql.Identifier(name), relation)
        )
        cur.execute(
            sql.SQL("create policy {} on {} ").format(sql.Identifier(name), relation) + body
        )


def bootstrap(target: Target) -> None:
    """Everything the pipelines need before they first run."""
    ensure_roles(target)
    ensure_ops_schema(target)
