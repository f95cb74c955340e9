"""Agency clients: their ICP, capacity, campaigns, sending limits and status, from ``config/clients.yml``.

The file is documented in ``docs/clients.md``. ``sync_clients`` writes it to ``cis.clients`` and
creates each client's read role for row-level security.

Validation is strict: an unknown key at any level, a country that is not in the country list, an
employee band, weekday or time zone that does not parse, or a vendor campaign id claimed by two
clients raises :class:`ClientConfigError` with the full path of the offending key.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml

CLIENT_STATUSES = ("active", "paused", "cancelled")
SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
# Namespace for the project's deterministic UUIDs (uuid5). The dbt macro `cis_uuid` uses md5.
CIS_NAMESPACE = uuid.UUID("6f1c1c8e-3b0e-5d7a-9a52-2f0c7b1d4e10")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_SENDING_DAYS = WEEKDAYS[:5]
DEFAULT_TIME_ZONE = "UTC"
_WEEKDAY_NAMES = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}

# Vendors whose ids attribute an event to a client (see ``Campaigns``).
CAMPAIGN_VENDORS = ("smartlead", "salesforge", "heyreach", "twilio")
CRM_ID_KEYS = ("owner_ids", "pipeline_ids")
E164_PATTERN = re.compile(r"^\+[1-9][0-9]{1,14}$")
_PHONE_PUNCTUATION = re.compile(r"[\s().\-]")

# The one country list (also a dbt seed): alpha-2 code, the name Apollo uses, a default zone.
COUNTRY_CODES_CSV = (
    Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "country_codes.csv"
)
# Common names that are not the seed's own, mapped to its codes (used only if the code is listed).
COUNTRY_ALIASES = {
    "uk": "GB",
    "great britain": "GB",
    "usa": "US",
    "united states of america": "US",
    "uae": "AE",
}

# Apollo employee bands: "low,high" as Apollo writes them in search filters; "low," or "low+" is
# open-ended. "low-high" is accepted too.
_BAND_PATTERN = re.compile(r"^(\d+)\s*(?:[,\-]\s*(\d*)|\+)$")

_CLIENT_KEYS = (
    "slug",
    "name",
    "status",
    "capacity",
    "min_icp_score",
    "icp",
    "excluded_companies",
    "required_fields",
    "allowed_email_statuses",
    "campaigns",
    "daily_new_leads",
    "daily_sends",
    "sending_days",
    "time_zone",
)
_ICP_KEYS = (
    "titles",
    "seniorities",
    "departments",
    "industries",
    "countries",
    "employee_range",
    "employee_min",
    "employee_max",
    "employee_ranges",
    "keywords",
)
_FILE_KEYS = ("clients",)


class ClientConfigError(ValueError):
    """The clients file is not valid; the message names the client and field."""


def deterministic_uuid(*parts: object) -> uuid.UUID:
    """md5 of the parts joined by '|', read as a UUID: the same as the dbt macro ``cis_uuid``."""
    text = "|".join("" if p is None else str(p) for p in parts)
    return uuid.UUID(hashlib.md5(text.encode()).hexdigest())


def parse_employee_band(value: object) -> tuple[int, int | None]:
    """One employee band as ``(low, high)``; ``high`` is None for an open-ended band.

    Parameters
    ----------
    value : str or sequence
        An Apollo band as written in search filters (``"51,200"``, ``"10001,"``), the
        ``"10001+"`` or ``"51-200"`` spelling, or a ``[low, high]`` pair (``high`` may be null).

    Returns
    -------
    tuple of (int, int or None)

    Raises
    ------
    ValueError
        When the value is not a band or ``high < low``.
    """
    if isinstance(value, str):
        match = _BAND_PATTERN.match(value.strip())
        if not match:
            raise ValueError(
                f"{value!r} is not an employee band: write 'low,high' as Apollo does "
                "(e.g. '51,200'), or 'low,' / 'low+' for no upper bound"
            )
        low, high = int(match.group(1)), int(match.group(2)) if match.group(2) else None
    elif isinstance(value, Sequence) and len(value) == 2:
        low, high = value
        if not _is_int(low) or not (high is None or _is_int(high)):
            raise ValueError(f"{list(value)!r} is not an employee band: expected [low, high]")
    else:
        raise ValueError(
            f"{value!r} is not an employee band: quote each band, e.g. ['1,10', '11,50'] "
            "(unquoted, YAML reads 1,10 in a [...] list as two numbers)"
        )
    if low < 0 or (high is not None and high < low):
        raise ValueError(f"{value!r} is not an employee band: expected 0 <= low <= high")
    return low, high


def band_text(low: int, high: int | None) -> str:
    """A band in Apollo's search-filter spelling: ``"51,200"``, or ``"10001,"`` when open."""
    return f"{low},{'' if high is None else high}"


