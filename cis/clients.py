"""Agency clients: their ICP, capacity, exclusions and status, from ``config/clients.yml``.

The file is documented in ``docs/clients.md``. ``sync_clients`` writes it to ``cis.clients`` and
creates each client's read role for row-level security.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

CLIENT_STATUSES = ("active", "paused", "cancelled")
SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
# Namespace for the project's deterministic UUIDs (uuid5). The dbt macro `cis_uuid` uses md5.
CIS_NAMESPACE = uuid.UUID("6f1c1c8e-3b0e-5d7a-9a52-2f0c7b1d4e10")


class ClientConfigError(ValueError):
    """The clients file is not valid; the message names the client and field."""


def deterministic_uuid(*parts: object) -> uuid.UUID:
    """md5 of the parts joined by '|', read as a UUID: the same as the dbt macro ``cis_uuid``."""
    text = "|".join("" if p is None else str(p) for p in parts)
    return uuid.UUID(hashlib.md5(text.encode()).hexdigest())


@dataclass(frozen=True)
class Icp:
    """Ideal customer profile: every non-empty criterion narrows the match."""

    titles: tuple[str, ...] = ()  # keywords found in the job title, case-insensitive
    seniorities: tuple[str, ...] = ()  # Apollo seniority values
    departments: tuple[str, ...] = ()  # normalised department names
    industries: tuple[str, ...] = ()  # Apollo industry names, lower case
    countries: tuple[str, ...] = ()  # ISO 3166 alpha-2 codes
    employee_min: int | None = None
    employee_max: int | None = None
    keywords: tuple[str, ...] = ()  # organisation keywords (Apollo q_organization_keyword_tags)


@dataclass(frozen=True)
class Client:
    slug: str
    name: str
    status: str = "active"
    capacity: int = 0
    min_icp_score: float = 0.6
    icp: Icp = field(default_factory=Icp)
    excluded_companies: tuple[str, ...] = ()  # company domains or names, case-insensitive
    required_fields: tuple[str, ...] = ()  # dim_leads columns personalisation needs
    allowed_email_statuses: tuple[str, ...] = ("verified",)

    @property
    def client_id(self) -> uuid.UUID:
        return deterministic_uuid("client", self.slug)

    @property
    def db_role(self) -> str:
        return f"cis_client_{self.slug}"

    @property
    def config_hash(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()


def _tuple(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence):
        return tuple(str(v) for v in value)
    raise ClientConfigError(f"{where}: expected a list, got {type(value).__name__}")


def _parse_icp(raw: dict, where: str) -> Icp:
    known = set(Icp.__dataclass_fields__) | {"employee_range"}
    unknown = set(raw) - known
    if unknown:
        raise ClientConfigError(f"{where}.icp: unknown keys {sorted(unknown)}")
    employee_range = raw.get("employee_range") or [None, None]
    if len(employee_range) != 2:
        raise ClientConfigError(f"{where}.icp.employee_range: expected [min, max]")
    low, high = employee_range
    return Icp(
        titles=_tuple(raw.get("titles"), f"{where}.icp.titles"),
        seniorities=_tuple(raw.get("seniorities"), f"{where}.icp.seniorities"),
        departments=_tuple(raw.get("departments"), f"{where}.icp.departments"),
        industries=tuple(i.lower() for i in _tuple(raw.get("industries"), f"{where}.icp")),
        countries=tuple(c.upper() for c in _tuple(raw.get("countries"), f"{where}.icp")),
        employee_min=raw.get("employee_min", low),
        employee_max=raw.get("employee_max", high),
        keywords=_tuple(raw.get("keywords"), f"{where}.icp.keywords"),
    )


def parse_clients(data: dict) -> list[Client]:
    """Validate the parsed YAML and return the clients; raise ClientConfigError on any fault."""
    rows = (data or {}).get("clients")
    if not isinstance(rows, list) or not rows:
        raise ClientConfigError("clients file: expected a non-empty 'clients' list")
    clients: list[Client] = []
    for i, row in enumerate(rows):
        where = f"clients[{i}]"
        if not isinstance(row, dict):
            raise ClientConfigError(f"{where}: expected a mapping")
        slug = str(row.get("slug", ""))
        if not SLUG_PATTERN.match(slug):
            raise ClientConfigError(f"{where}.slug: {slug!r} must match {SLUG_PATTERN.pattern}")
        where = f"client {slug}"
        status = row.get("status", "active")
        if status not in CLIENT_STATUSES:
            raise ClientConfigError(f"{where}.status: {status!r} is not one of {CLIENT_STATUSES}")
        capacity = row.get("capacity", 0)
        if not isinstance(capacity, int) or capacity < 0:
            raise ClientConfigError(f"{where}.capacity: expected a whole number >= 0")
        score = float(row.get("min_icp_score", 0.6))
        if not 0 <= score <= 1:
            raise ClientConfigError(f"{where}.min_icp_score: expected 0..1")
        clients.append(
            Client(
                slug=slug,
                name=str(row.get("name", slug)),
                status=status,
                capacity=capacity,
                min_icp_score=score,
                icp=_parse_icp(row.get("icp") or {}, where),
                excluded_companies=tuple(
                    c.lower() for c in _tuple(row.get("excluded_companies"), where)
                ),
                required_fields=_tuple(row.get("required_fields"), where),
                allowed_email_statuses=_tuple(
                    row.get("allowed_email_statuses", ["verified"]), where
                ),
            )
        )
    slugs = [c.slug for c in clients]
    if len(set(slugs)) != len(slugs):
        raise ClientConfigError("clients file: duplicate slugs")
    return clients


def load_clients(path: Path) -> list[Client]:
    if not path.exists():
        raise ClientConfigError(f"clients file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ClientConfigError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return parse_clients(data)
    except ClientConfigError as exc:
        raise ClientConfigError(f"{path}: {exc}") from exc
