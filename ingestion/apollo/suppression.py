"""Deletion requests in the raw Apollo tables: a suppressed person keeps no personal data here.

A deletion request stores hashed keys (``cis.suppression_keys``, see ``cis.privacy``). The
loader applies them three times: to each record it reads (``records.suppression_hashes``), to
each line it rejects (``withhold_if_suppressed``: the reason is kept, the payload is not), and,
set-based after every load, to the rows that load wrote (``scrub_suppressed``): a load package
a crashed run left pending, or a run that read the keys just before a request landed, cannot
bring a person back. ``cis forget`` calls the same functions, as the loader: the role that owns
these tables, so no trigger on them ever runs with more rights than its owner has.

An anonymised record keeps what identifies nobody (seniority, departments, country ...) and its
Apollo id is replaced by a pseudonym (``pseudonym``): lead ids derive from Apollo ids, so every
id held elsewhere is re-keyed the same way (``lead_id_map``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from psycopg2 import sql

from cis.clients import deterministic_uuid
from cis.privacy import identity_hashes, is_role_email, normalise_email, normalise_linkedin
from ingestion.quarantine import WITHHELD, Rejection

DATASET = "raw_apollo"
# Person columns kept after anonymisation (no one is identified by them); every other column,
# unknown new fields included, is set to null (and ``id`` becomes a pseudonym).
KEPT_PERSON_COLUMNS = frozenset(
    {
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
PSEUDONYM_PREFIX = "forgotten"
# The same normalisation as cis.privacy.normalise_linkedin and the dbt macro linkedin_key.
LINKEDIN_KEY_SQL = (
    "rtrim(lower(regexp_replace(trim({column}), "
    "'^(https?://)?([a-z]{{2,3}}\\.)?linkedin\\.com/', 'linkedin.com/', 'i')), '/')"
)
_SUPPRESSED_PEOPLE = """
select distinct p.id from raw_apollo.people as p
where ({load_filter}) and exists (
    select 1 from cis.suppression_keys as k
    where k.key_hash in (
        encode(sha256(convert_to('email:' || lower(trim(p.email)), 'UTF8')), 'hex'),
        encode(sha256(convert_to('linkedin_url:' || {linkedin}, 'UTF8')), 'hex'),
        encode(sha256(convert_to('apollo_id:' || trim(p.id), 'UTF8')), 'hex')
    )
)
"""
_EMAIL_IN_TEXT = re.compile(r"[^\s\"'<>,;:()\[\]{}]+@[^\s\"'<>,;:()\[\]{}]+\.[a-z]{2,}", re.I)
_LINKEDIN_IN_TEXT = re.compile(
    r"(?:https?://)?(?:[a-z]{2,3}\.)?linkedin\.com/(?:in|pub)/[^\s\"'?#/\\]+", re.I
)
_ID_IN_TEXT = re.compile(r"\"id\"\s*:\s*\"([A-Za-z0-9]{8,64})\"")


def pseudonym(apollo_id: str) -> str:
    """The id an anonymised record keeps instead of its Apollo id (the same on every run)."""
    digest = hashlib.sha256(f"pseudonym:{apollo_id}".encode()).hexdigest()
    return PSEUDONYM_PREFIX + digest[:23]


def lead_id_map(apollo_ids: Collection[str]) -> dict[str, str]:
    """Old lead id to new one for every lead id an Apollo id of the person gave (or gives)."""
    return {
        str(deterministic_uuid("lead", a)): str(deterministic_uuid("lead", pseudonym(a)))
        for a in apollo_ids
        if not a.startswith(PSEUDONYM_PREFIX)
    }


def text_identity_hashes(text: str) -> set[str]:
    """The suppression keys of whatever identifiers a payload's text names.

    A JSON object is read by its fields (``id``, ``email``, ``linkedin_url``); any other text
    (a broken line) by the emails, LinkedIn profile URLs and ``"id": "…"`` pairs it holds.
    """
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        payload = None
    if isinstance(payload, dict):
        found = identity_hashes(
            email=payload.get("email") if isinstance(payload.get("email"), str) else None,
            linkedin_url=payload.get("linkedin_url")
            if isinstance(payload.get("linkedin_url"), str)
            else None,
            apollo_id=payload.get("id") if isinstance(payload.get("id"), str) else None,
        )
    else:
        found = set()
    for email in _EMAIL_IN_TEXT.findall(text):
        found |= identity_hashes(email=email)
    for url in _LINKEDIN_IN_TEXT.findall(text):
        found |= identity_hashes(linkedin_url=url)
    for apollo_id in _ID_IN_TEXT.findall(text):
        found |= identity_hashes(apollo_id=apollo_id)
    return found


def withhold_if_suppressed(rejection: Rejection, suppressed: Collection[str]) -> Rejection:
    """``rejection`` without its payload when the payload names a suppressed person."""
    if not suppressed or not rejection.payload:
        return rejection
    if text_identity_hashes(rejection.payload).isdisjoint(suppressed):
        return rejection
    return replace(rejection, withheld=True)


@dataclass(frozen=True)
class ScrubOutcome:
    """What one pass over the raw tables changed."""

    apollo_ids: tuple[str, ...]
    people_rows: int
    history_rows: int
    organization_rows: int


def _relation_exists(cur, table: str) -> bool:
    cur.execute("select to_regclass(%s)", (f"{DATASET}.{table}",))
    return cur.fetchone()[0] is not None


def _people_columns(cur) -> list[str]:
    cur.execute(
        "select column_name from information_schema.columns "
        "where table_schema = %s and table_name = 'people' order by ordinal_position",
        (DATASET,),
    )
    return [row[0] for row in cur.fetchall()]


def suppressed_person_ids(cur, load_ids: Sequence[str] | None = None) -> list[str]:
    """Apollo ids of raw person rows (of ``load_ids``, or all) a suppression key covers."""
    if not _relation_exists(cur, "people"):
        return []
    cur.execute("select exists (select 1 from cis.suppression_keys)")
    if not cur.fetchone()[0]:
        return []
    load_filter = "true" if load_ids is None else "p._dlt_load_id = any(%(loads)s)"
    query = _SUPPRESSED_PEOPLE.format(
        load_filter=load_filter, linkedin=LINKEDIN_KEY_SQL.format(column="p.linkedin_url")
    )
    cur.execute(query, {"loads": list(load_ids or [])})
    return sorted(row[0] for row in cur.fetchall() if row[0])


def scrub_people(cur, apollo_ids: Collection[str]) -> ScrubOutcome:
    """Anonymise every raw row of ``apollo_ids``; delete the history and organizations they had."""
    ids = sorted(a for a in apollo_ids if not a.startswith(PSEUDONYM_PREFIX))
    if not ids or not _relation_exists(cur, "people"):
        return ScrubOutcome(tuple(ids), 0, 0, 0)
    cleared = [
        c
        for c in _people_columns(cur)
        if c not in KEPT_PERSON_COLUMNS and c != "id" and not c.startswith("_")
    ]
    assignments = [sql.SQL("{} = null").format(sql.Identifier(c)) for c in cleared]
    assignments.append(sql.SQL("id = m.pseudonym"))
    cur.execute(
        sql.SQL(
            "update raw_apollo.people as p set {} "
            "from unnest(%s::text[], %s::text[]) as m(apollo_id, pseudonym) where p.id = m.apollo_id"
        ).format(sql.SQL(", ").join(assignments)),
        (ids, [pseudonym(a) for a in ids]),
    )
    people = cur.rowcount
    history = _delete_where(cur, "employment_history", "person_id", ids)
    organizations = _delete_where(cur, "organizations", "person_id", ids)
    _delete_where(cur, "search_results", "id", ids)
    return ScrubOutcome(tuple(ids), people, history, organizations)


def scrub_suppressed(cur, load_ids: Sequence[str] | None = None) -> ScrubOutcome:
    """Apply every suppression key to the raw rows of ``load_ids`` (all rows when ``None``)."""
    return scrub_people(cur, suppressed_person_ids(cur, load_ids))


def _delete_where(cur, table: str, column: str, ids: Sequence[str]) -> int:
    if not _relation_exists(cur, table):
        return 0
    cur.execute(
        sql.SQL("delete from {} where {} = any(%s)").format(
            sql.Identifier(DATASET, table), sql.Identifier(column)
        ),
        (list(ids),),
    )
    return cur.rowcount


def clear_staging(cur) -> None:
    """dlt's merge staging copies of the last load (normally truncated after each load)."""
    cur.execute(
        "select table_name from information_schema.tables where table_schema = %s "
        "and table_type = 'BASE TABLE'",
        (f"{DATASET}_staging",),
    )
    for (table,) in cur.fetchall():
        cur.execute(sql.SQL("truncate {}").format(sql.Identifier(f"{DATASET}_staging", table)))


