"""``cis quarantine``: what the loaders refused, by source and reason, and the CRM records the
funnel marts leave out (``intermediate.int_crm_rejections``: read, but not usable as they are)."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg2 import sql
from psycopg2.extensions import cursor as Cursor

from cis.db import Target, cursor, reader_target

MODEL_REJECTIONS = "intermediate.int_crm_rejections"


@dataclass(frozen=True)
class QuarantinedRecord:
    schema: str
    record_kind: str
    reason: str
    source_file: str | None
    source_line: int | None


def quarantine_tables(target: Target) -> list[str]:
    """Every raw schema's ``rejected_records`` table."""
    with cursor(reader_target(target)) as cur:
        cur.execute(
            "select table_schema from information_schema.tables "
            "where table_name = 'rejected_records' and table_schema like 'raw\\_%' "
            "order by table_schema"
        )
        return [row[0] for row in cur.fetchall()]


def quarantined(target: Target, limit: int | None = None) -> list[QuarantinedRecord]:
    records: list[QuarantinedRecord] = []
    with cursor(reader_target(target)) as cur:
        for schema in quarantine_tables(target):
            cur.execute(
                sql.SQL(
                    "select record_kind, reason, source_file, source_line from {} "
                    "order by source_file nulls first, source_line nulls first {}"
                ).format(
                    sql.Identifier(schema, "rejected_records"),
                    sql.SQL("limit {}").format(sql.Literal(limit)) if limit else sql.SQL(""),
                )
            )
            records.extend(QuarantinedRecord(schema, *row) for row in cur.fetchall())
        if _has_model_rejections(cur):
            cur.execute(
                f"select record_kind, reason, record_key from {MODEL_REJECTIONS} "
                f"order by record_kind, record_key {'limit %s' if limit else ''}",
                (limit,) if limit else None,
            )
            records.extend(
                QuarantinedRecord(MODEL_REJECTIONS, kind, reason, key, None)
                for kind, reason, key in cur.fetchall()
            )
    return records


def quarantine_count(target: Target) -> int:
    total = 0
    with cursor(reader_target(target)) as cur:
        for schema in quarantine_tables(target):
            cur.execute(
                sql.SQL("select count(*) from {}").format(
                    sql.Identifier(schema, "rejected_records")
                )
            )
            total += cur.fetchone()[0]
        if _has_model_rejections(cur):
            cur.execute(f"select count(*) from {MODEL_REJECTIONS}")
            total += cur.fetchone()[0]
    return total


def _has_model_rejections(cur: Cursor) -> bool:
    cur.execute("select to_regclass(%s)", (MODEL_REJECTIONS,))
    return cur.fetchone()[0] is not None
