"""``cis forget``: honour a deletion request.

The person's personal data is removed from the raw tables (the marts drop it on the next
``dbt build``), their assignments are released, an audit record is kept, and hashed suppression
keys stop any later Apollo pull from bringing them back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from psycopg2 import sql

from cis.db import Target, connect, table_columns
from cis.privacy import identity_keys, normalise_email, normalise_linkedin

PERSONAL_COLUMNS = (
    "first_name",
    "last_name",
    "name",
    "email",
    "linkedin_url",
    "photo_url",
    "twitter_url",
    "github_url",
    "facebook_url",
    "headline",
    "street_address",
    "postal_code",
    "formatted_address",
    "phone_numbers",
    "personal_emails",
)


@dataclass(frozen=True)
class DeletionOutcome:
    deletion_request_id: str
    apollo_ids: int
    people_rows_anonymised: int
    history_rows_deleted: int
    rejected_payloads_cleared: int
    assignments_released: int
    suppression_keys: int


def forget_person(
    target: Target,
    email: str | None = None,
    linkedin_url: str | None = None,
    apollo_id: str | None = None,
    requested_by: str = "cli",
) -> DeletionOutcome:
    """Anonymise one person everywhere the project holds their personal data."""
    subject = identity_keys(email, linkedin_url, apollo_id)
    if not subject:
        raise ValueError("a deletion request needs an email, a LinkedIn URL or an Apollo id")
    conn = connect(target, autocommit=False)
    try:
        with conn, conn.cursor() as cur:
            people_columns = table_columns(cur, "raw_apollo", "people")
            ids: set[str] = {apollo_id} if apollo_id else set()
            emails = [e for e in [normalise_email(email)] if e]
            rows = (
                _matching_people(cur, ids, emails, normalise_linkedin(linkedin_url))
                if people_columns
                else []  # nothing pulled yet: the suppression keys still stop future pulls
            )
            hashes = set(subject.items())
            for person_id, person_email, person_linkedin in rows:
                ids.add(person_id)
                hashes.update(identity_keys(person_email, person_linkedin, person_id).items())
            cur.execute(
                "insert into cis.deletion_requests (subject_key_hash, requested_by) "
                "values (%s, %s) returning deletion_request_id",
                (sorted(subject.values())[0], requested_by),
            )
            request_id = str(cur.fetchone()[0])
            for kind, value in sorted(hashes):
                cur.execute(
                    "insert into cis.suppression_keys (key_hash, key_kind, deletion_request_id) "
                    "values (%s, %s, %s) on conflict (key_hash) do nothing",
                    (value, kind, request_id),
                )
            anonymised = history = cleared = 0
            if people_columns and ids:
                columns = [c for c in PERSONAL_COLUMNS if c in people_columns]
                cur.execute(
                    sql.SQL("update raw_apollo.people set {} where id = any(%s)").format(
                        sql.SQL(", ").join(
                            sql.SQL("{} = null").format(sql.Identifier(c)) for c in columns
                        )
                    ),
                    (list(ids),),
                )
                anonymised = cur.rowcount
                if table_columns(cur, "raw_apollo", "employment_history"):
                    cur.execute(
                        "delete from raw_apollo.employment_history where person_id = any(%s)",
                        (list(ids),),
                    )
                    history = cur.rowcount
                if table_columns(cur, "raw_apollo", "search_results"):
                    cur.execute(
                        "delete from raw_apollo.search_results where id = any(%s)", (list(ids),)
                    )
                if table_columns(cur, "raw_apollo", "rejected_records"):
                    needles = [f"%{v}%" for v in [*ids, *emails] if v]
                    cur.execute(
                        "update raw_apollo.rejected_records set payload = null "
                        "where payload ilike any(%s)",
                        (needles,),
                    )
                    cleared = cur.rowcount
            released = _release_assignments(cur, ids)
            cur.execute(
                "update cis.deletion_requests set completed_at = now(), affected = %s "
                "where deletion_request_id = %s",
                (
                    json.dumps(
                        {
                            "apollo_ids": len(ids),
                            "people_rows": anonymised,
                            "history_rows": history,
                            "assignments_released": released,
                        }
                    ),
                    request_id,
                ),
            )
        return DeletionOutcome(
            request_id, len(ids), anonymised, history, cleared, released, len(hashes)
        )
    finally:
        conn.close()


# The same normalisation as cis.privacy.normalise_linkedin and the dbt macro linkedin_key.
_LINKEDIN_KEY_SQL = (
    "rtrim(lower(regexp_replace(trim(linkedin_url), "
    "'^(https?://)?([a-z]{2,3}\\.)?linkedin\\.com/', 'linkedin.com/', 'i')), '/')"
)


def _matching_people(
    cur, ids: set[str], emails: list[str], linkedin_key: str | None
) -> list[tuple[str, str | None, str | None]]:
    """(id, email, linkedin_url) of every raw person row with one of the subject's keys."""
    cur.execute(
        "select distinct id, email, linkedin_url from raw_apollo.people "
        f"where id = any(%s) or lower(trim(email)) = any(%s) or {_LINKEDIN_KEY_SQL} = %s",
        (list(ids), emails, linkedin_key),
    )
    return cur.fetchall()


def _release_assignments(cur, apollo_ids: set[str]) -> int:
    """Release the person's active assignments (the lead ids come from the pool mart)."""
    cur.execute("select to_regclass('pool.dim_leads')")
    if cur.fetchone()[0] is None or not apollo_ids:
        return 0
    cur.execute(
        """
        update cis.lead_assignments set assignment_status = 'released', released_at = now(),
            release_reason = 'deletion_request'
        where assignment_status = 'active' and lead_id in (
            select lead_id from pool.dim_leads where apollo_person_ids && %s::text[]
        )
        """,
        (list(apollo_ids),),
    )
    return cur.rowcount