@dataclass
class Identifiers:
    """A person's identifiers as found so far (normalised)."""

    apollo_ids: set[str]
    emails: set[str]
    linkedin_keys: set[str]

    def needles(self) -> list[str]:
        """Lower-case strings whose presence in a text makes it a candidate match."""
        return sorted({v.lower() for v in self.apollo_ids | self.emails | self.linkedin_keys})

    def named_in(self, text: str) -> bool:
        """Whether ``text`` names one of the identifiers as a whole token (not a prefix)."""
        return any(pattern.search(text) for pattern in self._patterns())

    def _patterns(self) -> list[re.Pattern[str]]:
        patterns = [
            re.compile(rf"(?<![\w.%+-]){re.escape(e)}(?![\w-]|\.\w)", re.I) for e in self.emails
        ]
        patterns += [re.compile(rf"{re.escape(k)}(?![\w%-])", re.I) for k in self.linkedin_keys]
        patterns += [
            re.compile(rf"(?<![A-Za-z0-9]){re.escape(a)}(?![A-Za-z0-9])") for a in self.apollo_ids
        ]
        return patterns

    def add_record(self, payload: object) -> bool:
        """Add the identifiers of a record that shares one of ours; True if any was new."""
        if not isinstance(payload, dict):
            return False
        apollo_id = payload.get("id") if isinstance(payload.get("id"), str) else None
        email = (
            normalise_email(payload.get("email")) if isinstance(payload.get("email"), str) else None
        )
        url = payload.get("linkedin_url")
        linkedin = normalise_linkedin(url) if isinstance(url, str) else None
        if not (
            (apollo_id and apollo_id in self.apollo_ids)
            or (email and email in self.emails)
            or (linkedin and linkedin in self.linkedin_keys)
        ):
            return False
        before = (len(self.apollo_ids), len(self.emails), len(self.linkedin_keys))
        if apollo_id:
            self.apollo_ids.add(apollo_id)
        if email and not is_role_email(email):
            self.emails.add(email)
        if linkedin:
            self.linkedin_keys.add(linkedin)
        return (len(self.apollo_ids), len(self.emails), len(self.linkedin_keys)) != before