@dataclass(frozen=True)
class Icp:
    """Ideal customer profile: every non-empty criterion narrows the match.

    The employee criterion is either one range (``employee_min``/``employee_max``) or a union of
    bands (``employee_ranges``); :attr:`employee_bands` gives it as ``(low, high)`` pairs either
    way. When bands are given, the parser sets ``employee_min``/``employee_max`` to their hull
    (lowest low, highest high; None when a band is open) for consumers that need one range.
    """

    titles: tuple[str, ...] = ()  # keywords found in the job title, case-insensitive
    seniorities: tuple[str, ...] = ()  # Apollo seniority values
    departments: tuple[str, ...] = ()  # normalised department names
    industries: tuple[str, ...] = ()  # Apollo industry names, lower case
    countries: tuple[str, ...] = ()  # ISO 3166 alpha-2 codes
    employee_min: int | None = None
    employee_max: int | None = None
    keywords: tuple[str, ...] = ()  # organisation keywords (Apollo q_organization_keyword_tags)
    employee_ranges: tuple[str, ...] = ()  # Apollo bands "low,high" / "low," (a union)

    @property
    def employee_bands(self) -> tuple[tuple[int, int | None], ...]:
        """The employee criterion as ``(low, high)`` pairs (``high`` None: no upper bound).

        A lead matches when its company's employee count is in any of them. Empty when the ICP
        has no employee criterion; one pair ``(employee_min or 0, employee_max)`` without bands.
        """
        if self.employee_ranges:
            return tuple(parse_employee_band(b) for b in self.employee_ranges)
        if self.employee_min is None and self.employee_max is None:
            return ()
        return ((self.employee_min or 0, self.employee_max),)


@dataclass(frozen=True)
class CrmIds:
    """CRM records that belong to one client: by owner, by pipeline, or both."""

    owner_ids: tuple[str, ...] = ()  # e.g. HubSpot hubspot_owner_id
    pipeline_ids: tuple[str, ...] = ()  # e.g. HubSpot deal pipeline id


@dataclass(frozen=True)
class Campaigns:
    """The client's vendor campaigns: every event naming one of these ids is the client's."""

    smartlead: tuple[str, ...] = ()  # Smartlead campaign ids
    salesforge: tuple[str, ...] = ()  # Salesforge sequence ids
    heyreach: tuple[str, ...] = ()  # HeyReach campaign ids
    twilio: tuple[str, ...] = ()  # Twilio sender numbers, E.164 ("+13125550188")
    crm: CrmIds = field(default_factory=CrmIds)

    def claims(self) -> tuple[tuple[str, str], ...]:
        """Every id as ``(kind, id)``; kind is a vendor, ``crm.owner_ids`` or ``crm.pipeline_ids``."""
        pairs = [(vendor, i) for vendor in CAMPAIGN_VENDORS for i in getattr(self, vendor)]
        pairs += [(f"crm.{key}", i) for key in CRM_ID_KEYS for i in getattr(self.crm, key)]
        return tuple(pairs)


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
    campaigns: Campaigns = field(default_factory=Campaigns)
    daily_new_leads: int | None = None  # most new assignments per local day; None: no limit
    daily_sends: int | None = None  # most sends per local day (for the sequencers); None: no limit
    sending_days: tuple[str, ...] = DEFAULT_SENDING_DAYS  # mon..sun
    time_zone: str = DEFAULT_TIME_ZONE  # IANA zone; the client's calendar day and sending days

    @property
    def client_id(self) -> uuid.UUID:
        return deterministic_uuid("client", self.slug)

    @property
    def db_role(self) -> str:
        return f"cis_client_{self.slug}"

    @property
    def zone(self) -> ZoneInfo:
        """The client's time zone."""
        return ZoneInfo(self.time_zone)

    @property
    def config_hash(self) -> str:
        """sha256 of every configured field (ICP, campaigns and sending settings included)."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()


def campaign_owners(clients: Iterable[Client]) -> dict[tuple[str, str], str]:
    """Which client each campaign id belongs to: ``{(kind, id): slug}`` (see ``Campaigns.claims``).

    ``parse_clients`` guarantees an id is claimed by one client only, so events can be
    attributed by looking their vendor id up here.
    """
    return {claim: c.slug for c in clients for claim in c.campaigns.claims()}


# --- parsing ----------------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _suggest(value: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for close matches, or an empty string."""
    by_lower: dict[str, str] = {}
    for candidate in candidates:
        by_lower.setdefault(candidate.lower(), candidate)
    close = difflib.get_close_matches(value.lower(), list(by_lower), n=3, cutoff=0.6)
    if not close:
        return ""
    names = [repr(by_lower[c]) for c in close]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return f" (did you mean {listed}?)"


