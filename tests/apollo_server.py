"""A scriptable fake Apollo on 127.0.0.1 that speaks the documented shapes.

Endpoints (both ``POST``, JSON bodies, ``x-api-key`` header):

- ``/api/v1/mixed_people/api_search``: ``{"total_entries": N, "people": [thin rows]}`` like the
  live pages of ``apollo__search_page.jsonl``; with ``deprecated_shape`` the old
  ``mixed_people/search`` envelope with ``pagination{page, per_page, total_entries,
  total_pages}`` and no top-level ``total_entries``. Filters understood:
  ``organization_num_employees_ranges`` (``"min,max"``), ``person_locations`` (country, state
  or city), ``person_seniorities``; titles and keywords are accepted and ignored.
- ``/api/v1/people/bulk_match``: ``{"details": [{"id": ...}]}`` (1 to 10 details) returns
  ``{"status": "success", "matches": [person objects or null]}``. With ``thin_organizations``
  a match carries only ``organization{id, name, primary_domain}``, or no organization at all
  for the ids in ``no_organization``.
- ``/api/v1/organizations/bulk_enrich``: ``{"domains": [...]}`` (1 to 10) returns
  ``{"status": "success", "organizations": [the full organization of each known domain]}``.

Every response carries ``x-minute-requests-left``, ``x-hourly-requests-left`` and
``x-daily-requests-left``. Faults are scripted with :meth:`FakeApollo.fail`; a daily quota with
``daily_limit``; huge searches with ``huge_when``. Every request is recorded in ``requests``,
and every breach of Apollo's documented limits by the client in ``violations``.
"""

from __future__ import annotations

import copy
import json
import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SEARCH_PATH = "/api/v1/mixed_people/api_search"
BULK_MATCH_PATH = "/api/v1/people/bulk_match"
ORGANIZATION_BULK_ENRICH_PATH = "/api/v1/organizations/bulk_enrich"
CONTRACT_PEOPLE = Path(__file__).parent / "fixtures" / "apollo_people_contract.jsonl"

# One organization size per Apollo employee band (1-10, 11-20, ..., 10001+).
ORG_SIZES = (5, 15, 35, 75, 150, 350, 750, 1500, 3500, 7500, 20000)
COUNTRIES = ("United States", "United Kingdom", "Germany")
SENIORITIES = ("vp", "head", "director", "c_suite", "manager")
ORG_COUNT = 22


@dataclass
class Recorded:
    """One request the fake received, and what it answered."""

    path: str
    body: Any  # the decoded JSON body, or the raw text when it was not JSON
    headers: dict[str, str]  # lower-cased names
    status: int = 0
    fault: str | None = None  # the scripted fault this request was answered with


@dataclass
class Fault:
    """A scripted failure: ``kind`` is "429", "500", "malformed" or "401"."""

    kind: str
    path: str | None = None  # None: any endpoint
    times: int | None = 1  # None: always
    retry_after: int | str | None = None
    skip: int = 0  # let this many matching requests through first


def contract_people() -> list[dict]:
    """The four person objects of the shared contract (copied under tests/fixtures)."""
    return [json.loads(line) for line in CONTRACT_PEOPLE.read_text().splitlines() if line]


def person_id(index: int) -> str:
    return f"{index:024x}"


def org_id(index: int) -> str:
    return f"{0xA000 + index:024x}"


def make_people(count: int = 250) -> list[dict]:
    """``count`` deterministic people shaped like ``apollo__person.jsonl`` (Priya as template).

    Person ``i`` has id ``f"{i:024x}"``, works at organization ``i % 22`` (sized in employee
    band ``(i % 22) % 11``), lives in ``COUNTRIES[i % 3]`` and has ``1 + i % 3`` history entries.
    """
    template = contract_people()[0]
    people = []
    for i in range(count):
        person = copy.deepcopy(template)
        org_index = i % ORG_COUNT
        org = person["organization"]
        org.update(
            id=org_id(org_index),
            name=f"Company {org_index}",
            primary_domain=f"company{org_index}.example.com",
            website_url=f"http://www.company{org_index}.example.com",
            estimated_num_employees=ORG_SIZES[org_index % len(ORG_SIZES)],
        )
        org["funding_events"] = [
            {**event, "id": f"{org_index:04x}{n:020x}", "amount": f"{org_index + n + 1}M"}
            for n, event in enumerate(org["funding_events"])
        ]
        country = COUNTRIES[i % len(COUNTRIES)]
        history = []
        for n in range(1 + i % 3):
            entry = copy.deepcopy(template["employment_history"][n])
            entry_id = f"{i:016x}{n:08x}"
            entry.update(_id=entry_id, id=entry_id, key=entry_id)
            if n == 0:
                entry.update(organization_id=org["id"], organization_name=org["name"])
            history.append(entry)
        person.update(
            id=person_id(i),
            first_name=f"First{i}",
            last_name=f"Last{i}",
            name=f"First{i} Last{i}",
            email=f"first{i}.last{i}@company{org_index}.example.com",
            linkedin_url=f"http://www.linkedin.com/in/person-{i}",
            organization_id=org["id"],
            seniority=SENIORITIES[i % len(SENIORITIES)],
            country=country,
            city=f"City {i % 7}",
            state=f"State {i % 5}",
            formatted_address=f"City {i % 7}, State {i % 5}, {country}",
            employment_history=history,
        )
        people.append(person)
    return people


