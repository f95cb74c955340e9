"""The physical reference of the ingest benchmarks: a plain ``COPY`` of the same rows.

Each given raw table's rows are copied out (``COPY ... TO STDOUT``) and then, timed, into an
empty copy of the table (``LIKE ... INCLUDING ALL``: same columns, types and keys) with
``COPY ... FROM STDIN``: what this machine's PostgreSQL needs for those rows and nothing else.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterable

from cis.db import Target, connect


def copy_reference(target: Target, tables: Iterable[tuple[str, str]]) -> tuple[int, float]:
    """Rows and seconds of a plain COPY of each ``(schema, table)``'s rows into an empty copy."""
    rows, seconds = 0, 0.0
    conn = connect(target)
    try:
        with conn.cursor() as cur:
            for schema, table in tables:
                buffer = io.StringIO()
                cur.copy_expert(f'copy "{schema}"."{table}" to stdout', buffer)
                buffer.seek(0)
                copy = f"{table}_copy"
                cur.execute(
                    f'create table "{schema}"."{copy}" (like "{schema}"."{table}" including all)'
                )
                started = time.perf_counter()
                cur.copy_expert(f'copy "{schema}"."{copy}" from stdin', buffer)
                seconds += time.perf_counter() - started
                cur.execute(f'select count(*) from "{schema}"."{copy}"')
                rows += cur.fetchone()[0]
    finally:
        conn.close()
    return rows, seconds
