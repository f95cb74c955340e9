"""Reading the pool's marts and operational tables into the frames the pure logic takes."""

from __future__ import annotations

import pandas as pd
from psycopg2.extensions import connection

from cis.db import Target, connect

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


def _fetch_frame(conn: connection, query: str, params: tuple = ()) -> pd.DataFrame:
    with conn.cursor() as cur:
        cur.execute(query, params)
        return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


def read_frame(target: Target, query: str, params: tuple = ()) -> pd.DataFrame:
    conn = connect(target)
    try:
        return _fetch_frame(conn, query, params)
    finally:
        conn.close()


def current_lead_id(target: Target, lead_id: str) -> str:
    """The current id of a lead given any id it was ever recorded under."""
    found = read_frame(
        target,
        "select lead_id::text from pool.dim_lead_aliases where alias_lead_id::text = %s",
        (lead_id,),
    )
    return found.iloc[0, 0] if not found.empty else lead_id


def read_leads(target: Target) -> pd.DataFrame:
    return read_frame(target, LEADS_QUERY)


def read_assignments(target: Target, conn: connection | None = None) -> pd.DataFrame:
    """All assignments; pass ``conn`` to read inside that connection's transaction."""
    if conn is None:
        return _with_times(read_frame(target, ASSIGNMENTS_QUERY))
    return _with_times(_fetch_frame(conn, ASSIGNMENTS_QUERY))


def read_events(target: Target) -> pd.DataFrame:
    return _with_times(read_frame(target, EVENTS_QUERY))


def _with_times(frame: pd.DataFrame) -> pd.DataFrame:
    for column in ("assigned_at", "released_at", "converted_at", "occurred_at"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame
