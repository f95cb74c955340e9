"""Vendor API records into the same raw rows as landing lines.

An API source hands each record it fetched in as a landing line whose ``_cis_receipt`` says
where it came from (``source: "api"``, the endpoint, the fetch time and, for rows the vendor
returns without it, the campaign they belong to). So an API pull and a landing file of the same
records store the same columns, quarantine the same way, and the same version of a snapshot
(a statistics row, a campaign, a sequence) has one ``delivery_id`` however it arrived.

A pull returns every row again, changed or not: after the load, :func:`drop_known_versions`
removes every row whose version was already stored, so each version of a record is kept once and a re-pull of unchanged rows adds nothing (``merge on stats_id``, with every
version kept: staging takes the newest).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from psycopg2 import sql

from ingestion.events import RECEIPT_KEY, EventKind
from ingestion.landing import LandingLine
from ingestion.quarantine import Rejection
from ingestion.values import value_problem


def fetched_at() -> str:
    return datetime.now(tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def api_lines(
    kind: EventKind,
    records: Iterable[Any],
    endpoint: str,
    first_number: int = 1,
    **receipt: str | None,
) -> Iterator[LandingLine | Rejection]:
    """Each record of one API answer as a line of ``kind`` (numbered from ``first_number``),
    or a Rejection for one that is not an object or holds a value the warehouse cannot store."""
    source = f"api:{endpoint}"
    stamp = {"source": "api", "endpoint": endpoint, "received_at": fetched_at()}
    stamp.update({k: v for k, v in receipt.items() if v is not None})
    for number, record in enumerate(records, start=first_number):
        if not isinstance(record, dict):
            yield Rejection(
                kind.record_kind,
                f"not a JSON object ({type(record).__name__})",
                source,
                number,
                repr(record)[:2000],
            )
            continue
        problem = value_problem(record)
        if problem:
            yield Rejection(kind.record_kind, problem, source, number, repr(record)[:2000])
            continue
        yield LandingLine({**record, RECEIPT_KEY: stamp}, source, number)


def drop_known_versions(cur, dataset: str, tables: Sequence[str]) -> int:
    """Delete every row of ``tables`` whose ``delivery_id`` an earlier row already has (the
    earliest load's copy stays); the number of rows deleted.

    Table-wide rather than per load: a run that died between its load and this step leaves
    copies that the next run removes. Set-based, on an index of ``delivery_id`` (created here
    when missing): the group-by reads the index, not the rows.
    """
    removed = 0
    for table in tables:
        cur.execute("select to_regclass(%s)", (f"{dataset}.{table}",))
        if cur.fetchone()[0] is None:
            continue
        name = sql.Identifier(dataset, table)
        cur.execute(
            sql.SQL("create index if not exists {} on {} (delivery_id)").format(
                sql.Identifier(f"{table}_delivery_id"), name
            )
        )
        cur.execute(
            sql.SQL(
                """
                delete from {t} as later
                using (
                    select ctid, row_number() over (
                        partition by delivery_id order by _dlt_load_id, ctid
                    ) as copy
                    from {t}
                    where delivery_id in (
                        select delivery_id from {t} group by delivery_id having count(*) > 1
                    )
                ) as versions
                where later.ctid = versions.ctid and versions.copy > 1
                """
            ).format(t=name)
        )
        removed += cur.rowcount
    return removed
