"""Indexes every raw event table carries once loaded: the load a row came in (``_dlt_load_id``:
the incremental marts read only the loads they have not seen, and the post-load passes only the
rows a load wrote) and the person (``lead_email``: the marts recompute the people new events
are about)."""

from __future__ import annotations

from collections.abc import Iterable

from psycopg2 import sql

INDEXED_COLUMNS = ("_dlt_load_id", "lead_email")


def index_event_tables(cur, dataset: str, tables: Iterable[str]) -> None:
    """Create the indexes that ``dataset``'s event ``tables`` lack (tables not created yet are
    skipped)."""
    for table in sorted(set(tables)):
        cur.execute("select to_regclass(%s)", (f"{dataset}.{table}",))
        if cur.fetchone()[0] is None:
            continue
        for column in INDEXED_COLUMNS:
            cur.execute(
                sql.SQL("create index if not exists {} on {} ({})").format(
                    sql.Identifier(f"{table}_{column.strip('_')}"),
                    sql.Identifier(dataset, table),
                    sql.Identifier(column),
                )
            )
