"""Deletion requests: anonymise a person, keep an audit record and a hashed suppression key."""

from __future__ import annotations

import hashlib
import re
from functools import cache

import yaml

from cis.db import project_root

_LINKEDIN = re.compile(r"^(?:https?://)?(?:[a-z]{2,3}\.)?linkedin\.com/", re.IGNORECASE)


def normalise_email(email: str | None) -> str | None:
    if not email or not isinstance(email, str):
        return None
    return email.strip().lower() or None


def normalise_linkedin(url: str | None) -> str | None:
    """``http://www.linkedin.com/in/Jane-Doe/`` and ``linkedin.com/in/jane-doe`` are one key."""
    if not url or not isinstance(url, str):
        return None
    stripped = _LINKEDIN.sub("linkedin.com/", url.strip()).rstrip("/").lower()
    return stripped or None


@cache
def role_email_local_parts() -> frozenset[str]:
    """Local parts of shared inboxes (info@, sales@ ...): dbt_project.yml's var, the one list."""
    project = yaml.safe_load((project_root() / "dbt_project.yml").read_text())
    return frozenset(project["vars"]["role_email_local_parts"])


def is_role_email(email: str) -> bool:
    """A shared role address links no two people (the dbt macro is_role_email agrees)."""
    return email.split("@", 1)[0] in role_email_local_parts()


def _hash(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def identity_keys(
    email: str | None = None, linkedin_url: str | None = None, apollo_id: str | None = None
) -> dict[str, str]:
    """The hashed keys of a person, by kind (email, linkedin_url, apollo_id)."""
    keys: dict[str, str] = {}
    if (value := normalise_email(email)) is not None:
        keys["email"] = _hash("email", value)
    if (value := normalise_linkedin(linkedin_url)) is not None:
        keys["linkedin_url"] = _hash("linkedin_url", value)
    if apollo_id:
        keys["apollo_id"] = _hash("apollo_id", str(apollo_id).strip())
    return keys


def identity_hashes(
    email: str | None = None, linkedin_url: str | None = None, apollo_id: str | None = None
) -> set[str]:
    return set(identity_keys(email, linkedin_url, apollo_id).values())
