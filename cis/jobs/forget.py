"""``cis forget``: honour a deletion request.

Every Apollo record of the person is found by the identity rules the marts use (shared email,
then LinkedIn URL, transitively; role addresses link nobody). Their personal data is removed
from the raw tables and from ``pool.dim_leads`` at once, their assignments are released, an
audit record is kept, and hashed suppression keys stop any later pull from bringing them back.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from psycopg2 import sql

from cis.clients import deterministic_uuid
from cis.db import Target, connect, table_columns
from cis.privacy import (
    identity_keys,
    is_role_email,
    normalise_email,
    normalise_linkedin,
)
from ingestion.apollo.records import email_problem

# Raw person columns that are kept after anonymisation (no one is identified by them); every
# other column, unknown new fields included, is set to null.
KEPT_PERSON_COLUMNS = frozenset(
    {
        "id",
        "organization_id",
        "seniority",
        "departments",
        "subdepartments",
        "functions",
        "country",
        "time_zone",
        "email_status",
    }
)
# pool.dim_leads columns that hold personal data (nullable in its contract).
PERSONAL_LEAD_COLUMNS = (
    "first_name",
    "last_name",
    "full_name",
    "headline",
    "email",
    "linkedin_url",
    "phone",
    "phone_numbers",
    "photo_url",
    "twitter_url",
    "github_url",
    "facebook_url",
    "street_address",
    "postal_code",
    "formatted_address",
    "city",
    "state",
)
# The same normalisation as cis.privacy.normalise_linkedin and the dbt macro linkedin_key.
_LINKEDIN_KEY_SQL = (
    "rtrim(lower(regexp_replace(trim(linkedin_url), "
    "'^(https?://)?([a-z]{2,3}\\.)?linkedin\\.com/', 'linkedin.com/', 'i')), '/')"
)


_APOLLO_ID = re.compile(r"^[A-Za-z0-9]{8,64}$")
_LINKEDIN_PROFILE = re.compile(r"^linkedin\.com/(in|pub)/[^/?#\s]+$")


def check_request(email: str | None, linkedin_url: str | None, apollo_id: str | None) -> None:
    """Refuse a request that does not name one person exactly (``"@"`` would match everyone).

    Raises ValueError naming the value: the email must be a valid address, the LinkedIn URL a
    profile URL (``linkedin.com/in/...``), the Apollo id an id (letters and digits).
    """
    if email is not None and (not email.strip() or email_problem(email.strip())):
        raise ValueError(f"not an email address: {email!r}")
    if linkedin_url is not None and not _LINKEDIN_PROFILE.match(
        normalise_linkedin(linkedin_url) or ""
    ):
        raise ValueError(f"not a LinkedIn profile URL: {linkedin_url!r}")
    if apollo_id is not None and not _APOLLO_ID.match(apollo_id.strip()):
        raise ValueError(f"not an Apollo id: {apollo_id!r}")


@dataclass(frozen=True)
class DeletionOutcome:
    deletion_request_id: str
    apollo_ids: int
    people_rows_anonymised: int
    history_rows_deleted: int
    rejected_payloads_cleared: int
    assignments_released: int
    suppression_keys: int


@dataclass
class _Identity:
    """Everything known to identify the person, grown until nothing new turns up."""

    ids: set[str]
    emails: set[str]
    linkedin_keys: set[str]
    raw_values: set[str]  # the values as written, to find them in rejected payloads

    def add(self, person_id: str, email: str | None, linkedin_url: str | None) -> bool:
        before = (len(self.ids), len(self.emails), len(self.linkedin_keys))
        self.ids.add(person_id)
        self.raw_values.add(person_id)
        if (key := normalise_email(email)) and not is_role_email(key):
            self.emails.add(key)
            self.raw_values.add(email)
        if key := normalise_linkedin(linkedin_url):
            self.linkedin_keys.add(key)
            self.raw_values.add(linkedin_url)
        return (len(self.ids), len(self.emails), len(self.linkedin_keys)) != before


def _closure(cur, identity: _Identity) -> None:
    """Follow shared emails and LinkedIn URLs through raw_apollo.people to a fixed point."""
    grew = True
    while grew:
        cur.execute(
            "select distinct id, email, linkedin_url from raw_apollo.people "
            f"where id = any(%s) or lower(trim(email)) = any(%s) or {_LINKEDIN_KEY_SQL} = any(%s)",
            (list(identity.ids), list(identity.emails), list(identity.linkedin_keys)),
        )
        grew = False
        for row in cur.fetchall():
            grew = identity.add(*row) or grew


def forget_person(
    target: Target,
    email: str | None = None,
    linkedin_url: str | None = None,
    apollo_id: str | None = None,
    requested_by: str = "cli",
) -> DeletionOutcome:
    """Anonymise one person everywhere the project holds their personal data."""
    check_request(email, linkedin_url, apollo_id)
    subject = identity_keys(email, linkedin_url, apollo_id)
    if not subject:
        raise ValueError("a deletion request needs an email, a LinkedIn URL or an Apollo id")
    identity = _Identity(set(), set(), set(), {v for v in (email, linkedin_url) if v})
    if apollo_id:
        identity.ids.add(apollo_id)
    if key := normalise_email(email):
        identity.emails.add(key)  # the subject's own address, even a role address
    if key := normalise_linkedin(linkedin_url):
        identity.linkedin_keys.add(key)
    conn = connect(target, autocommit=False)
    try:
        with conn, conn.cursor() as cur:
            people_columns = table_columns(cur, "raw_apollo", "people")
            if people_columns:
                _closure(cur, identity)
            hashes = set(subject.items())
            for person_id in identity.ids:
                hashes.update(identity_keys(apollo_id=person_id).items())
            for address in identity.emails:
                hashes.update(identity_keys(email=address).items())
            for key in identity.linkedin_keys:
                hashes.update(identity_keys(linkedin_url=key).items())
            request_id = _record_request(cur, sorted(subject.values())[0], requested_by, hashes)
            anonymised = history = 0
            if people_columns and identity.ids:
                anonymised = _anonymise_people(cur, people_columns, identity.ids)
                history = _delete_where(cur, "employment_history", "person_id", identity.ids)
                # The organization objects their records carried name them (person_id).
                _delete_where(cur, "organizations", "person_id", identity.ids)
                _delete_where(cur, "search_results", "id", identity.ids)
            _clear_staging(cur)
            cleared = _clear_rejected_payloads(cur, identity.raw_values)
            released = _release_assignments(cur, identity.ids)
            _anonymise_pool(cur, identity.ids)
            cur.execute(
                "update cis.deletion_requests set completed_at = now(), affected = %s "
                "where deletion_request_id = %s",
                (
                    json.dumps(
                        {
                            "apollo_ids": len(identity.ids),
                            "people_rows": anonymised,
                            "history_rows": history,
                            "rejected_payloads": cleared,
                            "assignments_released": released,
                        }
                    ),
                    request_id,
                ),
            )
        return DeletionOutcome(
            request_id, len(identity.ids), anonymised, history, cleared, released, len(hashes)
        )
    finally:
        conn.close()


def _record_request(cur, subject_hash: str, requested_by: str, hashes: set[tuple[str, str]]) -> str:
    cur.execute(
        "insert into cis.deletion_requests (subject_key_hash, requested_by) "
        "values (%s, %s) returning deletion_request_id",
        (subject_hash, requested_by),
    )
    request_id = str(cur.fetchone()[0])
    for kind, value in sorted(hashes):
        cur.execute(
            "insert into cis.suppression_keys (key_hash, key_kind, deletion_request_id) "
            "values (%s, %s, %s) on conflict (key_hash) do nothing",
            (value, kind, request_id),
        )
    return request_id


def _anonymise_people(cur, columns: set[str], ids: set[str]) -> int:
    cleared = sorted(c for c in columns if c not in KEPT_PERSON_COLUMNS and not c.startswith("_"))
    cur.execute(
        sql.SQL("update raw_apollo.people set {} where id = any(%s)").format(
            sql.SQL(", ").join(sql.SQL("{} = null").format(sql.Identifier(c)) for c in cleared)
        ),
        (list(ids),),
    )
    return cur.rowcount


def _delete_where(cur, table: str, column: str, ids: set[str]) -> int:
    if not table_columns(cur, "raw_apollo", table):
        return 0
    cur.execute(
        sql.SQL("delete from {} where {} = any(%s)").format(
            sql.Identifier("raw_apollo", table), sql.Identifier(column)
        ),
        (list(ids),),
    )
    return cur.rowcount


def _clear_staging(cur) -> None:
    """dlt's merge staging copies of the last load (normally truncated after each load)."""
    cur.execute(
        "select table_name from information_schema.tables where table_schema = "
        "'raw_apollo_staging' and table_type = 'BASE TABLE'"
    )
    for (table,) in cur.fetchall():
        cur.execute(sql.SQL("truncate {}").format(sql.Identifier("raw_apollo_staging", table)))


