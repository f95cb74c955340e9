"""One real embedded PostgreSQL per test session, and a fresh database per test.

``conftest.py`` builds the ``target`` fixture on these two helpers; modules that share one
database across tests (the end-to-end pool tests) call them directly.

The server runs from a short temporary folder (unix socket paths must stay under ~100
characters) and is stopped, and its folder removed, when the test process exits.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import re
import shutil
import tempfile
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from cis.bootstrap import ensure_roles
from cis.db import Target, cursor, start_embedded, stop_embedded

_lock = threading.Lock()
_server: Target | None = None
_NAME = re.compile(r"[^a-z0-9_]+")


def embedded_server() -> Target:
    """The admin target (database ``postgres``) of this session's embedded server.

    Started on first use, in ``tempfile.mkdtemp(prefix="cis-test-")``; later calls return the
    same target.
    """
    global _server
    with _lock:
        if _server is None:
            folder = Path(tempfile.mkdtemp(prefix="cis-test-"))
            pgdata = folder / "pgdata"
            atexit.register(_stop, folder, pgdata)
            _server = start_embedded(pgdata, dbname="postgres")
        return _server


def _stop(folder: Path, pgdata: Path) -> None:
    with contextlib.suppress(Exception):
        stop_embedded(pgdata)
    shutil.rmtree(folder, ignore_errors=True)


def database_name(text: str) -> str:
    """A valid PostgreSQL database name (< 64 bytes) derived from ``text`` (e.g. a test id)."""
    name = _NAME.sub("_", text.lower()).strip("_") or "db"
    if name[0].isdigit():
        name = "t_" + name
    if len(name) > 50:
        name = name[:41] + "_" + hashlib.sha1(text.encode()).hexdigest()[:8]
    return name


def fresh_database(admin: Target, name: str, template: Target | None = None) -> Target:
    """Drop (if it exists) and create database ``name``; return ``admin`` pointed at it.

    With ``template``, the new database is a copy of that one (``create database ...
    template``); sessions still open on it are ended first (a template must be idle).
    """
    name = database_name(name)
    with cursor(replace(admin, dbname="postgres")) as cur:
        if template is not None:
            cur.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity"
                " where datname = %s and pid <> pg_backend_pid()",
                (template.dbname,),
            )
        cur.execute(f'drop database if exists "{name}" with (force)')
        copy_of = f' template "{template.dbname}"' if template is not None else ""
        cur.execute(f'create database "{name}"{copy_of}')
    return replace(admin, dbname=name)


def copy_database(template: Target, name: str) -> Target:
    """A loaded and built warehouse that several tests start from, copied under ``name``
    rather than loaded and built again. What a database grants its roles (connect, create) is
    not part of the copy: it is given again, as ``cis db init`` gives it."""
    copy = fresh_database(template, name, template=template)
    ensure_roles(copy)
    return copy


# ---- reading what a test loaded -------------------------------------------------------------


def query(target: Target, sql: str, params: tuple | dict = ()) -> list[tuple]:
    with cursor(target) as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def dict_rows(target: Target, sql: str, params: tuple | dict = ()) -> list[dict[str, Any]]:
    with cursor(target) as cur:
        cur.execute(sql, params)
        names = [d.name for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def columns(target: Target, schema: str, table: str) -> dict[str, str]:
    """Column name to ``information_schema`` data type."""
    return dict(
        query(
            target,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = %s and table_name = %s",
            (schema, table),
        )
    )


def table_counts(target: Target, schema: str) -> dict[str, int]:
    """Row count of every data table of ``schema`` (dlt's own ``_dlt_*`` tables left out)."""
    tables = [
        name
        for (name,) in query(
            target,
            "select table_name from information_schema.tables where table_schema = %s",
            (schema,),
        )
        if not name.startswith("_dlt")
    ]
    return {
        name: query(target, f'select count(*) from "{schema}"."{name}"')[0][0] for name in tables
    }
