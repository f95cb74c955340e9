"""Reading the pool's marts and operational tables into the frames the pure logic takes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pandas as pd
from psycopg2.extensions import connection

from cis.db import Target, connect, relation_exists

LEADS_QUERY = """
select
    l.lead_id::text as lead_id, l.email, l.email_status, l.linkedin_url, l.phone, l.first_name,
    l.last_name, l.title, l.seniority, l.department, l.industry, l.employee_count,
    l.country_code, l.company_name, l.company_domain, l.pool_status, l.lead_time_zone,
    o.keywords as organization_keywords
from pool.dim_leads as l
left join pool.dim_organizations as o on l.organization_id = o.organization_id
"""

# Assignments and events may name a lead id that gave way when identity resolution merged two
# leads; pool.dim_lead_aliases maps every such id to the lead's current one.
ASSIGNMENTS_QUERY = """
select a.assignment_id::text as assignment_id, coalesce(al.lead_id, a.lead_id)::text as lead_id,
    a.client_id::text as client_id, a.assignment_status, a.assigned_at, a.released_at,
    a.release_reason, a.converted_at
from cis.lead_assignments as a
left join pool.dim_lead_aliases as al on a.lead_id = al.alias_lead_id
"""

EVENTS_QUERY = """
select coalesce(al.lead_id, e.lead_id, l.lead_id)::text as lead_id,
    e.client_id::text as client_id, e.channel, e.event_type, e.occurred_at
from cis.contact_events as e
left join pool.dim_lead_aliases as al on e.lead_id = al.alias_lead_id
left join pool.dim_leads as l on e.lead_id is null and lower(e.email) = l.email
"""

# What the vendors report (touches, replies, bounces, unsubscribes, do-not-contact), built by
# dbt into engagement.fct_contact_events in the same shape; read beside the hand-entered events
# whenever the engagement marts exist.
VENDOR_EVENTS = "engagement.fct_contact_events"
VENDOR_EVENTS_QUERY = f"""
select coalesce(al.lead_id, e.lead_id)::text as lead_id,
    e.client_id::text as client_id, e.channel, e.event_type, e.occurred_at
from {VENDOR_EVENTS} as e
left join pool.dim_lead_aliases as al on e.lead_id = al.alias_lead_id
"""

# --- one lead -----------------------------------------------------------------------------
# The pre-send check reads only the rows of one lead, each through an index: the lead's row
# (dim_leads primary key), the ids it was ever recorded under (dim_lead_aliases.lead_id), its
# assignments (lead_assignments.lead_id) and its contact events (contact_events.lead_id, and
# lower(email) for events recorded by address only). The rows and the ids they are read under
# are exactly those the batch queries above give the lead.

ALIAS_QUERY = "select lead_id::text from pool.dim_lead_aliases where alias_lead_id = %s::uuid"

LEAD_QUERY = (
    LEADS_QUERY
    + """where l.lead_id = coalesce(
    (select a.lead_id from pool.dim_lead_aliases as a where a.alias_lead_id = %(lead_id)s::uuid),
    %(lead_id)s::uuid
)
"""
)

# Every raw id that resolves to the lead: its aliases, and the id itself when it is nobody's
# alias (coalesce(alias, raw) in the batch queries). The outer filter repeats the batch form's
# resolution, so an id that is also another lead's alias is never taken.
_RAW_IDS = """
    select al.alias_lead_id from pool.dim_lead_aliases as al where al.lead_id = %(lead_id)s::uuid
    union all
    select %(lead_id)s::uuid
"""

LEAD_ASSIGNMENTS_QUERY = f"""
select a.assignment_id::text as assignment_id, coalesce(al.lead_id, a.lead_id)::text as lead_id,
    a.client_id::text as client_id, a.assignment_status, a.assigned_at, a.released_at,
    a.release_reason, a.converted_at
from cis.lead_assignments as a
left join pool.dim_lead_aliases as al on a.lead_id = al.alias_lead_id
where a.lead_id in ({_RAW_IDS})
    and coalesce(al.lead_id, a.lead_id) = %(lead_id)s::uuid
"""

LEAD_EVENTS_QUERY = f"""
select coalesce(al.lead_id, e.lead_id)::text as lead_id,
    e.client_id::text as client_id, e.channel, e.event_type, e.occurred_at
from cis.contact_events as e
left join pool.dim_lead_aliases as al on e.lead_id = al.alias_lead_id
where e.lead_id in ({_RAW_IDS})
    and coalesce(al.lead_id, e.lead_id) = %(lead_id)s::uuid
union all
select %(lead_id)s, e.client_id::text, e.channel, e.event_type, e.occurred_at
from cis.contact_events as e
where e.lead_id is null and lower(e.email) = %(email)s
"""

LEAD_VENDOR_EVENTS_QUERY = f"""
select * from ({VENDOR_EVENTS_QUERY}
where e.lead_id in ({_RAW_IDS})) as e
where e.lead_id::uuid = %(lead_id)s::uuid
"""

# --- the batch form -----------------------------------------------------------------------
# Only the leads actively assigned to the clients being validated, and only their history:
# three set-based queries whatever the pool's size (no per-lead query).

_HELD = """
    select coalesce(al.lead_id, a.lead_id) as lead_id
    from cis.lead_assignments as a
    left join pool.dim_lead_aliases as al on a.lead_id = al.alias_lead_id
    where a.assignment_status = 'active' and a.client_id = any(%(client_ids)s::uuid[])