def _check_keys(raw: Mapping, allowed: Sequence[str], where: str) -> None:
    unknown = [str(k) for k in raw if k not in allowed]
    if len(unknown) == 1:
        raise ClientConfigError(
            f"{where}: unknown key {unknown[0]!r}{_suggest(unknown[0], allowed)}"
        )
    if unknown:
        raise ClientConfigError(f"{where}: unknown keys {', '.join(map(repr, unknown))}")


def _mapping(value: object, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ClientConfigError(f"{where}: expected a mapping, got {type(value).__name__}")
    return dict(value)


def _list(value: object, where: str) -> list:
    if value is None:
        return []
    if isinstance(value, (str, int, float)):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    raise ClientConfigError(f"{where}: expected a list, got {type(value).__name__}")


def _tuple(value: object, where: str) -> tuple[str, ...]:
    """A list of text (a single value counts as a one-item list); blanks are dropped."""
    out = []
    for item in _list(value, where):
        if isinstance(item, (Mapping, list, tuple)) or item is None:
            raise ClientConfigError(f"{where}: expected a list of text, got {item!r}")
        text = str(item).strip()
        if text:
            out.append(text)
    return tuple(out)


def _whole_number(value: object, where: str, default: int | None) -> int | None:
    if value is None:
        return default
    if not _is_int(value) or value < 0:
        raise ClientConfigError(f"{where}: expected a whole number >= 0, got {value!r}")
    return value


def _ids(value: object, where: str) -> tuple[str, ...]:
    """Vendor ids: whole numbers or text, stored as text, de-duplicated in order."""
    out: list[str] = []
    for item in _list(value, where):
        if _is_int(item):
            text = str(item)
        elif isinstance(item, str) and item.strip():
            text = item.strip()
        else:
            raise ClientConfigError(f"{where}: {item!r} is not an id (expected a number or text)")
        if text not in out:
            out.append(text)
    return tuple(out)


def _phones(value: object, where: str) -> tuple[str, ...]:
    """Sender numbers in E.164 (``+`` and up to 15 digits); spaces, dashes, dots, () dropped."""
    out: list[str] = []
    for item in _list(value, where):
        if not isinstance(item, str):
            raise ClientConfigError(
                f"{where}: {item!r} is not an E.164 number: quote it with its '+', "
                f"e.g. '+{item}' (unquoted, YAML reads +1... as a plain number)"
            )
        number = _PHONE_PUNCTUATION.sub("", item)
        if not E164_PATTERN.match(number):
            raise ClientConfigError(
                f"{where}: {item!r} is not an E.164 number (expected '+' and 2-15 digits, "
                "e.g. '+13125550188')"
            )
        if number not in out:
            out.append(number)
    return tuple(out)


@cache
def _countries() -> tuple[dict[str, str], dict[str, str]]:
    """(lookup of lower-case code, name or alias -> code, display forms for suggestions)."""
    with COUNTRY_CODES_CSV.open(newline="") as handle:
        rows = [
            (r["country_code"].strip(), r["country_name"].strip()) for r in csv.DictReader(handle)
        ]
    lookup: dict[str, str] = {}
    display: dict[str, str] = {}
    for code, name in rows:
        lookup[code.lower()] = code
        lookup[name.lower()] = code
        display[code.lower()] = code
        display[name.lower()] = name
    codes = {code for code, _ in rows}
    for alias, code in COUNTRY_ALIASES.items():
        if code in codes:
            lookup.setdefault(alias, code)
    return lookup, display


def country_code(value: object) -> str | None:
    """The ISO alpha-2 code for a code or country name in the country list (case-insensitive)."""
    if not isinstance(value, str):
        return None
    lookup, _ = _countries()
    return lookup.get(" ".join(value.split()).lower())


def _parse_countries(value: object, where: str) -> tuple[str, ...]:
    out: list[str] = []
    for item in _list(value, where):
        if isinstance(item, bool):
            raise ClientConfigError(
                f"{where}: {item!r} is not a country (YAML reads unquoted NO, no, off as false: "
                "write 'NO' in quotes for Norway)"
            )
        code = country_code(item)
        if code is None:
            _, display = _countries()
            raise ClientConfigError(
                f"{where}: unknown country {item!r}{_suggest(str(item), display.values())}; use "
                "an ISO alpha-2 code or a country name from dbt_project/seeds/country_codes.csv "
                "(add the country there if it is missing)"
            )
        if code not in out:
            out.append(code)
    return tuple(out)


def _parse_bands(value: object, where: str) -> tuple[str, ...]:
    bands: set[tuple[int, int | None]] = set()
    for item in _list(value, where):
        try:
            bands.add(parse_employee_band(item))
        except ValueError as exc:
            raise ClientConfigError(f"{where}: {exc}") from exc
    ordered = sorted(bands, key=lambda b: (b[0], float("inf") if b[1] is None else b[1]))
    return tuple(band_text(low, high) for low, high in ordered)


def _parse_employee_range(raw: dict, where: str) -> tuple[int | None, int | None]:
    low = high = None
    pair = raw.get("employee_range")
    if pair is not None:
        if not isinstance(pair, list) or len(pair) != 2:
            raise ClientConfigError(f"{where}.employee_range: expected [min, max], got {pair!r}")
        low = _whole_number(pair[0], f"{where}.employee_range", None)
        high = _whole_number(pair[1], f"{where}.employee_range", None)
    low = _whole_number(raw.get("employee_min"), f"{where}.employee_min", low)
    high = _whole_number(raw.get("employee_max"), f"{where}.employee_max", high)
    if low is not None and high is not None and high < low:
        raise ClientConfigError(f"{where}: employee maximum {high} is below the minimum {low}")
    return low, high


def _parse_icp(value: object, where: str) -> Icp:
    where = f"{where}.icp"
    raw = _mapping(value, where)
    _check_keys(raw, _ICP_KEYS, where)
    given = [
        k for k in ("employee_range", "employee_min", "employee_max") if raw.get(k) is not None
    ]
    if "employee_range" in given and len(given) > 1:
        raise ClientConfigError(
            f"{where}: give employee_range or employee_min/employee_max, not both"
        )
    bands = _parse_bands(raw.get("employee_ranges"), f"{where}.employee_ranges")
    if bands and given:
        raise ClientConfigError(f"{where}: give employee_ranges (bands) or {given[0]}, not both")
    if bands:
        pairs = [parse_employee_band(b) for b in bands]
        low = min(p[0] for p in pairs)
        high = None if any(p[1] is None for p in pairs) else max(p[1] for p in pairs)
    else:
        low, high = _parse_employee_range(raw, where)
    return Icp(
        titles=_tuple(raw.get("titles"), f"{where}.titles"),
        seniorities=_tuple(raw.get("seniorities"), f"{where}.seniorities"),
        departments=_tuple(raw.get("departments"), f"{where}.departments"),
        industries=tuple(i.lower() for i in _tuple(raw.get("industries"), f"{where}.industries")),
        countries=_parse_countries(raw.get("countries"), f"{where}.countries"),
        employee_min=low,
        employee_max=high,
        keywords=_tuple(raw.get("keywords"), f"{where}.keywords"),
        employee_ranges=bands,
    )


def _parse_campaigns(value: object, where: str) -> Campaigns:
    where = f"{where}.campaigns"
    raw = _mapping(value, where)
    _check_keys(raw, (*CAMPAIGN_VENDORS, "crm"), where)
    crm_where = f"{where}.crm"
    crm = _mapping(raw.get("crm"), crm_where)
    _check_keys(crm, CRM_ID_KEYS, crm_where)
    return Campaigns(
        smartlead=_ids(raw.get("smartlead"), f"{where}.smartlead"),
        salesforge=_ids(raw.get("salesforge"), f"{where}.salesforge"),
        heyreach=_ids(raw.get("heyreach"), f"{where}.heyreach"),
        twilio=_phones(raw.get("twilio"), f"{where}.twilio"),
        crm=CrmIds(
            owner_ids=_ids(crm.get("owner_ids"), f"{crm_where}.owner_ids"),
            pipeline_ids=_ids(crm.get("pipeline_ids"), f"{crm_where}.pipeline_ids"),
        ),
    )


def _parse_sending_days(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_SENDING_DAYS
    days: set[str] = set()
    for item in _list(value, where):
        text = str(item).strip().lower()
        day = _WEEKDAY_NAMES.get(text, text)
        if day not in WEEKDAYS:
            raise ClientConfigError(
                f"{where}: {item!r} is not a weekday (expected {', '.join(WEEKDAYS)})"
            )
        days.add(day)
    if not days:
        raise ClientConfigError(f"{where}: expected at least one weekday")
    return tuple(d for d in WEEKDAYS if d in days)


@cache
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def _parse_time_zone(value: object, where: str) -> str:
    if value is None:
        return DEFAULT_TIME_ZONE
    if not isinstance(value, str) or not value.strip():
        raise ClientConfigError(f"{where}: expected an IANA time zone name, got {value!r}")
    text = value.strip()
    name = _zone_names().get(text.lower(), text)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ClientConfigError(
            f"{where}: {value!r} is not an IANA time zone such as 'America/Chicago' or 'UTC'"
            f"{_suggest(text, _zone_names().values())}"
        ) from None
    return name


def _parse_client(row: dict, where: str) -> Client:
    slug = str(row.get("slug", ""))
    if not SLUG_PATTERN.match(slug):
        raise ClientConfigError(f"{where}.slug: {slug!r} must match {SLUG_PATTERN.pattern}")
    where = f"client {slug}"
    _check_keys(row, _CLIENT_KEYS, where)
    status = row.get("status", "active")
    if status not in CLIENT_STATUSES:
        raise ClientConfigError(f"{where}.status: {status!r} is not one of {CLIENT_STATUSES}")
    capacity = _whole_number(row.get("capacity"), f"{where}.capacity", 0)
    raw_score = row.get("min_icp_score", 0.6)
    try:
        if isinstance(raw_score, bool):
            raise TypeError
        score = float(raw_score)
    except (TypeError, ValueError):
        raise ClientConfigError(
            f"{where}.min_icp_score: expected 0..1, got {raw_score!r}"
        ) from None
    if not 0 <= score <= 1:
        raise ClientConfigError(f"{where}.min_icp_score: expected 0..1, got {raw_score!r}")
    return Client(
        slug=slug,
        name=str(row.get("name", slug)),
        status=status,
        capacity=capacity or 0,
        min_icp_score=score,
        icp=_parse_icp(row.get("icp"), where),
        excluded_companies=tuple(
            c.lower() for c in _tuple(row.get("excluded_companies"), f"{where}.excluded_companies")
        ),
        required_fields=_tuple(row.get("required_fields"), f"{where}.required_fields"),
        allowed_email_statuses=_tuple(
            row.get("allowed_email_statuses", ["verified"]), f"{where}.allowed_email_statuses"
        ),
        campaigns=_parse_campaigns(row.get("campaigns"), where),
        daily_new_leads=_whole_number(row.get("daily_new_leads"), f"{where}.daily_new_leads", None),
        daily_sends=_whole_number(row.get("daily_sends"), f"{where}.daily_sends", None),
        sending_days=_parse_sending_days(row.get("sending_days"), f"{where}.sending_days"),
        time_zone=_parse_time_zone(row.get("time_zone"), f"{where}.time_zone"),
    )


def parse_clients(data: object) -> list[Client]:
    """Validate the parsed YAML and return the clients.

    Raises
    ------
    ClientConfigError
        On any fault, naming the client and the full path of the key, e.g.
        ``client northwind.icp: unknown key 'employe_range' (did you mean 'employee_range'?)``.
    """
    if data is not None and not isinstance(data, Mapping):
        raise ClientConfigError(f"clients file: expected a mapping, got {type(data).__name__}")
    _check_keys(data or {}, _FILE_KEYS, "clients file")
    rows = (data or {}).get("clients")
    if not isinstance(rows, list) or not rows:
        raise ClientConfigError("clients file: expected a non-empty 'clients' list")
    clients: list[Client] = []
    seen: set[str] = set()
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise ClientConfigError(f"clients[{i}]: expected a mapping")
        client = _parse_client(dict(row), f"clients[{i}]")
        if client.slug in seen:
            raise ClientConfigError(f"clients file: duplicate slug {client.slug!r}")
        seen.add(client.slug)
        clients.append(client)
    owners: dict[tuple[str, str], str] = {}
    for client in clients:
        for kind, claimed in client.campaigns.claims():
            owner = owners.setdefault((kind, claimed), client.slug)
            if owner != client.slug:
                raise ClientConfigError(
                    f"client {client.slug}.campaigns.{kind}: {claimed!r} is also claimed by "
                    f"client {owner} (an id attributes events to one client only)"
                )
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
