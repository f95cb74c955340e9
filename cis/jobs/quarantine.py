"""``cis quarantine``: what the loaders refused, by source and reason."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg2 import sql

from cis.db import Target, cursor, reader_target


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
    return total