"""

HELD_LEADS_QUERY = LEADS_QUERY + f"where l.lead_id in ({_HELD})\n"

HELD_ASSIGNMENTS_QUERY = f"""
select * from ({ASSIGNMENTS_QUERY}) as a
where a.lead_id::uuid in ({_HELD})
"""

HELD_EVENTS_QUERY = f"""
select * from ({EVENTS_QUERY}) as e
where e.lead_id::uuid in ({_HELD})
"""

HELD_VENDOR_EVENTS_QUERY = f"""
select * from ({VENDOR_EVENTS_QUERY}) as e
where e.lead_id::uuid in ({_HELD})
"""


def _has_vendor_events(conn: connection) -> bool:
    with conn.cursor() as cur:
        return relation_exists(cur, VENDOR_EVENTS)


def _events_frame(
    conn: connection, query: str, vendor_query: str, params: dict | tuple
) -> pd.DataFrame:
    """The hand-entered events of ``query`` and, when the marts exist, the vendors' of
    ``vendor_query`` (same columns)."""
    events = _fetch_frame(conn, query, params)
    if not _has_vendor_events(conn):
        return events
    vendor = _fetch_frame(conn, vendor_query, params)
    return pd.concat([events, vendor], ignore_index=True) if len(vendor) else events


def _fetch_frame(conn: connection, query: str, params: tuple | dict = ()) -> pd.DataFrame:
    with conn.cursor() as cur:
        cur.execute(query, params)
        return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


def read_frame(target: Target, query: str, params: tuple = ()) -> pd.DataFrame:
    conn = connect(target)
    try:
        return _fetch_frame(conn, query, params)
    finally:
        conn.close()


def as_uuid(text: object) -> str | None:
    """``text`` as a canonical UUID string, or None when it is not a UUID."""
    try:
        return str(uuid.UUID(str(text).strip()))
    except ValueError:
        return None


def current_lead_id(target: Target, lead_id: str, conn: connection | None = None) -> str:
    """The current id of a lead given any id it was ever recorded under.

    One primary-key lookup in ``pool.dim_lead_aliases``; an id that is no alias (or no UUID)
    is returned as given. Pass ``conn`` to read on that connection.
    """
    key = as_uuid(lead_id)
    if key is None:
        return lead_id
    own = conn is None
    conn = connect(target) if conn is None else conn
    try:
        with conn.cursor() as cur:
            cur.execute(ALIAS_QUERY, (key,))
            row = cur.fetchone()
    finally:
        if own:
            conn.close()
    return row[0] if row is not None else lead_id


def read_lead(conn: connection, lead_id: str) -> dict | None:
    """The lead's row in the shape of :func:`read_leads`, found by any id it was ever recorded
    under, or None: one primary-key lookup in the aliases and one in ``dim_leads``."""
    key = as_uuid(lead_id)
    if key is None:
        return None
    with conn.cursor() as cur:
        cur.execute(LEAD_QUERY, {"lead_id": key})
        row = cur.fetchone()
        return (
            None if row is None else dict(zip([d.name for d in cur.description], row, strict=True))
        )


def read_lead_history(
    conn: connection, lead_id: str, email: str | None
) -> tuple[list[dict], list[dict]]:
    """One lead's assignments and contact events as plain rows: those :func:`read_assignments`
    and :func:`read_events` give for the lead with this current ``lead_id`` and ``email``."""
    params = {"lead_id": lead_id, "email": email}
    events = _fetch_rows(conn, LEAD_EVENTS_QUERY, params)
    if _has_vendor_events(conn):
        events += _fetch_rows(conn, LEAD_VENDOR_EVENTS_QUERY, params)
    return _fetch_rows(conn, LEAD_ASSIGNMENTS_QUERY, params), events


def _fetch_rows(conn: connection, query: str, params: dict) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute(query, params)
        names = [d.name for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def read_held(
    target: Target, client_ids: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Leads actively assigned to any of ``client_ids``, with their assignments and events.

    The frames are those of :func:`read_leads`, :func:`read_assignments` and
    :func:`read_events` restricted to those leads, read in one snapshot.
    """
    params = {"client_ids": [str(c) for c in client_ids]}
    conn = connect(target, autocommit=False)
    try:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        leads = _fetch_frame(conn, HELD_LEADS_QUERY, params)
        assignments = _with_times(_fetch_frame(conn, HELD_ASSIGNMENTS_QUERY, params))
        events = _with_times(
            _events_frame(conn, HELD_EVENTS_QUERY, HELD_VENDOR_EVENTS_QUERY, params)
        )
        conn.rollback()
        return leads, assignments, events
    finally:
        conn.close()


def read_leads(target: Target) -> pd.DataFrame:
    return read_frame(target, LEADS_QUERY)


def read_assignments(target: Target, conn: connection | None = None) -> pd.DataFrame:
    """All assignments; pass ``conn`` to read inside that connection's transaction."""
    if conn is None:
        return _with_times(read_frame(target, ASSIGNMENTS_QUERY))
    return _with_times(_fetch_frame(conn, ASSIGNMENTS_QUERY))


def read_events(target: Target) -> pd.DataFrame:
    """Every contact event: hand-entered (cis.contact_events) and reported by the vendors."""
    conn = connect(target)
    try:
        return _with_times(_events_frame(conn, EVENTS_QUERY, VENDOR_EVENTS_QUERY, ()))
    finally:
        conn.close()


def _with_times(frame: pd.DataFrame) -> pd.DataFrame:
    for column in ("assigned_at", "released_at", "converted_at", "occurred_at"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame
