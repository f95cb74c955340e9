"""Apollo ``people/match`` person objects, their organisations and employment histories.

Everything is a pure function of ``(seed, index)``: person ``i`` and organisation ``j`` can be
rebuilt at any time without keeping them in memory. A :class:`Universe` holds the only state:
the organisation sizes (one integer per organisation) and the emails handed out by job changes.

People are laid out organisation by organisation (``i`` in ``[offsets[j], offsets[j + 1])`` works
at organisation ``j`` in slot ``k``); the name of slot ``k`` is an injective function of ``k``
inside its organisation, so two people of one organisation never share an email address. Files
are written in a shuffled order (:meth:`Universe.index_at`).
"""

from __future__ import annotations

import hashlib
import math
import random
from array import array
from bisect import bisect_right
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from cis.generate.distributions import (
    BUYING_COMMITTEE_ROLES,
    BUYING_SIGNAL_SCORES,
    COMMON_TECHNOLOGIES,
    COUNTRIES,
    DEGREES,
    DEPARTMENTS,
    DEPARTMENTS_BY_INDUSTRY,
    DOMAIN_VARIANTS,
    EMAIL_PATTERNS,
    EMAIL_STATUSES,
    EMPLOYEE_BUCKETS,
    EXCHANGES,
    FUNDING_AMOUNTS,
    FUNDING_STAGES,
    GENERIC_FOUNDER_TITLES,
    HEAD_COUNT_KEYS,
    INDUSTRIES,
    INDUSTRY_TAG_IDS,
    INTENT_STRENGTHS,
    INVESTORS,
    MAJORS,
    NAME_POOLS,
    ORG_COUNTRIES,
    ORG_INDUSTRIES,
    ORG_WORDS_A,
    ORG_WORDS_B,
    OWNER_TITLES,
    PARTNER_TITLES,
    PHONE_STATUSES,
    PHONE_TYPES,
    PRIMARY_PHONE_SOURCES,
    PROMOTION,
    SENIORITIES,
    SENIORITY_ORDER,
    STREET_KINDS,
    STREETS,
    TECHNOLOGIES,
    TITLE_TEMPLATES,
    UNIVERSITIES,
    City,
    Country,
    ascii_fold,
    chance,
    lognormal,
    pick,
    randint,
    sample,
)

# Id spaces: the middle bytes of a generated ObjectId, so ids of different kinds never collide.
SPACE_PERSON = 1
SPACE_SECOND_ID = 2
SPACE_ORG = 3
SPACE_HISTORY = 4
SPACE_FUNDING = 5
SPACE_BAD = 6
SPACE_SECOND_HISTORY = 7
SPACE_BAD_HISTORY = 8
HISTORY_SLOTS = 8  # history ids of person i are i * 8 + e; slot 7 is the job-change entry
PEOPLE_PER_ORG_SCALE = 0.33  # tunes the mean number of people per organisation to about 8
_NAME_MULTIPLIERS = (7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73)
_DOMAIN_STOPWORDS = {post for _, post in DOMAIN_VARIANTS if post}
_MULTIPLIERS = {
    key: [m for m in _NAME_MULTIPLIERS if math.gcd(m, pool.size) == 1]
    for key, pool in NAME_POOLS.items()
}
PROFILE_CACHE_SIZE = 1 << 15


def h64(seed: int, *parts: object) -> int:
    """A stable 64-bit hash of the seed and parts (blake2b; not Python's salted ``hash``)."""
    key = "|".join(str(p) for p in (seed, *parts)).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")


def rng_for(seed: int, *parts: object) -> random.Random:
    """A private random stream for one entity, e.g. ``rng_for(seed, "person", i)``."""
    return random.Random(h64(seed, *parts))


def iso_ms(moment: datetime) -> str:
    """``2024-09-02T10:14:03.118Z``: Apollo's ``created_at`` format."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso_ms(stamp: str) -> datetime:
    """The moment an :func:`iso_ms` string names (inverse of :func:`iso_ms`)."""
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def latest_stamp(person: dict[str, Any]) -> datetime:
    """The latest ``created_at``/``updated_at`` of a person's ``employment_history``.

    This is how a reader tells, from the record alone, which of two records of one Apollo id
    is newer: the generator keeps every newer record's latest stamp strictly later.
    """
    return max(
        parse_iso_ms(entry[key])
        for entry in person["employment_history"]
        for key in ("created_at", "updated_at")
        if entry.get(key)
    )


def current_entry(person: dict[str, Any]) -> dict[str, Any]:
    """The current role: the ``current`` history entry with the newest ``start_date``."""
    return max(
        (e for e in person["employment_history"] if e["current"]),
        key=lambda e: e["start_date"] or "",
    )


def month_start(day: date) -> date:
    """The first day of ``day``'s month (Apollo dates are mostly ``YYYY-MM-01``)."""
    return day.replace(day=1)


def months_before(day: date, months: int) -> date:
    """The first day of the month ``months`` months before ``day``'s month."""
    total = day.year * 12 + day.month - 1 - months
    return date(total // 12, total % 12 + 1, 1)


def money_printed(dollars: float) -> str:
    """Apollo's printed amounts: ``"850K"``, ``"21.5M"``, ``"1.2B"``."""
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if dollars >= size:
            return f"{dollars / size:.3g}{unit}"
    return f"{dollars:.0f}"


def round_sig(value: float, digits: int = 3) -> float:
    """Round to ``digits`` significant digits."""
    if value <= 0:
        return 0.0
    return round(value, digits - 1 - math.floor(math.log10(value)))


def phone_number(rng: random.Random, country: Country, city: City) -> tuple[str, str]:
    """A fictional number for the city as ``(raw, sanitized)``: ``+1 312-555-0190``."""
    local = "".join(str(int(rng.random() * 10)) if c == "#" else c for c in city.phone)
    raw = f"+{country.calling_code} {local}"
    return raw, "+" + "".join(c for c in raw if c.isdigit())


@dataclass(frozen=True)
class OrgProfile:
    """What people-building needs to know about organisation ``j`` (cheap to rebuild)."""

    index: int
    id: str
    name: str
    domain: str
    linkedin_slug: str
    industry: str
    country: Country
    city: City
    employees: int
    people: int  # how many people of the universe work here (slots 0 .. people-1)
    pool: str
    email_pattern: str
    name_base: int
    name_mult: int
    catchall: bool
    founded_year: int
    has_unknown_field: bool

    def name_at(self, slot: int) -> tuple[str, str]:
        """First and last name of the person in ``slot`` (injective for slot < pool size)."""
        pool = NAME_POOLS[self.pool]
        p = (self.name_base + slot * self.name_mult) % pool.size
        return pool.first[p % len(pool.first)], pool.last[p // len(pool.first)]

    def email_local(self, first: str, last: str) -> str:
        """The local part of a work email under the organisation's pattern."""
        f, ln = ascii_fold(first), ascii_fold(last)
        if self.email_pattern == "first":
            return f
        if self.email_pattern == "firstlast":
            return f + ln
        if self.email_pattern == "first_last":
            return f"{f}_{ln}"
        return f"{f}.{ln}"

    def holds_name(self, first: str, last: str) -> bool:
        """True if a person of this organisation would get the same email as ``first last``."""
        pool = NAME_POOLS[self.pool]
        if self.email_pattern == "first":
            folded = ascii_fold(first)
            return any(ascii_fold(self.name_at(k)[0]) == folded for k in range(self.people))
        fi = _FIRST_INDEX[self.pool].get(ascii_fold(first))
        li = _LAST_INDEX[self.pool].get(ascii_fold(last))
        if fi is None or li is None:
            return False
        p = li * len(pool.first) + fi
        slot = ((p - self.name_base) * pow(self.name_mult, -1, pool.size)) % pool.size
        return slot < self.people


_FIRST_INDEX = {key: pool.first_index() for key, pool in NAME_POOLS.items()}
_LAST_INDEX = {key: pool.last_index() for key, pool in NAME_POOLS.items()}


@dataclass(frozen=True)
class Role:
    """A job: title and Apollo's classification of it."""

    department: str  # the master_* department the title belongs to
    seniority: str
    title: str
    departments: list[str]
    subdepartments: list[str]
    functions: list[str]


def make_role(rng: random.Random, department: str, seniority: str) -> Role:
    """A title coherent with the department and seniority, with Apollo's classification.

    Parameters
    ----------
    rng : random.Random
        The caller's random stream.
    department : str
        An Apollo ``master_*`` department.
    seniority : str
        An Apollo seniority value.

    Returns
    -------
    Role
        Title, departments, subdepartments and functions.
    """
    d = DEPARTMENTS[department]
    area, sub = pick(rng, d.areas)
    functions = [d.function, *d.extra_functions] if chance(rng, 0.3) else [d.function]
    departments = [department]
    if sub in ("revenue_operations", "sales_operations"):
        departments.append("master_operations")
    subs = [sub]
    if seniority in ("owner", "founder"):
        if chance(rng, 0.5):
            titles = OWNER_TITLES if seniority == "owner" else GENERIC_FOUNDER_TITLES
            return Role(
                department,
                seniority,
                pick(rng, titles),
                ["c_suite"],
                ["founder"],
                ["entrepreneurship"],
            )
        lead = "Founder" if chance(rng, 0.4) else "Co-Founder"
        title = f"{lead} & {pick(rng, d.founder)}"
        return Role(
            department, seniority, title, ["c_suite", department], ["founder", sub], functions
        )
    if seniority == "c_suite":
        title = pick(rng, d.executive)
        executive = f"{d.function}_executive"
        return Role(department, seniority, title, ["c_suite", department], [executive], functions)
    if seniority == "partner":
        title = pick(rng, PARTNER_TITLES).format(a=area)
    elif seniority == "senior":
        title = (
            pick(rng, d.senior)
            if chance(rng, 0.6)
            else f"Senior {area} {pick(rng, ('Analyst', 'Specialist', 'Associate'))}"
        )
    elif seniority == "entry":
        title = (
            pick(rng, d.entry)
            if chance(rng, 0.6)
            else f"{area} {pick(rng, ('Coordinator', 'Analyst', 'Specialist', 'Associate'))}"
        )
    else:
        extra = d.manager_extra if seniority == "manager" else d.director_extra
        if extra and chance(rng, 0.25):
            title = pick(rng, extra)
        else:
            title = TITLE_TEMPLATES[seniority].pick(rng).format(a=area)
    return Role(department, seniority, title, departments, subs, functions)


def title_variant(rng: random.Random, title: str) -> str:
    """How a second Apollo record of the same person may spell the title."""
    swaps = (
        ("VP of ", "Vice President, "),
        ("Vice President of ", "VP "),
        ("Director of ", "Dir. "),
        ("Head of ", "Head, "),
        ("Chief Financial Officer", "CFO"),
        ("Chief Revenue Officer", "CRO"),
        ("Chief Operating Officer", "COO"),
        (" Manager", " Mgr"),
        ("Senior ", "Sr. "),
    )
    for old, new in swaps:
        if old in title and chance(rng, 0.7):
            return title.replace(old, new, 1)
    return title


class Universe:
    """The organisations of one generated data set and the layout of its people.

    Parameters
    ----------
    seed : int
        Seed of every random stream.
    leads : int
        Number of distinct real people.
    start : datetime
        Time of the first pull (UTC); Apollo records are created before it.
    """

    def __init__(self, seed: int, leads: int, start: datetime) -> None:
        if leads < 1:
            raise ValueError("leads must be at least 1")
        self.seed = seed
        self.leads = leads
        self.start = start
        self.machine = h64(seed, "machine") & 0xFFFFFF
        self.counter_mask = h64(seed, "counter") & 0xFFFFFF
        offsets = array("q", [0])
        while offsets[-1] < leads:
            _, _, _, people = self._org_basics(len(offsets) - 1)
            offsets.append(min(leads, offsets[-1] + people))
        self.offsets = offsets
        self.org_count = len(offsets) - 1
        self.mover_emails: set[str] = set()
        self._profiles: dict[int, OrgProfile] = {}
        self._name_offset = h64(seed, "org-names")
        # Files list people in the order i = (a * m + b) mod leads: organisations are scattered.
        a = max(1, int(leads * 0.6180339887)) | 1
        while math.gcd(a, leads) != 1:
            a += 2
        self._perm_a = a % leads or 1
        self._perm_b = h64(seed, "perm") % leads
        self._phi_offset = (h64(seed, "kind") % 10**9) / 10**9

    # --- ids and layout ------------------------------------------------------------------------

    def object_id(self, space: int, n: int, when: datetime) -> str:
        """A 24-hex ObjectId: creation time, seed machine bytes, id space, scrambled counter."""
        counter = ((n & 0xFFFFFF) * 0x9E3779 ^ self.counter_mask) & 0xFFFFFF
        ts = int(when.timestamp()) & 0xFFFFFFFF
        return f"{ts:08x}{self.machine:06x}{space:02x}{(n >> 24) & 0xFF:02x}{counter:06x}"

    def index_at(self, position: int) -> int:
        """The person written at ``position`` of the pull stream (a permutation of 0..leads-1)."""
        return (self._perm_a * position + self._perm_b) % self.leads

    def org_of(self, i: int) -> tuple[int, int]:
        """Organisation index and slot of person ``i``."""
        j = bisect_right(self.offsets, i) - 1
        return j, i - self.offsets[j]

    def kind_share(self, i: int) -> float:
        """A number in [0, 1) per person, equidistributed, that decides the person's messy case."""
        return (i * 0.6180339887498949 + self._phi_offset) % 1.0

    # --- organisations -------------------------------------------------------------------------

    def _org_basics(self, j: int) -> tuple[str, str, int, int]:
        rng = rng_for(self.seed, "org-basics", j)
        industry = ORG_INDUSTRIES.pick(rng)
        country = ORG_COUNTRIES.pick(rng)
        low, high = EMPLOYEE_BUCKETS.pick(rng)
        employees = max(1, round(low * (high / low) ** rng.random()))
        people = PEOPLE_PER_ORG_SCALE * employees**0.5 * lognormal(rng, 0.0, 0.6)
        pool = NAME_POOLS[COUNTRIES[country].name_pool]
        people = max(1, min(employees, pool.size, round(people)))
        return industry, country, employees, people

    def profile(self, j: int) -> OrgProfile:
        """The organisation ``j`` facts that people refer to (cached, bounded)."""
        found = self._profiles.get(j)
        if found is None:
            if len(self._profiles) >= PROFILE_CACHE_SIZE:
                self._profiles.clear()
            found = self._profiles[j] = self._build_profile(j)
        return found

    def _build_profile(self, j: int) -> OrgProfile:
        industry, code, employees, _ = self._org_basics(j)
        people = self.offsets[j + 1] - self.offsets[j] if j < self.org_count else 0
        country = COUNTRIES[code]
        rng = rng_for(self.seed, "org-profile", j)
        ind = INDUSTRIES[industry]
        cap = len(ORG_WORDS_A) * len(ORG_WORDS_B)
        cycle, rest = divmod(j, cap)
        p = (rest * 7919 + self._name_offset) % cap
        a, b = ORG_WORDS_A[p % len(ORG_WORDS_A)], ORG_WORDS_B[p // len(ORG_WORDS_A)]
        suffix = pick(rng, ind.suffixes)
        name = f"{a} {b} {suffix}" if chance(rng, 0.8) else f"{a} {b}"
        if country.legal_forms and chance(rng, 0.3):
            name = f"{name} {pick(rng, country.legal_forms)}"
        core = ascii_fold(a) + ascii_fold(b)
        word = ascii_fold(suffix.split()[0])
        if cycle == 0:
            stem = core + word if chance(rng, 0.4) and word not in _DOMAIN_STOPWORDS else core
        else:
            pre, post = DOMAIN_VARIANTS[cycle % len(DOMAIN_VARIANTS)]
            extra = str(cycle // len(DOMAIN_VARIANTS) + 1) if cycle >= len(DOMAIN_VARIANTS) else ""
            stem = f"{pre}{core}{post}{extra}"
        tld = "io" if ind.sector == "IT" and chance(rng, 0.3) else pick(rng, country.tlds)
        slug = "-".join(ascii_fold(w) for w in name.split() if ascii_fold(w))
        pool = NAME_POOLS[country.name_pool]
        pattern = EMAIL_PATTERNS.pick(rng)
        base = int(rng.random() * pool.size)
        mult = pick(rng, _MULTIPLIERS[country.name_pool])
        founded = 2024 - min(120, int(lognormal(rng, 2.6, 0.7)))
        profile = OrgProfile(
            index=j,
            id=self.object_id(SPACE_ORG, j, datetime(max(founded, 2010), 3, 1, tzinfo=UTC)),
            name=name,
            domain=f"{stem}.{tld}",
            linkedin_slug=slug if cycle == 0 else f"{slug}-{cycle}",
            industry=industry,
            country=country,
            city=country.cities.pick(rng),
            employees=employees,
            people=people,
            pool=country.name_pool,
            email_pattern="first.last",
            name_base=base,
            name_mult=mult,
            catchall=chance(rng, 0.12),
            founded_year=founded,
            has_unknown_field=chance(rng, 0.01),
        )
        if pattern == "first" and people <= 3:
            firsts = {ascii_fold(profile.name_at(k)[0]) for k in range(people)}
            if len(firsts) == people:
                return _replace_pattern(profile, "first")
        if pattern in ("firstlast", "first_last"):
            return _replace_pattern(profile, pattern)
        return profile

    def organization(self, j: int) -> dict[str, Any]:
        """Apollo's ``organization{}`` object of organisation ``j`` (the same for every person).

        Parameters
        ----------
        j : int
            Organisation index, ``0 <= j < org_count``.

        Returns
        -------
        dict
            The 53 contract fields plus ``departmental_head_count`` (and, for about 1% of
            organisations, an ``ai_readiness_score`` field the loader does not know).
        """
        p = self.profile(j)
        rng = rng_for(self.seed, "org-object", j)
        ind = INDUSTRIES[p.industry]
        country, city = p.country, p.city
        street = f"{randint(rng, 10, 4999)} {pick(rng, STREETS)} {pick(rng, STREET_KINDS)}"
        has_street = chance(rng, 0.7)
        raw_address = (
            f"{street}, {city.name}, {city.state} {city.postal_code}, {country.name}"
            if has_street
            else f"{city.name}, {city.state}, {country.name}"
        )
        raw_phone, sanitized = phone_number(rng, country, city)
        has_phone = chance(rng, 0.8)
        revenue = None
        if chance(rng, 0.7):
            revenue = round_sig(p.employees * lognormal(rng, math.log(160_000), 0.5))
        funding = self._funding(rng, p, ind.funded_share)
        total_funding = sum(amount for _, amount in funding) if funding else None
        techs = self._technologies(rng, ind.technologies)
        names = sorted(TECHNOLOGIES[t][0] for t in techs)
        if chance(rng, 0.05):
            names.append("Salesforge")  # technology_names can list more than current_technologies
        languages = list(country.languages)
        r = rng.random()
        if r < 0.1:
            languages = []
        elif r < 0.2:
            languages = languages[:1]
        related = [x for x in ind.related if chance(rng, 0.5)][:1]
        tag = (
            INDUSTRY_TAG_IDS.get(p.industry)
            or "5567" + hashlib.md5(p.industry.encode()).hexdigest()[:20]
        )
        public = p.employees > 2000 and chance(rng, 0.15)
        keywords = sample(rng, ind.keywords, randint(rng, 3, min(6, len(ind.keywords))))
        description = (
            f"{p.name} is {'an' if city.name[0] in 'AEIOU' else 'a'} {city.name}-based"
            f" {p.industry} company"
            f" focused on {', '.join(keywords[:2])}."
        )
        org: dict[str, Any] = {
            "id": p.id,
            "name": p.name,
            "website_url": f"http://www.{p.domain}",
            "blog_url": f"https://blog.{p.domain}" if chance(rng, 0.05) else None,
            "angellist_url": None,
            "linkedin_url": f"http://www.linkedin.com/company/{p.linkedin_slug}",
            "twitter_url": f"https://twitter.com/{p.domain.split('.')[0][:15]}"
            if chance(rng, 0.4)
            else None,
            "facebook_url": f"https://www.facebook.com/{p.domain.split('.')[0]}"
            if chance(rng, 0.25)
            else None,
            "primary_phone": {
                "number": raw_phone,
                "source": pick(rng, PRIMARY_PHONE_SOURCES),
                "sanitized_number": sanitized,
            }
            if has_phone
            else {},
            "languages": languages,
            "alexa_ranking": randint(rng, 20_000, 9_000_000) if chance(rng, 0.4) else None,
            "phone": raw_phone if has_phone else None,
            "linkedin_uid": str(1_000_000 + h64(self.seed, "li-uid", j) % 98_000_000),
            "founded_year": p.founded_year if chance(rng, 0.9) else None,
            "publicly_traded_symbol": "".join(c for c in p.name.upper() if c.isalpha())[:4]
            if public
            else None,
            "publicly_traded_exchange": pick(rng, EXCHANGES) if public else None,
            "logo_url": "https://zenprospect-production.s3.amazonaws.com/uploads/pictures/"
            f"{self.object_id(SPACE_ORG, j, self.start)}/picture"
            if chance(rng, 0.5)
            else None,
            "crunchbase_url": f"https://www.crunchbase.com/organization/{p.linkedin_slug}"
            if funding
            else None,
            "primary_domain": p.domain,
            "sanitized_phone": sanitized if has_phone else None,
            "industry": p.industry,
            "keywords": keywords,
            "estimated_num_employees": p.employees,
            "industries": [p.industry],
            "secondary_industries": related,
            "snippets_loaded": True,
            "industry_tag_id": tag,
            "industry_tag_hash": {p.industry: tag},
            "retail_location_count": randint(rng, 1, max(1, p.employees // 40))
            if ind.retail and chance(rng, 0.6)
            else 0,
            "raw_address": raw_address,
            "street_address": street if has_street else None,
            "city": city.name,
            "state": city.state,
            "postal_code": city.postal_code if has_street else None,
            "country": country.name,
            "owned_by_organization_id": None,
            "seo_description": description if chance(rng, 0.6) else None,
            "short_description": f"{description} Founded in {p.founded_year}, it employs"
            f" about {p.employees:,} people.",
            "suborganizations": [],
            "num_suborganizations": 0,
            "annual_revenue_printed": money_printed(revenue) if revenue else None,
            "annual_revenue": revenue,
            "total_funding": total_funding,
            "total_funding_printed": money_printed(total_funding) if total_funding else None,
            "latest_funding_round_date": funding[0][0]["date"] if funding else None,
            "latest_funding_stage": funding[0][0]["type"] if funding else None,
            "funding_events": [event for event, _ in funding],
            "technology_names": names,
            "current_technologies": [
                {"uid": t, "name": TECHNOLOGIES[t][0], "category": TECHNOLOGIES[t][1]}
                for t in sorted(techs, key=lambda t: TECHNOLOGIES[t][0])
            ],
            "org_chart_root_people_ids": [],
            "org_chart_sector": f"OrgChart::SectorHierarchy::Rules::{ind.sector}",
            "org_chart_removed": False,
            "org_chart_show_department_filter": True,
            "departmental_head_count": self._head_count(rng, p),
        }
        if p.has_unknown_field:
            org["ai_readiness_score"] = pick(rng, BUYING_SIGNAL_SCORES)
        return org

    def _funding(
        self, rng: random.Random, p: OrgProfile, share: float
    ) -> list[tuple[dict[str, Any], int]]:
        if not chance(rng, share):
            return []
        events = []
        year = max(p.founded_year + 1, 2008)
        for e in range(randint(rng, 1, 4)):
            year = min(2024, year + randint(rng, 0, 3))
            stage = FUNDING_STAGES.pick(rng)
            low, high = FUNDING_AMOUNTS[stage]
            amount = int(round_sig((low + (high - low) * rng.random()) * 1e6, 2))
            when = datetime(year, randint(rng, 1, 12), 1, tzinfo=UTC)
            event = {
                "id": self.object_id(SPACE_FUNDING, p.index * HISTORY_SLOTS + e, when),
                "date": when.strftime("%Y-%m-%dT00:00:00.000+00:00"),
                "news_url": f"https://www.example-news.com/{p.linkedin_slug}-{e + 1}"
                if chance(rng, 0.5)
                else None,
                "type": stage,
                "investors": ", ".join(sample(rng, INVESTORS, randint(rng, 1, 3))),
                "amount": money_printed(amount),
                "currency": "$",
            }
            events.append((event, amount))
        events.sort(key=lambda ev: ev[0]["date"], reverse=True)
        return events

    @staticmethod
    def _technologies(rng: random.Random, industry_techs: tuple[str, ...]) -> list[str]:
        techs: list[str] = []
        for _ in range(randint(rng, 2, 7)):
            t = COMMON_TECHNOLOGIES.pick(rng)
            if t not in techs:
                techs.append(t)
        for t in sample(rng, industry_techs, randint(rng, 0, 3)):
            if t not in techs:
                techs.append(t)
        return techs

    @staticmethod
    def _head_count(rng: random.Random, p: OrgProfile) -> dict[str, int]:
        weights = DEPARTMENTS_BY_INDUSTRY[p.industry]
        total = weights.cum[-1]
        counts = {}
        previous = 0.0
        for dept, cum in zip(weights.values, weights.cum, strict=True):
            share = (cum - previous) / total
            previous = cum
            counts[HEAD_COUNT_KEYS[dept]] = int(p.employees * 0.7 * share * (0.5 + rng.random()))
        counts["support"] = int(p.employees * 0.05 * rng.random())
        return {key: counts[key] for key in sorted(counts)}

    # --- people --------------------------------------------------------------------------------

    def person(self, i: int, *, unknown_field: bool = False, email: bool = True) -> dict[str, Any]:
        """Apollo's person object for person ``i`` (``people/match`` shape).

        Parameters
        ----------
        i : int
            Person index, ``0 <= i < leads``.
        unknown_field : bool
            Add a top-level field the loader does not know (``buying_committee_role``).
        email : bool
            False for a LinkedIn-only lead: ``email`` null and ``email_status`` unavailable.

        Returns
        -------
        dict
            The 33 contract fields in the contract's order, ``phone_numbers`` for some people.
        """
        rng = rng_for(self.seed, "person", i)
        j, slot = self.org_of(i)
        org = self.profile(j)
        first, last = org.name_at(slot)
        seniority = SENIORITIES.pick(rng)
        role = make_role(rng, DEPARTMENTS_BY_INDUSTRY[org.industry].pick(rng), seniority)
        country, city = self._location(rng, org)
        created = self.start - timedelta(seconds=randint(rng, 2 * 86400, 720 * 86400))
        created = created.replace(microsecond=randint(rng, 0, 999) * 1000)
        status = EMAIL_STATUSES.pick(rng)
        confidence = round(0.5 + 0.45 * rng.random(), 2)
        pid = self.object_id(SPACE_PERSON, i, created)
        counter = pid[-6:]
        f, ln = ascii_fold(first), ascii_fold(last)
        r = rng.random()
        slug = (
            f"{f}-{ln}-{counter}"
            if r < 0.7
            else (f"{f}{ln}{counter}" if r < 0.9 else f"{f}-{counter}")
        )
        has_linkedin = not email or chance(rng, 0.95)
        photo = None
        if chance(rng, 0.6):
            photo = (
                "https://media.licdn.com/dms/image/v2/"
                f"{pid[:16].upper()}/"
                "profile-displayphoto-shrink_200_200/0/"
                f"{int(created.timestamp() * 1000)}?e=2147483647&v=beta&t={counter[:3]}"
            )
        intent = INTENT_STRENGTHS.pick(rng)
        history = self._history(rng, i, j, org, role, created, SPACE_HISTORY)
        phones = None
        if chance(rng, 0.15):
            phones = []
            for _ in range(randint(rng, 1, 2)):
                raw, sanitized = phone_number(rng, country, city)
                phones.append(
                    {
                        "raw_number": raw,
                        "sanitized_number": sanitized,
                        "type": PHONE_TYPES.pick(rng),
                        "status": PHONE_STATUSES.pick(rng),
                    }
                )
        headline = self._headline(rng, role.title, org.name)
        street = "" if chance(rng, 0.4) else None
        postal = city.postal_code if chance(rng, 0.3) else None
        person: dict[str, Any] = {
            "id": pid,
            "first_name": first,
            "last_name": last,
            "name": f"{first} {last}",
            "linkedin_url": f"http://www.linkedin.com/in/{slug}" if has_linkedin else None,
            "title": role.title,
            "email_status": status if email else "unavailable",
            "photo_url": photo,
            "twitter_url": f"https://twitter.com/{f[:1]}{ln}{counter[:2]}"
            if chance(rng, 0.08)
            else None,
            "github_url": f"https://github.com/{f}{ln}"
            if chance(rng, 0.25 if role.department == "master_engineering_technical" else 0.01)
            else None,
            "facebook_url": None,
            "extrapolated_email_confidence": confidence
            if email and status == "extrapolated"
            else None,
            "headline": headline,
            "email": f"{org.email_local(first, last)}@{org.domain}" if email else None,
            "organization_id": org.id,
            "employment_history": history,
            "street_address": street,
            "city": city.name,
            "state": city.state,
            "country": country.name,
            "postal_code": postal,
            "formatted_address": f"{city.name}, {city.state}, {country.name}",
            "time_zone": city.time_zone,
            "organization": self.organization(j),
            "departments": role.departments,
            "subdepartments": role.subdepartments,
            "seniority": role.seniority,
            "functions": role.functions,
            "intent_strength": intent,
            "show_intent": intent is not None,
            "email_domain_catchall": org.catchall,
            "revealed_for_current_team": True,
            "is_likely_to_engage": chance(rng, 0.2),
        }
        if phones:
            person["phone_numbers"] = phones
        if unknown_field:
            person["buying_committee_role"] = pick(rng, BUYING_COMMITTEE_ROLES)
        return person

    def second_record(self, i: int, person: dict[str, Any]) -> dict[str, Any]:
        """A duplicate Apollo record of person ``i``: a second id, the same email."""
        rng = rng_for(self.seed, "second-id", i)
        # Created after the current role started (the role's start date is never later than
        # the record's own stamps), at least a day before the first pull.
        began = date.fromisoformat(current_entry(person)["start_date"])
        room = int((self.start - datetime.combine(began, time(), UTC)).total_seconds())
        created = self.start - timedelta(
            seconds=randint(rng, 86400, max(86400, min(300 * 86400, room)))
        )
        created = created.replace(microsecond=randint(rng, 0, 999) * 1000)
        dup = dict(person)
        dup["id"] = self.object_id(SPACE_SECOND_ID, i, created)
        dup["title"] = title_variant(rng, person["title"])
        dup["email_status"] = pick(rng, ("verified", "verified", "extrapolated", "guessed"))
        dup["extrapolated_email_confidence"] = (
            round(0.5 + 0.45 * rng.random(), 2) if dup["email_status"] == "extrapolated" else None
        )
        history = []
        for e, entry in enumerate(person["employment_history"]):
            hid = self.object_id(SPACE_SECOND_HISTORY, i * HISTORY_SLOTS + e, created)
            copy = {**entry, "_id": hid, "id": hid, "key": hid}
            copy["created_at"] = copy["updated_at"] = iso_ms(created)
            if e == 0:
                copy["title"] = dup["title"]
            history.append(copy)
        dup["employment_history"] = history
        return dup

    def job_change(self, i: int, person: dict[str, Any], pulled_at: datetime) -> dict[str, Any]:
        """Person ``i`` as a later pull sees them after a new title and/or a new company.

        The old current employment entry gets an ``end_date`` and ``current=false``; a new
        current entry comes first. A move to another organisation changes ``organization{}``,
        ``organization_id`` and the email (to the new domain).

        The change is newer by the record's own data: the new entry's ``created_at`` and the
        old entry's ``updated_at`` are strictly later than every stamp of ``person`` (see
        :func:`latest_stamp`) and before ``pulled_at``, and the new role starts on or before
        that moment.

        Parameters
        ----------
        i : int
            Person index.
        person : dict
            The earlier record of person ``i`` (as :meth:`person` builds it).
        pulled_at : datetime
            When the pull that sees the change was made; more than a second after the
            latest stamp of ``person``.

        Returns
        -------
        dict
            The later record, with the same ``id``.
        """
        rng = rng_for(self.seed, "job-change", i)
        department = next(
            (d for d in person["departments"] if d in DEPARTMENTS),
            DEPARTMENTS_BY_INDUSTRY[person["organization"]["industry"]].pick(rng),
        )
        old_title = person["title"]
        new_org = None
        if chance(rng, 0.7):
            first, last = person["first_name"], person["last_name"]
            for _ in range(50):
                j2 = int(rng.random() * self.org_count)
                candidate = self.profile(j2)
                if candidate.id == person["organization_id"] or candidate.holds_name(first, last):
                    continue
                address = f"{candidate.email_local(first, last)}@{candidate.domain}"
                if address not in self.mover_emails:
                    self.mover_emails.add(address)
                    new_org = candidate
                    break
        level = person["seniority"]
        if new_org is None or chance(rng, 0.4):
            level = PROMOTION.get(level, level)
        role = make_role(rng, department, level)
        for _ in range(20):
            if role.title != old_title:
                break
            role = make_role(rng, department, level)
        else:
            role = Role(
                department,
                level,
                f"Acting {old_title}",
                role.departments,
                role.subdepartments,
                role.functions,
            )
        moved_at = pulled_at - timedelta(days=randint(rng, 1, 20), seconds=randint(rng, 0, 86399))
        seen = latest_stamp(person)
        if moved_at < seen + timedelta(seconds=1):
            # A pull soon after the record was last touched: the change falls between the two.
            span = int((pulled_at - seen).total_seconds())
            moved_at = seen + timedelta(seconds=randint(rng, 1, max(1, span - 1)))
        moved_at = moved_at.replace(microsecond=randint(rng, 0, 999) * 1000)
        history = [dict(entry) for entry in person["employment_history"]]
        old = history[0]
        old_start = date.fromisoformat(old["start_date"])
        new_start = months_before(pulled_at.date(), randint(rng, 1, 9))
        if new_start <= old_start:
            new_start = months_before(old_start, -1)
        old.update(
            current=False,
            end_date=months_before(new_start, 1).isoformat(),
            updated_at=iso_ms(moved_at),
        )
        org_id = new_org.id if new_org else person["organization_id"]
        org_name = new_org.name if new_org else person["organization"]["name"]
        hid = self.object_id(SPACE_HISTORY, i * HISTORY_SLOTS + HISTORY_SLOTS - 1, moved_at)
        entry = _history_entry(hid, iso_ms(moved_at), True, new_start.isoformat(), None, role.title)
        entry.update(organization_id=org_id, organization_name=org_name)
        changed = dict(person)
        changed.update(
            title=role.title,
            seniority=role.seniority,
            departments=role.departments,
            subdepartments=role.subdepartments,
            functions=role.functions,
            headline=self._headline(rng, role.title, org_name),
            employment_history=[entry, *history],
        )
        if new_org is not None:
            status = "verified" if chance(rng, 0.6) else "extrapolated"
            first, last = person["first_name"], person["last_name"]
            changed.update(
                organization_id=new_org.id,
                organization=self.organization(new_org.index),
                email=None
                if person["email"] is None
                else f"{new_org.email_local(first, last)}@{new_org.domain}",
                email_domain_catchall=new_org.catchall,
            )
            if person["email"] is not None:
                changed["email_status"] = status
                changed["extrapolated_email_confidence"] = (
                    round(0.5 + 0.45 * rng.random(), 2) if status == "extrapolated" else None
                )
            if chance(rng, 0.7):
                city = new_org.city
                changed.update(
                    city=city.name,
                    state=city.state,
                    country=new_org.country.name,
                    postal_code=None,
                    formatted_address=f"{city.name}, {city.state}, {new_org.country.name}",
                    time_zone=city.time_zone,
                )
        return changed

    def bad_person(self, t: int, position: int) -> dict[str, Any]:
        """A well-formed person object of its own (id space ``SPACE_BAD``), to be spoiled."""
        rng = rng_for(self.seed, "bad", t)
        person = self.person(self.index_at(position))
        org = self.profile(self.org_of(self.index_at(position))[0])
        pool = NAME_POOLS[org.pool]
        first, last = pick(rng, pool.first), pick(rng, pool.last)
        created = self.start - timedelta(days=randint(rng, 2, 400))
        pid = self.object_id(SPACE_BAD, t, created)
        history = []
        for e, entry in enumerate(person["employment_history"]):
            hid = self.object_id(SPACE_BAD_HISTORY, t * HISTORY_SLOTS + e, created)
            history.append({**entry, "_id": hid, "id": hid, "key": hid})
        person.update(
            id=pid,
            first_name=first,
            last_name=last,
            name=f"{first} {last}",
            linkedin_url="http://www.linkedin.com/in/"
            f"{ascii_fold(first)}-{ascii_fold(last)}-{pid[-7:]}",
            email=f"{org.email_local(first, last)}{t + 1}@{org.domain}",
            employment_history=history,
        )
        person.pop("phone_numbers", None)
        return person

    # --- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _location(rng: random.Random, org: OrgProfile) -> tuple[Country, City]:
        r = rng.random()
        if r < 0.65:
            return org.country, org.city
        country = org.country if r < 0.9 else COUNTRIES[ORG_COUNTRIES.pick(rng)]
        return country, country.cities.pick(rng)

    @staticmethod
    def _headline(rng: random.Random, title: str, org_name: str) -> str | None:
        r = rng.random()
        if r < 0.5:
            return f"{title} at {org_name}"
        if r < 0.7:
            return f"{title}, {org_name}"
        if r < 0.9:
            return title
        return None

    def _history(
        self,
        rng: random.Random,
        i: int,
        j: int,
        org: OrgProfile,
        role: Role,
        created: datetime,
        space: int,
    ) -> list[dict[str, Any]]:
        stamp = iso_ms(created)
        ids = (self.object_id(space, i * HISTORY_SLOTS + e, created) for e in range(HISTORY_SLOTS))
        start = months_before(created.date(), randint(rng, 2, 100))
        entries = [_history_entry(next(ids), stamp, True, start.isoformat(), None, role.title)]
        entries[0].update(organization_id=org.id, organization_name=org.name)
        level = SENIORITY_ORDER.index(role.seniority) if role.seniority in SENIORITY_ORDER else 3
        previous = randint(rng, 0, min(3, 1 + level // 2))
        for _ in range(previous):
            end = months_before(start, 1)
            start = months_before(end, randint(rng, 10, 70))
            level = max(0, min(level, 6) - randint(rng, 0, 1))
            seniority = SENIORITY_ORDER[level]
            title = make_role(rng, role.department, seniority).title if chance(rng, 0.92) else None
            entry = _history_entry(
                next(ids), stamp, False, start.isoformat(), end.isoformat(), title
            )
            if chance(rng, 0.6) and self.org_count > 1:
                j2 = int(rng.random() * self.org_count)
                other = self.profile(j2 if j2 != j else (j2 + 1) % self.org_count)
                entry.update(organization_id=other.id, organization_name=other.name)
            else:
                a, b = pick(rng, ORG_WORDS_A), pick(rng, ORG_WORDS_B)
                entry.update(
                    organization_name=f"{a} {b} {pick(rng, ('Group', 'Inc.', 'Partners', 'Co.'))}"
                )
            entries.append(entry)
        if chance(rng, 0.4):
            end = months_before(start, randint(rng, 1, 24))
            entry = _history_entry(
                next(ids), stamp, False, months_before(end, 45).isoformat(), end.isoformat(), None
            )
            entry.update(
                kind="education",
                degree=pick(rng, DEGREES),
                major=pick(rng, MAJORS[role.department]),
                organization_name=f"{pick(rng, UNIVERSITIES)} University",
            )
            entries.append(entry)
        return entries


def _replace_pattern(profile: OrgProfile, pattern: str) -> OrgProfile:
    return replace(profile, email_pattern=pattern)


def _history_entry(
    hid: str, stamp: str, current: bool, start: str, end: str | None, title: str | None
) -> dict[str, Any]:
    """One ``employment_history[]`` entry in the contract's key order."""
    return {
        "_id": hid,
        "created_at": stamp,
        "current": current,
        "degree": None,
        "description": None,
        "emails": None,
        "end_date": end,
        "grade_level": None,
        "kind": None,
        "major": None,
        "organization_id": None,
        "organization_name": None,
        "raw_address": None,
        "start_date": start,
        "title": title,
        "updated_at": stamp,
        "id": hid,
        "key": hid,
    }