def rejected_naming(cur, identifiers: Identifiers, schema: str = DATASET) -> list[tuple[str, str]]:
    """(rejection_id, payload) of every rejected line of ``schema`` that names the person."""
    needles = identifiers.needles()
    cur.execute("select to_regclass(%s)", (f"{schema}.rejected_records",))
    if not needles or cur.fetchone()[0] is None:
        return []
    cur.execute(
        sql.SQL(
            "select rejection_id, payload from {} where payload is not null "
            "and exists (select 1 from unnest(%s::text[]) as n(needle) "
            "where strpos(lower(payload), n.needle) > 0)"
        ).format(sql.Identifier(schema, "rejected_records")),
        (needles,),
    )
    return [(rid, text) for rid, text in cur.fetchall() if identifiers.named_in(text)]


def grow_from_rejected(cur, identifiers: Identifiers) -> None:
    """Add the identifiers of rejected records that share one of the person's, to a fixed point."""
    grew = True
    while grew:
        grew = False
        for _rid, text in rejected_naming(cur, identifiers):
            try:
                payload = json.loads(text)
            except (ValueError, RecursionError):
                continue
            grew = identifiers.add_record(payload) or grew


def clear_rejected_payloads(cur, identifiers: Identifiers, schema: str = DATASET) -> int:
    """Drop the payload of every rejected line of ``schema`` that names the person (the reason
    stays, marked)."""
    ids = [rid for rid, _text in rejected_naming(cur, identifiers, schema)]
    if not ids:
        return 0
    cur.execute(
        sql.SQL(
            "update {} set payload = null, reason = reason || %s where rejection_id = any(%s)"
        ).format(sql.Identifier(schema, "rejected_records")),
        (f" ({WITHHELD})", ids),
    )
    return cur.rowcount