def _obfuscate(last_name: str | None) -> str | None:
    if not last_name:
        return last_name
    return f"{last_name[:2]}***{last_name[-1]}"


def thin_row(person: dict) -> dict:
    """A live ``api_search`` row: obfuscated, ``has_*`` flags, ``has_direct_phone`` a string."""
    org = person.get("organization") or {}
    return {
        "id": person["id"],
        "first_name": person.get("first_name"),
        "last_name_obfuscated": _obfuscate(person.get("last_name")),
        "title": person.get("title"),
        "last_refreshed_at": "2025-08-21T04:12:55.318+00:00",
        "has_email": bool(person.get("email")),
        "has_city": bool(person.get("city")),
        "has_state": bool(person.get("state")),
        "has_country": bool(person.get("country")),
        "has_direct_phone": (
            "Yes",
            "No",
            "Maybe: please request direct dial via people/bulk_match",
        )[int(person["id"], 16) % 3],
        "organization": {
            "name": org.get("name"),
            "has_industry": bool(org.get("industry")),
            "has_phone": bool(org.get("phone")),
            "has_city": bool(org.get("city")),
            "has_state": bool(org.get("state")),
            "has_country": bool(org.get("country")),
            "has_zip_code": bool(org.get("postal_code")),
            "has_revenue": bool(org.get("annual_revenue")),
            "has_employee_count": bool(org.get("estimated_num_employees")),
        },
    }


def deprecated_row(person: dict) -> dict:
    """A ``mixed_people/search`` row: the person with the email placeholder, a short organization."""
    row = copy.deepcopy(person)
    row["email"] = "email_not_unlocked@domain.com"
    org = row.get("organization") or {}
    row["organization"] = {
        k: org.get(k)
        for k in (
            "id",
            "name",
            "website_url",
            "linkedin_url",
            "primary_domain",
            "estimated_num_employees",
            "industry",
        )
    }
    return row


def _in_range(size: Any, band: str) -> bool:
    low, _, high = str(band).partition(",")
    try:
        return isinstance(size, int) and int(low) <= size <= int(high)
    except ValueError:
        return False


def matches(person: dict, filters: dict) -> bool:
    """Whether a person passes the search filters this fake understands."""
    ranges = filters.get("organization_num_employees_ranges")
    if ranges:
        size = (person.get("organization") or {}).get("estimated_num_employees")
        if not any(_in_range(size, band) for band in ranges):
            return False
    locations = filters.get("person_locations")
    if locations:
        places = {str(person.get(k) or "").lower() for k in ("country", "state", "city")}
        if not places & {str(loc).lower() for loc in locations}:
            return False
    seniorities = filters.get("person_seniorities")
    return not seniorities or person.get("seniority") in seniorities


