"""Indexes every raw event table carries once loaded: the load a row came in (``_dlt_load_id``:
the incremental event models read only the loads they have not seen, and the post-load passes
only the rows a load wrote) and the person (``lead_email``); Smartlead's statistics rows also by
their ``stats_id`` (each version of a row a new load brings is read again with the others)."""

from __future__ import annotations

from collections.abc import Iterable

from psycopg2 import sql

# Index name suffix -> indexed expression, for every event table.
INDEXED = {"dlt_load_id": "_dlt_load_id", "lead_email": "lead_email"}
# ... and for some tables only.
INDEXED_BY_TABLE = {"statistics": {"stats_id": "(payload ->> 'stats_id')"}}


def index_event_tables(cur, dataset: str, tables: Iterable[str]) -> None:
    """Create the indexes that ``dataset``'s event ``tables`` lack (tables not created yet are
    skipped)."""
    for table in sorted(set(tables)):
        cur.execute("select to_regclass(%s)", (f"{dataset}.{table}",))
        if cur.fetchone()[0] is None:
            continue
        for suffix, expression in {**INDEXED, **INDEXED_BY_TABLE.get(table, {})}.items():
            cur.execute(
                sql.SQL("create index if not exists {} on {} ({})").format(
                    sql.Identifier(f"{table}_{suffix}"),
                    sql.Identifier(dataset, table),
                    sql.SQL(expression),
                )
            )