def _clear_rejected_payloads(cur, values: set[str]) -> int:
    """Rejected payloads that mention any of the person's identifiers (matched literally)."""
    if not table_columns(cur, "raw_apollo", "rejected_records") or not values:
        return 0
    cur.execute(
        "update raw_apollo.rejected_records set payload = null where payload is not null "
        "and exists (select 1 from unnest(%s::text[]) as v(value) "
        "where strpos(lower(payload), lower(v.value)) > 0)",
        (sorted(values),),
    )
    return cur.rowcount


def _release_assignments(cur, apollo_ids: set[str]) -> int:
    """Release active assignments recorded under any lead id the person ever had."""
    lead_ids = [str(deterministic_uuid("lead", person_id)) for person_id in apollo_ids]
    cur.execute(
        "update cis.lead_assignments set assignment_status = 'released', released_at = now(), "
        "release_reason = 'deletion_request' "
        "where assignment_status = 'active' and lead_id = any(%s::uuid[])",
        (lead_ids,),
    )
    return cur.rowcount


def _anonymise_pool(cur, apollo_ids: set[str]) -> None:
    """Take the person out of pool.dim_leads now, not only at the next dbt build."""
    cur.execute("select to_regclass('pool.dim_leads')")
    if cur.fetchone()[0] is None or not apollo_ids:
        return
    cur.execute(
        sql.SQL(
            "update pool.dim_leads set {}, pool_status = 'do_not_contact', "
            "deleted_at = coalesce(deleted_at, now()) where apollo_person_ids && %s::text[]"
        ).format(
            sql.SQL(", ").join(
                sql.SQL("{} = null").format(sql.Identifier(c)) for c in PERSONAL_LEAD_COLUMNS
            )
        ),
        (list(apollo_ids),),
    )
