"""Deletion requests in the raw event tables: the event stays (its key, name, campaign and
time), the person's address and the body that names them do not.

Two ways in: ``cis forget`` finds every event of the person (``scrub_events``), and after every
event load ``suppress_loaded`` applies the hashed keys of every deletion request
(``cis.suppression_keys``) to the rows that load wrote, set-based in SQL, the way the loader
withholds a line at read time (``ingestion.events.event_row``: by the lead's email or LinkedIn
URL). The second covers a request recorded after the run read the keys, and a package a crashed
run left pending.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from psycopg2 import sql

from cis.db import table_columns
from ingestion.apollo.suppression import LINKEDIN_KEY_SQL, Identifiers, text_identity_hashes
from ingestion.quarantine import WITHHELD

_PERSONAL = ("lead_email", "lead_linkedin_url", "lead_phone", "payload", "receipt")
# An event row a suppression key covers, by the same keys ``cis.privacy.identity_keys`` makes
# of the lead's email and LinkedIn URL (the row is ``e``). A row withheld at read time has
# neither, so it is never matched (nor counted) twice.
_COVERED = """exists (
    select 1 from cis.suppression_keys as k
    where k.key_hash in (
        encode(sha256(convert_to('email:' || lower(trim(e.lead_email)), 'UTF8')), 'hex'),
        encode(sha256(convert_to('linkedin_url:' || {linkedin}, 'UTF8')), 'hex')
    )
)"""


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


@dataclass(frozen=True)
class LoadSuppression:
    """What one pass over the rows of some loads changed."""

    events: int  # event rows that lost the person's data
    rejections: int  # rejected lines that lost their payload


def suppress_loaded(
    cur, dataset: str, tables: Iterable[str], load_ids: Sequence[str]
) -> LoadSuppression:
    """Apply every suppression key to the rows the loads ``load_ids`` wrote into ``dataset``.

    Event rows (of ``tables``) are matched and scrubbed in one ``update`` per table, restricted
    to the loads; rejected lines of the loads that name a covered person lose their payload
    (their text is read as ``withhold_if_suppressed`` reads it at load time).
    """
    if not load_ids:
        return LoadSuppression(0, 0)
    cur.execute("select exists (select 1 from cis.suppression_keys)")
    if not cur.fetchone()[0]:
        return LoadSuppression(0, 0)
    events = 0
    for table in sorted(set(tables)):
        columns = table_columns(cur, dataset, table)
        cleared = [c for c in _PERSONAL if c in columns]
        if not cleared or not {"lead_email", "lead_linkedin_url", "_dlt_load_id"} <= columns:
            continue
        cur.execute(
            sql.SQL(
                "update {} as e set {} where e._dlt_load_id = any(%s) and ({}) and " + _COVERED
            ).format(
                sql.Identifier(dataset, table),
                sql.SQL(", ").join(sql.SQL("{} = null").format(sql.Identifier(c)) for c in cleared),
                sql.SQL(" or ").join(
                    sql.SQL("e.{} is not null").format(sql.Identifier(c)) for c in cleared
                ),
                linkedin=sql.SQL(LINKEDIN_KEY_SQL.format(column="e.lead_linkedin_url")),
            ),
            (list(load_ids),),
        )
        events += cur.rowcount
    return LoadSuppression(events, _withhold_rejections(cur, dataset, load_ids))


def _withhold_rejections(cur, dataset: str, load_ids: Sequence[str]) -> int:
    """Rejected lines of the loads whose payload names a covered person: the reason stays.

    Read in Python with the load-time rules (a line's identifiers are found by parsing it): only
    the loads' rejected lines, which the load held in memory already (``EventCounts``).
    """
    if not {"payload", "_dlt_load_id"} <= table_columns(cur, dataset, "rejected_records"):
        return 0
    relation = sql.Identifier(dataset, "rejected_records")
    cur.execute(
        sql.SQL(
            "select rejection_id, payload from {} where _dlt_load_id = any(%s) "
            "and payload is not null"
        ).format(relation),
        (list(load_ids),),
    )
    rejected = cur.fetchall()
    if not rejected:
        return 0
    cur.execute("select key_hash from cis.suppression_keys")
    keys = {row[0] for row in cur.fetchall()}
    ids = [rid for rid, text in rejected if not text_identity_hashes(text).isdisjoint(keys)]
    if not ids:
        return 0
    cur.execute(
        sql.SQL(
            "update {} set payload = null, reason = reason || %s where rejection_id = any(%s)"
        ).format(relation),
        (f" ({WITHHELD})", ids),
    )
    return cur.rowcount
