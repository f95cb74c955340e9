"""Pure functions that check an Apollo person payload and split it into raw-table rows."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from ingestion.apollo.settings import (
    EMAIL_STATUSES,
    EMPLOYMENT_COLUMNS,
    FREE_MAIL_DOMAINS,
    ORGANIZATION_COLUMNS,
    PERSON_COLUMNS,
    SENIORITIES,
)

# Plain ASCII addresses of this shape are valid for email-validator too (dot-atom local part,
# LDH domain labels, alphabetic top-level domain that is not special-use); they skip the
# library, which costs ~150 µs an address. Anything else is decided by the library.
_PLAIN_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,63})$"
)
_SPECIAL_USE = frozenset(SPECIAL_USE_DOMAIN_NAMES)
_OUR_COLUMNS = frozenset({"person_id", "entry_index", "entry_key"})
SPLIT_OUT = frozenset({"organization", "employment_history"})  # rows of their own tables
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class PullMeta:
    """Where a payload came from: the pull it belongs to and its place in that pull.

    ``pulled_at`` is a pull time the source itself vouches for (the API's receive time); a
    landing line may carry its own ``pulled_at`` field instead. ``loaded_at`` is when this run
    read the record: it stands in for the pull time only when the record says nothing itself.
    """

    pull_id: str
    pulled_at: datetime | None
    source: str  # "api" or "landing"
    source_file: str | None = None
    source_line: int | None = None
    loaded_at: datetime | None = None

    def columns(self, payload: dict, digest: str) -> dict[str, object]:
        seen = observed_at(payload)
        pulled_at, basis = pull_time(payload, self, seen)
        return {
            "_record_id": record_id(self, payload.get("id"), digest),
            "_pull_id": self.pull_id,
            "_pulled_at": pulled_at,
            "_pulled_at_basis": basis,
            "_observed_at": seen,
            "_record_hash": digest,
            "_source": self.source,
            "_source_file": self.source_file,
            "_source_line": self.source_line,
        }


def record_id(meta: PullMeta, person_id: object, digest: str) -> str:
    """The raw identity of one record: where it was read plus what it said.

    Two lines of one file never share it (the line is part of it), re-reading the same file
    gives the same ids (a re-load is idempotent), and two folders with a same-named file keep
    both records unless the two lines are byte-for-byte the same record.
    """
    where = meta.source_file if meta.source == "landing" else meta.pull_id
    parts = (meta.source, where, meta.source_line, person_id, digest)
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32]


def parse_timestamp(value: object) -> datetime | None:
    """An ISO-8601 time (``Z`` or an offset; naive read as UTC) between 1970 and 2100, else None."""
    if not isinstance(value, str) or not 4 <= len(value) <= 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if not 1970 <= parsed.year <= 2100:
        return None
    return parsed.astimezone(UTC)


def observed_at(payload: dict) -> datetime | None:
    """The latest time the record itself carries: its ``updated_at`` and those of its history.

    Apollo stamps every employment-history entry with ``created_at``/``updated_at`` when it
    refreshes the profile, so the latest of them says how fresh a record is, whatever file or
    line it arrived in.
    """
    stamps = [parse_timestamp(payload.get("updated_at"))]
    history = payload.get("employment_history")
    if isinstance(history, list):
        for entry in history:
            if isinstance(entry, dict):
                stamps.append(parse_timestamp(entry.get("updated_at")))
                stamps.append(parse_timestamp(entry.get("created_at")))
    known = [s for s in stamps if s is not None]
    return max(known) if known else None


def pull_time(payload: dict, meta: PullMeta, seen: datetime | None) -> tuple[datetime | None, str]:
    """The record's pull time and what it rests on (``line``, ``api``, ``record`` or ``loaded``).

    In order: a ``pulled_at`` field in the landing line, the API's receive time, the record's
    own latest timestamp, and only then the time this run loaded it. Never a file's mtime.
    """
    explicit = parse_timestamp(payload.get("pulled_at"))
    if explicit is not None:
        return explicit, "line"
    if meta.pulled_at is not None:
        return meta.pulled_at, meta.source
    if seen is not None:
        return seen, "record"
    return meta.loaded_at or datetime.now(tz=UTC), "loaded"


def record_hash(payload: dict) -> str:
    """sha256 of the payload's canonical JSON (keys sorted): what the record said."""
    try:
        text = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except TypeError:  # integers beyond 64 bits and other values orjson refuses
        text = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(text).hexdigest()


def email_problem(email: str) -> str | None:
    """Why ``email`` is not a deliverable-looking address (email-validator's words), or None."""
    plain = _PLAIN_EMAIL.match(email)
    if (
        plain
        and len(email) <= 254
        and len(email.split("@", 1)[0]) <= 64
        and plain.group(2).lower() not in _SPECIAL_USE
    ):
        return None
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    return None


def person_problems(payload: dict) -> list[str]:
    """Every reason the person payload cannot be loaded (empty when it can)."""
    problems: list[str] = []
    person_id = payload.get("id")
    if not isinstance(person_id, str) or not person_id.strip():
        problems.append("missing required field 'id'")
    email = payload.get("email")
    if email not in (None, ""):
        problem = "it is not text" if not isinstance(email, str) else email_problem(email)
        if problem:
            problems.append(f"email is not an email address: {email!r} ({problem})")
    seniority = payload.get("seniority")
    if seniority not in (None, "") and seniority not in SENIORITIES:
        problems.append(
            f"unknown seniority {seniority!r} (known: {', '.join(sorted(SENIORITIES))})"
        )
    status = payload.get("email_status")
    if status not in (None, "") and status not in EMAIL_STATUSES:
        problems.append(
            f"unknown email_status {status!r} (known: {', '.join(sorted(EMAIL_STATUSES))})"
        )
    problems.extend(type_problems(payload, PERSON_COLUMNS, ""))
    problems.extend(name_problems(payload, PERSON_COLUMNS, "", SPLIT_OUT))
    pulled_at = payload.get("pulled_at")
    if pulled_at is not None and parse_timestamp(pulled_at) is None:
        problems.append(f"pulled_at: expected an ISO 8601 time, got {pulled_at!r:.60}")
    organization = payload.get("organization")
    if organization is not None and not isinstance(organization, dict):
        problems.append("organization is not an object")
    elif organization:
        problems.extend(type_problems(organization, ORGANIZATION_COLUMNS, "organization."))
        problems.extend(name_problems(organization, ORGANIZATION_COLUMNS, "organization."))
    history = payload.get("employment_history")
    if history is not None and not isinstance(history, list):
        problems.append("employment_history is not a list")
    elif history:
        for index, entry in enumerate(history):
            if isinstance(entry, dict):
                where = f"employment_history[{index}]."
                problems.extend(type_problems(entry, EMPLOYMENT_COLUMNS, where))
                problems.extend(name_problems(entry, EMPLOYMENT_COLUMNS, where))
    return problems


_EXPECTED = {
    "bigint": "a whole number",
    "double": "a number",
    "bool": "true or false",
    "timestamp": "an ISO 8601 time",
    "json": "a list or an object",
    "text": "text or a number",
}


def type_problems(record: dict, spec: dict[str, dict], prefix: str) -> list[str]:
    """Fields whose value does not fit the raw column's type (dlt would move it aside).

    Without this, dlt keeps such a value in a variant column (``employee_count__v_text``) that
    no model reads: the value would silently vanish from the marts.
    """
    kinds = _kinds(spec)
    problems = []
    for name, value in record.items():
        if value is None or (kind := kinds.get(name)) is None:
            continue
        if kind == "text" and value.__class__ is str:
            continue  # the common case, decided without a call
        if not _fits(value, kind):
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
            problems.append(f"{prefix}{name}: expected {_EXPECTED[kind]}, got {shown}")
    return problems


def name_problems(
    record: dict, spec: dict[str, dict], prefix: str, split_out: frozenset[str] = frozenset()
) -> list[str]:
    """Fields no typed column names whose column name (dlt's snake_case of the field) would be
    another field's: ``firstName`` beside ``first_name``, ``ID`` beside ``id``. Stored, one would
    overwrite the other; the record is refused with both names instead."""
    problems = []
    taken: dict[str, str] = {}
    for name in record:
        if name in spec or name in split_out:
            continue
        column = column_name(name)
        other = column if column in spec or column in record else taken.get(column)
        if other is not None and other != name:
            problems.append(
                f"{prefix}{name}: its column would be {column!r}, which {prefix}{other} uses"
            )
        taken.setdefault(column, name)
    return problems


@functools.lru_cache(maxsize=8192)
def column_name(field: str) -> str:
    """The column dlt gives a field (its snake_case naming convention)."""
    return _naming().normalize_identifier(field)


@functools.lru_cache(maxsize=1)
def _naming():
    from dlt.common.normalizers.naming.snake_case import NamingConvention

    return NamingConvention()


_KINDS: dict[int, dict[str, str]] = {}


def _kinds(spec: dict[str, dict]) -> dict[str, str]:
    """The checked columns of ``spec`` and their types (ours and dlt's own left out)."""
    found = _KINDS.get(id(spec))
    if found is None:
        found = _KINDS[id(spec)] = {
            name: hint["data_type"]
            for name, hint in spec.items()
            if not name.startswith("_") and name not in _OUR_COLUMNS
        }
    return found


def _fits(value: object, kind: str) -> bool:
    if kind == "text":
        return isinstance(value, str | int | float) and not isinstance(value, bool)
    if kind == "json":
        return isinstance(value, dict | list)
    if kind == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "bigint":
        whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        return whole and INT64_MIN <= value <= INT64_MAX
    if kind == "double":
        return isinstance(value, int | float)
    if kind == "timestamp":
        return parse_timestamp(value) is not None
    return True


def suppression_hashes(payload: dict) -> set[str]:
    """The hashed identity keys a deletion request suppresses (see cis.privacy)."""
    from cis.privacy import identity_hashes

    return identity_hashes(
        email=payload.get("email"),
        linkedin_url=payload.get("linkedin_url"),
        apollo_id=payload.get("id"),
    )


def split_person(payload: dict, meta: PullMeta) -> tuple[dict, dict | None, list[dict]]:
    """Return the person row, the organization row (if any) and the employment-history rows.

    Each row carries the record's ``_record_id``: the organization row is the organization as
    this record showed it (one per record), and the history rows are this record's entries.
    """
    digest = record_hash(payload)
    meta_columns = meta.columns(payload, digest)
    person = {k: v for k, v in payload.items() if k not in ("organization", "employment_history")}
    person.update(meta_columns)

    organization = payload.get("organization")
    org_row = None
    if isinstance(organization, dict) and organization.get("id"):
        org_row = dict(organization)
        org_row.update(meta_columns)
        org_row["_record_hash"] = record_hash(organization)
        org_row["person_id"] = payload["id"]
        if not person.get("organization_id"):
            person["organization_id"] = organization["id"]

    history_rows = []
    for index, entry in enumerate(payload.get("employment_history") or []):
        if not isinstance(entry, dict):
            continue
        row = dict(entry)
        row["person_id"] = payload["id"]
        row["entry_index"] = index
        row["entry_key"] = str(entry.get("id") or entry.get("_id") or entry.get("key") or index)
        row.update(meta_columns)
        history_rows.append(row)
    return person, org_row, history_rows


def organization_lookup_domain(payload: dict) -> str | None:
    """The domain to enrich the person's organization by, when the payload lacks its firmographics.

    An organization object without both ``estimated_num_employees`` and ``industry`` (or none at
    all) is looked up by its ``primary_domain``, else by the person's work-email domain.
    """
    organization = payload.get("organization")
    if not isinstance(organization, dict):
        organization = {}
    if organization.get("estimated_num_employees") is not None and organization.get("industry"):
        return None
    domain = organization.get("primary_domain")
    if not domain and isinstance(payload.get("email"), str) and "@" in payload["email"]:
        domain = payload["email"].rsplit("@", 1)[1]
        if domain.lower() in FREE_MAIL_DOMAINS:
            return None
    return domain.strip().lower() if isinstance(domain, str) and domain.strip() else None


def with_organization(payload: dict, organization: dict) -> dict:
    """The payload with an enriched organization; what the payload already had stays underneath."""
    embedded = payload.get("organization") if isinstance(payload.get("organization"), dict) else {}
    merged = {**embedded, **organization}
    return {
        **payload,
        "organization": merged,
        "organization_id": payload.get("organization_id") or merged.get("id"),
    }
