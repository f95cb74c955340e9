"""Figures on the loaded vendor events for the demo's summary: rows, duplicates, rejections."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg2 import sql

from cis.db import Target, cursor, reader_target
from cis.jobs.ingest_events import EVENT_DATASETS


@dataclass(frozen=True)
class EventTableFigures:
    """One raw event table: its rows and how many of them repeat an event already there."""

    relation: str
    rows: int
    distinct_events: int

    @property
    def duplicates(self) -> int:
        """Deliveries of an event that was already delivered (the same ``event_key``)."""
        return self.rows - self.distinct_events


def event_table_figures(target: Target) -> list[EventTableFigures]:
    """Rows and distinct event keys of every raw event table that exists."""
    figures = []
    with cursor(reader_target(target)) as cur:
        for dataset, kinds in EVENT_DATASETS.items():
            for table in dict.fromkeys(k.table for k in kinds):
                cur.execute("select to_regclass(%s)", (f"{dataset}.{table}",))
                if cur.fetchone()[0] is None:
                    continue
                cur.execute(
                    sql.SQL("select count(*), count(distinct event_key) from {}").format(
                        sql.Identifier(dataset, table)
                    )
                )
                rows, distinct = cur.fetchone()
                figures.append(EventTableFigures(f"{dataset}.{table}", rows, distinct))
    return figures


def rejections_by_reason(target: Target, top: int = 10) -> list[tuple[str, str, int]]:
    """(schema, reason, count) of the most frequent quarantine reasons over every raw schema.

    Reasons that name a value (a line's column, a field's text) are grouped by their first
    words, so one kind of problem is one row.
    """
    from cis.jobs.quarantine import quarantine_tables

    counts: dict[tuple[str, str], int] = {}
    with cursor(reader_target(target)) as cur:
        for schema in quarantine_tables(target):
            cur.execute(
                sql.SQL("select reason, count(*) from {} group by 1").format(
                    sql.Identifier(schema, "rejected_records")
                )
            )
            for reason, count in cur.fetchall():
                key = (schema, reason_kind(reason or ""))
                counts[key] = counts.get(key, 0) + count
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [(schema, reason, count) for (schema, reason), count in ranked[:top]]


def reason_kind(reason: str) -> str:
    """A reason without its particulars: the text before the first parenthesis or colon."""
    for mark in (" (", ": "):
        reason = reason.split(mark, 1)[0]
    return reason.strip()
