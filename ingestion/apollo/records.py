"""Pure functions that check an Apollo person payload and split it into raw-table rows."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime

from ingestion.apollo.settings import EMAIL_STATUSES, FREE_MAIL_DOMAINS, SENIORITIES

EMAIL_PATTERN = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+\.[A-Za-z]{2,}$")


@dataclass(frozen=True)
class PullMeta:
    """Where a payload came from: the pull it belongs to and its place in that pull."""

    pull_id: str
    pulled_at: datetime
    source: str  # "api" or "landing"
    source_file: str | None = None
    source_line: int | None = None

    def columns(self, record_hash: str) -> dict[str, object]:
        return {
            "_pull_id": self.pull_id,
            "_pulled_at": self.pulled_at,
            "_record_hash": record_hash,
            "_source": self.source,
            "_source_file": self.source_file,
            "_source_line": self.source_line,
        }


def record_hash(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def person_problems(payload: dict) -> list[str]:
    """Every reason the person payload cannot be loaded (empty when it can)."""
    problems: list[str] = []
    person_id = payload.get("id")
    if not isinstance(person_id, str) or not person_id.strip():
        problems.append("missing required field 'id'")
    email = payload.get("email")
    if email not in (None, "") and (not isinstance(email, str) or not EMAIL_PATTERN.match(email)):
        problems.append(f"email is not an email address: {email!r}")
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
    organization = payload.get("organization")
    if organization is not None and not isinstance(organization, dict):
        problems.append("organization is not an object")
    history = payload.get("employment_history")
    if history is not None and not isinstance(history, list):
        problems.append("employment_history is not a list")
    return problems


def suppression_hashes(payload: dict) -> set[str]:
    """The hashed identity keys a deletion request suppresses (see cis.privacy)."""
    from cis.privacy import identity_hashes

    return identity_hashes(
        email=payload.get("email"),
        linkedin_url=payload.get("linkedin_url"),
        apollo_id=payload.get("id"),
    )


def split_person(payload: dict, meta: PullMeta) -> tuple[dict, dict | None, list[dict]]:
    """Return the person row, the organization row (if any) and the employment-history rows."""
    digest = record_hash(payload)
    person = {k: v for k, v in payload.items() if k not in ("organization", "employment_history")}
    person.update(meta.columns(digest))

    organization = payload.get("organization")
    org_row = None
    if isinstance(organization, dict) and organization.get("id"):
        org_row = dict(organization)
        org_row.update(meta.columns(record_hash(organization)))
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
        row.update(meta.columns(digest))
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
