"""Deletion requests in the raw event tables: the event stays (its key, name, campaign and
time), the person's address and the body that names them do not."""

from __future__ import annotations

from psycopg2 import sql

from ingestion.apollo.suppression import Identifiers

_PERSONAL = ("lead_email", "lead_linkedin_url", "lead_phone", "payload", "receipt")


def event_tables(cur) -> list[tuple[str, str]]:
    """(schema, table) of every raw event table (those with ``delivery_id`` and ``payload``)."""
    cur.execute(
        "select table_schema, table_name from information_schema.columns "
        "where table_schema like 'raw\\_%%' and column_name in ('delivery_id', 'payload') "
        "group by 1, 2 having count(*) = 2 order by 1, 2"
    )
    return [(schema, table) for schema, table in cur.fetchall()]


def scrub_events(cur, identifiers: Identifiers) -> int:
    """Anonymise every event of the person: by the lead's address, or a body naming them."""
    needles = identifiers.needles()
    if not needles:
        return 0
    total = 0
    for schema, table in event_tables(cur):
        relation = sql.Identifier(schema, table)
        cur.execute(
            sql.SQL(
                "select delivery_id, payload::text from {} where payload is not null and ("
                "lower(lead_email) = any(%s) or exists (select 1 from unnest(%s::text[]) "
                "as n(needle) where strpos(lower(payload::text), n.needle) > 0))"
            ).format(relation),
            (sorted(identifiers.emails), needles),
        )
        ids = [delivery for delivery, text in cur.fetchall() if identifiers.named_in(text)]
        cur.execute(
            sql.SQL(
                "update {} set {} where delivery_id = any(%s) or lower(lead_email) = any(%s)"
            ).format(
                relation,
                sql.SQL(", ").join(
                    sql.SQL("{} = null").format(sql.Identifier(c)) for c in _PERSONAL
                ),
            ),
            (ids, sorted(identifiers.emails)),
        )
        total += cur.rowcount
    return total