class FakeApollo:
    """The scriptable server; use as a context manager (``with FakeApollo() as apollo``)."""

    def __init__(
        self,
        people: Iterable[dict] | None = None,
        *,
        api_key: str = "test-key",
        deprecated_shape: bool = False,
    ) -> None:
        self.people: list[dict] = list(make_people() if people is None else people)
        self.api_key = api_key
        self.deprecated_shape = deprecated_shape
        # Rate-limit headers: a constant, or a function of the 1-based request number.
        self.minute_left: int | Callable[[int], int] = 190
        self.hourly_left: int | Callable[[int], int] = 1990
        self.daily_left = 49_990
        self.daily_limit: int | None = None  # requests allowed before 429 + daily left 0
        # Searches for which this returns a huge total_entries (people are still the real ones).
        self.huge_when: Callable[[dict], bool] | None = None
        self.huge_total = 60_000
        # When set, every page holds this many rows whatever per_page says (cheap long searches).
        self.rows_per_page: int | None = None
        self.max_page = 500
        self.thin_organizations = False
        self.no_organization: set[str] = set()
        self.faults: list[Fault] = []
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self._served = 0
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- scripting -------------------------------------------------------------------------

    def fail(
        self,
        kind: str,
        path: str | None = None,
        times: int | None = 1,
        retry_after: int | str | None = None,
        skip: int = 0,
    ) -> FakeApollo:
        """Answer the next ``times`` matching requests (after ``skip``) with fault ``kind``."""
        assert kind in {"429", "500", "malformed", "401"}, kind
        self.faults.append(Fault(kind, path, times, retry_after, skip))
        return self

    def person(self, person_id: str) -> dict:
        return next(p for p in self.people if p["id"] == person_id)

    # ---- what happened ---------------------------------------------------------------------

    def calls(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    @property
    def searches(self) -> list[Recorded]:
        return self.calls(SEARCH_PATH)

    @property
    def bulk_matches(self) -> list[Recorded]:
        return self.calls(BULK_MATCH_PATH)

    def enriched_ids(self) -> list[str]:
        """Every id sent to bulk_match by a successful call, in order."""
        return [
            d["id"]
            for r in self.bulk_matches
            if r.status == 200 and r.fault is None
            for d in r.body.get("details", [])
        ]

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeApollo:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # ---- serving ---------------------------------------------------------------------------

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.path not in (None, path) or fault.times == 0:
                continue
            if fault.skip > 0:
                fault.skip -= 1
                continue
            if fault.times is not None:
                fault.times -= 1
            return fault
        return None

    def _window(self, value: int | Callable[[int], int], number: int) -> int:
        return value(number) if callable(value) else value

    def respond(
        self, path: str, raw: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """Decide the answer to one request (called by the HTTP handler, under a lock)."""
        with self._lock:
            try:
                body: Any = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                body = raw.decode("utf-8", "replace")
            record = Recorded(path, body, headers)
            self.requests.append(record)
            number = len(self.requests)
            status, payload = self._answer(path, body, headers)
            record.status = status
            record.fault = payload.get("_fault")
            limits = {
                "x-minute-requests-left": self._window(self.minute_left, number),
                "x-hourly-requests-left": self._window(self.hourly_left, number),
                "x-daily-requests-left": self.daily_left,
            }
            if status == 429 and payload.get("_daily"):
                limits["x-daily-requests-left"] = 0
            out = {k: str(v) for k, v in limits.items()}
            out["content-type"] = "application/json; charset=utf-8"
            if "_retry_after" in payload:
                out["retry-after"] = str(payload["_retry_after"])
            if "_raw" in payload:
                return status, out, payload["_raw"].encode()
            clean = {k: v for k, v in payload.items() if not k.startswith("_")}
            return status, out, json.dumps(clean).encode()

    def _answer(self, path: str, body: Any, headers: dict[str, str]) -> tuple[int, dict]:
        if headers.get("x-api-key") != self.api_key:
            return 401, {
                "error": "Invalid access credentials.",
                "error_code": "INVALID_API_KEY",
            }
        if self.daily_limit is not None and self._served >= self.daily_limit:
            return 429, {
                "message": f"The maximum number of api calls allowed for {path} is "
                f"{self.daily_limit} times per day. Please upgrade your plan.",
                "_daily": True,
            }
        fault = self._take_fault(path)
        if fault is not None:
            status, answer = self._fault_answer(fault, path)
            return status, {**answer, "_fault": fault.kind}
        if not isinstance(body, dict):
            self.violations.append(f"{path}: body is not a JSON object")
            return 422, {"error": "body must be a JSON object"}
        self._served += 1
        if self.daily_limit is not None:
            self.daily_left = max(self.daily_limit - self._served, 0)
        if path == SEARCH_PATH:
            return self._search(body)
        if path == BULK_MATCH_PATH:
            return self._bulk_match(body)
        if path == ORGANIZATION_BULK_ENRICH_PATH:
            return self._bulk_enrich_organizations(body)
        return 404, {"error": f"no route {path}"}

    def _fault_answer(self, fault: Fault, path: str) -> tuple[int, dict]:
        if fault.kind == "401":
            return 401, {"error": "Invalid access credentials."}
        if fault.kind == "429":
            answer: dict[str, Any] = {
                "message": f"The maximum number of api calls allowed for {path} is 200 "
                "times per minute. Please upgrade your plan."
            }
            if fault.retry_after is not None:
                answer["_retry_after"] = fault.retry_after
            return 429, answer
        if fault.kind == "500":
            return 500, {"error": "Internal Server Error"}
        # "malformed": a 200 whose body is cut off mid-object
        return 200, {"_raw": '{"total_entries": 3, "people": [{"id": "abc", '}

    def _search(self, body: dict) -> tuple[int, dict]:
        page, per_page = body.get("page", 1), body.get("per_page", 10)
        if not isinstance(page, int) or not isinstance(per_page, int) or page < 1:
            self.violations.append(f"search: bad page/per_page {page!r}/{per_page!r}")
            return 422, {"error": "page and per_page must be positive integers"}
        if per_page > 100:
            self.violations.append(f"search: per_page {per_page} > 100")
            return 422, {"error": "per_page must be at most 100"}
        if page > self.max_page:
            self.violations.append(f"search: page {page} > {self.max_page}")
            return 422, {"error": f"page must be at most {self.max_page}"}
        found = [p for p in self.people if matches(p, body)]
        total = len(found)
        if self.huge_when is not None and self.huge_when(body):
            total = self.huge_total
        rows = found[(page - 1) * per_page : page * per_page]
        if self.rows_per_page is not None and found:
            rows = [found[(page - 1 + k) % len(found)] for k in range(self.rows_per_page)]
        if self.deprecated_shape:
            return 200, {
                "breadcrumbs": [],
                "partial_results_only": False,
                "has_join": False,
                "disable_eu_prospecting": False,
                "partial_results_limit": 10000,
                "pagination": {
                    "page": page,
                    "per_page": per_page,
                    "total_entries": total,
                    "total_pages": math.ceil(total / per_page),
                },
                "contacts": [],
                "people": [deprecated_row(p) for p in rows],
            }
        return 200, {"total_entries": total, "people": [thin_row(p) for p in rows]}

    def _thin(self, person: dict) -> dict:
        if person["id"] in self.no_organization:
            person.pop("organization", None)
        elif isinstance(person.get("organization"), dict):
            person["organization"] = _thin_org(person["organization"])
        return person

    def organization_domains_asked(self) -> list[str]:
        return [d for r in self.calls(ORGANIZATION_BULK_ENRICH_PATH) for d in r.body["domains"]]

    def _bulk_enrich_organizations(self, body: dict) -> tuple[int, dict]:
        domains = body.get("domains")
        if not isinstance(domains, list) or not 1 <= len(domains) <= 10:
            self.violations.append(f"bulk_enrich: {domains!r} is not 1 to 10 domains")
            return 422, {"error": "domains must hold 1 to 10 domains"}
        by_domain = {
            p["organization"]["primary_domain"]: p["organization"]
            for p in self.people
            if isinstance(p.get("organization"), dict) and p["organization"].get("primary_domain")
        }
        found = [copy.deepcopy(by_domain[d]) for d in domains if d in by_domain]
        return 200, {
            "status": "success",
            "total_requested_domains": len(domains),
            "unique_enriched_records": len(found),
            "organizations": found,
        }

    def _bulk_match(self, body: dict) -> tuple[int, dict]:
        details = body.get("details")
        if not isinstance(details, list) or not details:
            self.violations.append("bulk_match: no details")
            return 422, {"error": "details must be a non-empty list"}
        if len(details) > 10:
            self.violations.append(f"bulk_match: {len(details)} details > 10")
            return 422, {"error": "details can contain at most 10 records"}
        by_id = {p["id"]: p for p in self.people}
        found = [
            copy.deepcopy(by_id.get(d.get("id"))) if isinstance(d, dict) else None for d in details
        ]
        if self.thin_organizations:
            found = [self._thin(m) if m is not None else None for m in found]
        hits = sum(1 for m in found if m is not None)
        return 200, {
            "status": "success",
            "error_code": None,
            "error_message": None,
            "total_requested_enrichments": len(details),
            "unique_enriched_records": hits,
            "missing_records": len(details) - hits,
            "credits_consumed": hits,
            "matches": found,
        }


def _thin_org(organization: dict) -> dict:
    return {k: organization.get(k) for k in ("id", "name", "primary_domain")}


def _handler(apollo: FakeApollo) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else each keep-alive exchange waits ~40 ms for an ACK

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            path = self.path.split("?", 1)[0]
            status, out_headers, payload = apollo.respond(path, raw, headers)
            self.send_response(status)
            for name, value in out_headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    return Handler


__all__ = [
    "BULK_MATCH_PATH",
    "ORGANIZATION_BULK_ENRICH_PATH",
    "SEARCH_PATH",
    "FakeApollo",
    "Fault",
    "Recorded",
    "contract_people",
    "make_people",
    "person_id",
]
