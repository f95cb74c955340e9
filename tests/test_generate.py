"""The demo Apollo generator: determinism, contract shape, messy cases and counts."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cis.generate import (
    DEFAULT_START,
    GenerateSummary,
    Shares,
    generate_landing,
)
from cis.generate.apollo_people import Universe
from cis.generate.distributions import NAME_POOLS, ORG_WORDS_A, ORG_WORDS_B, ascii_fold

# Key lists of the contract person (shared/contracts/apollo__person.jsonl, line 1), copied here
# so the test does not depend on the shared folder.
CONTRACT_PERSON_KEYS = [
    "id",
    "first_name",
    "last_name",
    "name",
    "linkedin_url",
    "title",
    "email_status",
    "photo_url",
    "twitter_url",
    "github_url",
    "facebook_url",
    "extrapolated_email_confidence",
    "headline",
    "email",
    "organization_id",
    "employment_history",
    "street_address",
    "city",
    "state",
    "country",
    "postal_code",
    "formatted_address",
    "time_zone",
    "organization",
    "departments",
    "subdepartments",
    "seniority",
    "functions",
    "intent_strength",
    "show_intent",
    "email_domain_catchall",
    "revealed_for_current_team",
    "is_likely_to_engage",
]
CONTRACT_ORG_KEYS = [
    "id",
    "name",
    "website_url",
    "blog_url",
    "angellist_url",
    "linkedin_url",
    "twitter_url",
    "facebook_url",
    "primary_phone",
    "languages",
    "alexa_ranking",
    "phone",
    "linkedin_uid",
    "founded_year",
    "publicly_traded_symbol",
    "publicly_traded_exchange",
    "logo_url",
    "crunchbase_url",
    "primary_domain",
    "sanitized_phone",
    "industry",
    "keywords",
    "estimated_num_employees",
    "industries",
    "secondary_industries",
    "snippets_loaded",
    "industry_tag_id",
    "industry_tag_hash",
    "retail_location_count",
    "raw_address",
    "street_address",
    "city",
    "state",
    "postal_code",
    "country",
    "owned_by_organization_id",
    "seo_description",
    "short_description",
    "suborganizations",
    "num_suborganizations",
    "annual_revenue_printed",
    "annual_revenue",
    "total_funding",
    "total_funding_printed",
    "latest_funding_round_date",
    "latest_funding_stage",
    "funding_events",
    "technology_names",
    "current_technologies",
    "org_chart_root_people_ids",
    "org_chart_sector",
    "org_chart_removed",
    "org_chart_show_department_filter",
]
CONTRACT_HISTORY_KEYS = [
    "_id",
    "created_at",
    "current",
    "degree",
    "description",
    "emails",
    "end_date",
    "grade_level",
    "kind",
    "major",
    "organization_id",
    "organization_name",
    "raw_address",
    "start_date",
    "title",
    "updated_at",
    "id",
    "key",
]
KNOWN_EXTRA_PERSON_KEYS = {"phone_numbers"}
KNOWN_EXTRA_ORG_KEYS = {"departmental_head_count"}
SENIORITIES = {
    "owner",
    "founder",
    "c_suite",
    "partner",
    "vp",
    "head",
    "director",
    "manager",
    "senior",
    "entry",
    "intern",
}
EMAIL_STATUSES = {"verified", "extrapolated", "unavailable", "guessed", "unverified"}
DEPARTMENTS = {
    "c_suite",
    "master_operations",
    "master_finance",
    "master_sales",
    "master_human_resources",
    "master_engineering_technical",
    "master_marketing",
    "master_information_technology",
    "master_legal",
}
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
EMAIL = re.compile(r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$")
FILE_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{6}Z)-pull-(\d{3})(-corrupt)?\.jsonl$")
LEADS = 300


@dataclass
class Landing:
    """A generated folder read back independently of the generator."""

    root: Path
    summary: GenerateSummary
    good: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (file name, person)
    bad: Counter[str] = field(default_factory=Counter)
    line_of: list[int] = field(default_factory=list)  # line number in its file, as in good
    lines_in: Counter[str] = field(default_factory=Counter)  # lines per file, good or bad


def classify(file_name: str, raw: bytes) -> tuple[str, Any]:
    """The kind of one line, as a careful loader would see it."""
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return ("corrupt_file" if file_name.endswith("-corrupt.jsonl") else "not_json"), None
    if not isinstance(obj, dict):
        return "not_object", None
    if "id" not in obj:
        return "missing_id", None
    if obj.get("seniority") not in SENIORITIES:
        return "unknown_seniority", None
    if obj.get("email") is not None and not EMAIL.match(obj["email"]):
        return "invalid_email", None
    return "good", obj


def read_landing(root: Path, summary: GenerateSummary) -> Landing:
    landing = Landing(root, summary)
    for path in sorted((root / "apollo" / "people").iterdir()):
        for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
            if not raw.strip():
                continue
            landing.lines_in[path.name] += 1
            kind, obj = classify(path.name, raw)
            if kind == "good":
                landing.good.append((path.name, obj))
                landing.line_of.append(number)
            else:
                landing.bad[kind] += 1
    return landing


def stamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def stamps(person: dict[str, Any]) -> list[datetime]:
    """Every ``created_at``/``updated_at`` of a record's employment history."""
    return [
        stamp(entry[key])
        for entry in person["employment_history"]
        for key in ("created_at", "updated_at")
        if entry[key]
    ]


def current_role(person: dict[str, Any]) -> dict[str, Any]:
    """The ``current`` entry with the newest start date, as the history mart reads it."""
    return max(
        (e for e in person["employment_history"] if e["current"]), key=lambda e: e["start_date"]
    )


def same_file_repeats(landing: Landing) -> dict[str, list[tuple[str, int, dict[str, Any]]]]:
    """Apollo ids with two good records in one file: (file, line, record) in file order."""
    by_key: dict[tuple[str, str], list[tuple[str, int, dict[str, Any]]]] = defaultdict(list)
    for (name, p), line in zip(landing.good, landing.line_of, strict=True):
        by_key[(p["id"], name)].append((name, line, p))
    return {pid: records for (pid, _), records in by_key.items() if len(records) > 1}


def assert_newer_by_its_own_data(old: dict[str, Any], new: dict[str, Any]) -> None:
    """``new`` is a later version of ``old``: a reader can tell from the two records alone."""
    assert old["id"] == new["id"]
    assert min(stamps(new)) <= max(stamps(old)) < max(stamps(new))
    assert (old["title"], old["organization_id"]) != (new["title"], new["organization_id"])
    head, previous = new["employment_history"][:2]
    assert head["current"] and not previous["current"]
    assert previous["id"] == old["employment_history"][0]["id"]
    assert previous["organization_id"] == old["organization_id"]
    assert previous["end_date"] is not None and previous["end_date"] < head["start_date"]
    assert stamp(head["created_at"]) == max(stamps(new))
    assert new["linkedin_url"] == old["linkedin_url"]
    if new["organization_id"] != old["organization_id"]:
        assert new["email"] != old["email"] or new["email"] is None


def pull_time(name: str) -> datetime:
    match = FILE_NAME.match(name)
    assert match, name
    return datetime.strptime(match.group(1), "%Y-%m-%dT%H%M%SZ").replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Landing:
    root = tmp_path_factory.mktemp("landing")
    summary = generate_landing(root, LEADS, seed=11, lines_per_file=120)
    return read_landing(root, summary)


def folder_bytes(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "apollo" / "people").iterdir())}


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    a = generate_landing(tmp_path / "a", LEADS, seed=5)
    b = generate_landing(tmp_path / "b", LEADS, seed=5)
    assert a == b
    assert folder_bytes(tmp_path / "a") == folder_bytes(tmp_path / "b")


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    generate_landing(tmp_path / "a", LEADS, seed=5)
    generate_landing(tmp_path / "b", LEADS, seed=6)
    a, b = folder_bytes(tmp_path / "a"), folder_bytes(tmp_path / "b")
    assert a.keys() == b.keys()  # the same file names (same start) ...
    assert all(a[name] != b[name] for name in a)  # ... with other content


def test_summary_counts_match_the_files(landing: Landing) -> None:
    s = landing.summary
    good = [person for _, person in landing.good]
    assert s.people_lines == len(good)
    assert s.distinct_people == LEADS
    assert dict(landing.bad) == {k: v for k, v in s.bad_lines.items() if v}
    assert s.missing_emails == sum(p["email"] is None for p in good)

    versions: dict[str, dict[str, set[tuple[str, str]]]] = defaultdict(lambda: defaultdict(set))
    for name, p in landing.good:
        versions[p["id"]][name].add((p["title"], p["organization_id"]))
    repulled = {pid: files for pid, files in versions.items() if len(files) > 1}
    changed = [pid for pid, files in repulled.items() if len(set().union(*files.values())) > 1]
    assert s.repulls == len(changed) > 0
    assert s.unchanged_repulls == len(repulled) - len(changed)
    repeats = same_file_repeats(landing)
    assert s.same_file_repeats == len(repeats) > 0
    assert not set(repeats) & set(repulled)
    assert s.older_first + s.older_second == s.same_file_repeats

    ids_by_email: dict[str, set[str]] = defaultdict(set)
    for p in good:
        if p["email"]:
            ids_by_email[p["email"]].add(p["id"])
    shared = [e for e, ids in ids_by_email.items() if len(ids) > 1]
    assert s.second_ids == len(shared) > 0
    assert all(len(ids_by_email[e]) == 2 for e in shared)
    assert len({p["id"] for p in good}) == LEADS + s.second_ids

    unknown = [
        p
        for p in good
        if set(p) - set(CONTRACT_PERSON_KEYS) - KNOWN_EXTRA_PERSON_KEYS
        or set(p["organization"]) - set(CONTRACT_ORG_KEYS) - KNOWN_EXTRA_ORG_KEYS
    ]
    assert s.unknown_field_records == len(unknown) > 0
    written = sorted(p.name for p in (landing.root / "apollo" / "people").iterdir())
    assert [Path(f).name for f in s.files] == written


def test_default_shares_are_roughly_kept(landing: Landing) -> None:
    s = landing.summary
    assert s.repulls == pytest.approx(0.05 * LEADS, abs=2)
    assert s.second_ids == pytest.approx(0.02 * LEADS, abs=2)
    assert s.missing_emails == pytest.approx(0.08 * LEADS, abs=2)
    assert s.same_file_repeats == pytest.approx(0.03 * LEADS, abs=2)
    assert abs(s.older_first - s.older_second) <= 1  # the two orders alternate
    assert set(s.bad_lines) >= {
        "not_json",
        "not_object",
        "invalid_email",
        "unknown_seniority",
        "missing_id",
        "corrupt_file",
    }
    assert all(count >= 1 for count in s.bad_lines.values())


def test_every_good_line_has_the_contract_shape(landing: Landing) -> None:
    orgs: dict[str, str] = {}
    for _, p in landing.good:
        assert [k for k in p if k in CONTRACT_PERSON_KEYS] == CONTRACT_PERSON_KEYS
        assert [k for k in p["organization"] if k in CONTRACT_ORG_KEYS] == CONTRACT_ORG_KEYS
        assert OBJECT_ID.match(p["id"]) and OBJECT_ID.match(p["organization_id"])
        assert p["organization"]["id"] == p["organization_id"]
        assert p["employment_history"], p["id"]
        for entry in p["employment_history"]:
            assert list(entry) == CONTRACT_HISTORY_KEYS
            assert entry["_id"] == entry["id"] == entry["key"]
        current = [e for e in p["employment_history"] if e["current"]]
        assert len(current) == 1 and current[0]["organization_id"] == p["organization_id"]
        assert current[0]["title"] == p["title"]
        if p["linkedin_url"] is not None:
            assert re.match(r"^http://www\.linkedin\.com/in/[a-z0-9-]+$", p["linkedin_url"])
        for phone in p.get("phone_numbers", []):
            assert set(phone) == {"raw_number", "sanitized_number", "type", "status"}
            assert phone["sanitized_number"].startswith("+")
        org = json.dumps(p["organization"], sort_keys=True)
        assert orgs.setdefault(p["organization_id"], org) == org  # one id, one object
        for event in p["organization"]["funding_events"]:
            assert re.match(r"^\d+(\.\d+)?[KMB]$", event["amount"])
            assert isinstance(event["investors"], str)
    assert 1 < len(orgs) < LEADS


def test_enums_only_take_allowed_values(landing: Landing) -> None:
    for _, p in landing.good:
        assert p["seniority"] in SENIORITIES
        assert p["email_status"] in EMAIL_STATUSES
        assert set(p["departments"]) <= DEPARTMENTS
        if p["email"] is None:
            assert p["email_status"] == "unavailable"
            assert p["linkedin_url"] is not None
        else:
            assert EMAIL.match(p["email"])
            assert p["email"].endswith("@" + p["organization"]["primary_domain"])


def test_job_changes_close_the_old_entry(landing: Landing) -> None:
    """A re-pull that sees a job change is newer by its own stamps, not only by its file."""
    by_id: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for name, p in landing.good:
        by_id[p["id"]].append((name, p))
    changed = 0
    for records in by_id.values():
        if len({name for name, _ in records}) < 2:
            continue  # one pull only (a same-file repeat is checked below)
        (_, old), (_, new) = sorted(records, key=lambda r: pull_time(r[0]))
        if (old["title"], old["organization_id"]) == (new["title"], new["organization_id"]):
            assert old == new
            continue
        changed += 1
        assert_newer_by_its_own_data(old, new)
    assert changed == landing.summary.repulls


def first_pull_files(summary: GenerateSummary) -> list[str]:
    """First-pull file names: not the corrupt file, not the re-pull (the latest pull)."""
    pulls = [Path(f).name for f in summary.files if not f.endswith("-corrupt.jsonl")]
    return [n for n in pulls if pull_time(n) < max(map(pull_time, pulls))]


def check_same_file_repeats(landing: Landing, per_file: int) -> None:
    s = landing.summary
    repeats = same_file_repeats(landing)
    assert len(repeats) == s.same_file_repeats
    older_first = 0
    for records in repeats.values():
        assert len(records) == 2
        (name, line_a, a), (same_name, line_b, b) = records
        assert name == same_name and line_a < line_b
        if per_file >= 3:
            assert line_b - line_a >= 2  # a few lines apart, not the next line
        old, new = (a, b) if max(stamps(a)) < max(stamps(b)) else (b, a)
        assert_newer_by_its_own_data(old, new)
        assert max(stamps(new)) <= pull_time(name)  # changed before the file was pulled
        older_first += old is a
    assert (s.older_first, s.older_second) == (older_first, len(repeats) - older_first)
    assert s.older_first > 0 and s.older_second > 0


def test_same_file_repeats_hold_an_older_and_a_newer_record(landing: Landing) -> None:
    check_same_file_repeats(landing, per_file=120)


def test_same_file_repeats_stay_in_one_file_when_files_rotate(tmp_path: Path) -> None:
    per_file = 5
    summary = generate_landing(
        tmp_path, 400, seed=2, lines_per_file=per_file, shares=Shares(same_file_repeat=0.1)
    )
    landing = read_landing(tmp_path, summary)
    first_pulls = first_pull_files(summary)
    assert len(first_pulls) > 400 // per_file
    assert all(landing.lines_in[n] <= per_file for n in first_pulls)
    assert summary.same_file_repeats == pytest.approx(40, abs=2)
    check_same_file_repeats(landing, per_file)
    assert summary.people_lines == len(landing.good)
    again = generate_landing(
        tmp_path / "again",
        400,
        seed=2,
        lines_per_file=per_file,
        shares=Shares(same_file_repeat=0.1),
    )
    assert again == summary
    assert folder_bytes(tmp_path / "again") == folder_bytes(tmp_path)


@pytest.mark.parametrize("after", [timedelta(seconds=5), timedelta(days=1), timedelta(days=90)])
def test_a_job_change_is_newer_than_its_record_even_right_after_it(after: timedelta) -> None:
    u = Universe(seed=8, leads=400, start=DEFAULT_START)
    for i in range(0, 400, 3):
        old = u.person(i)
        pulled_at = max(stamps(old)) + after
        new = u.job_change(i, old, pulled_at)
        assert_newer_by_its_own_data(old, new)
        assert max(stamps(new)) < pulled_at
        role = current_role(new)
        assert (role["title"], role["organization_id"]) == (new["title"], new["organization_id"])
        assert role["start_date"] <= max(stamps(new)).date().isoformat()


def test_no_same_file_repeats_in_files_of_one_line(tmp_path: Path) -> None:
    summary = generate_landing(
        tmp_path,
        60,
        seed=4,
        lines_per_file=1,
        bad_records=False,
        shares=Shares(same_file_repeat=0.5),
    )
    landing = read_landing(tmp_path, summary)
    assert summary.same_file_repeats == summary.older_first == summary.older_second == 0
    assert not same_file_repeats(landing)
    first_pulls = first_pull_files(summary)
    assert len(first_pulls) == summary.people_lines - summary.repulls - summary.unchanged_repulls
    assert all(landing.lines_in[n] == 1 for n in first_pulls)


@pytest.mark.parametrize(
    ("leads", "seed", "per_file"), [(LEADS, 11, 120), (2000, 9, 50_000), (500, 3, 4)]
)
def test_every_record_is_consistent_with_its_current_role(
    tmp_path: Path, leads: int, seed: int, per_file: int
) -> None:
    summary = generate_landing(tmp_path, leads, seed=seed, lines_per_file=per_file)
    for _, p in read_landing(tmp_path, summary).good:
        role = current_role(p)
        assert role["title"] == p["title"]
        assert role["organization_id"] == p["organization_id"] == p["organization"]["id"]
        assert role["organization_name"] == p["organization"]["name"]
        assert role["start_date"] <= max(stamps(p)).date().isoformat(), p["id"]


def test_file_names_are_pull_times_and_the_repull_is_later(landing: Landing) -> None:
    names = [Path(f).name for f in landing.summary.files]
    pulls = sorted((pull_time(n), n) for n in names if not n.endswith("-corrupt.jsonl"))
    assert pulls[0][0] == DEFAULT_START
    assert len(pulls) >= 3  # 300 people in files of 120 lines, and the re-pull
    repull_time, repull = pulls[-1]
    assert repull_time - pulls[0][0] >= timedelta(days=29)
    repull_ids = {p["id"] for name, p in landing.good if name == repull}
    first_ids = {p["id"] for name, p in landing.good if name != repull}
    assert repull_ids <= first_ids


def test_no_bad_records_and_custom_start(tmp_path: Path) -> None:
    start = datetime(2024, 6, 3, 14, 30, 5, tzinfo=UTC)
    summary = generate_landing(tmp_path, 120, seed=3, start=start, bad_records=False)
    landing = read_landing(tmp_path, summary)
    assert not landing.bad and summary.bad_lines_total == 0
    assert summary.files[0].endswith("2024-06-03T143005Z-pull-001.jsonl")
    assert not any("corrupt" in f for f in summary.files)
    assert summary.people_lines == len(landing.good)


def test_tiny_data_sets_work(tmp_path: Path) -> None:
    summary = generate_landing(tmp_path, 1, seed=1)
    assert summary.distinct_people == 1 and summary.organizations == 1
    assert summary.people_lines >= 1
    with pytest.raises(ValueError):
        generate_landing(tmp_path, 0, seed=1)
    with pytest.raises(ValueError):
        Shares(job_change=0.9, missing_email=0.2)


def test_distributions_are_plausible_and_icps_findable(tmp_path: Path) -> None:
    summary = generate_landing(tmp_path, 2000, seed=9, bad_records=False)
    people = [p for _, p in read_landing(tmp_path, summary).good]
    statuses = Counter(p["email_status"] for p in people)
    assert 0.55 <= statuses["verified"] / len(people) <= 0.75
    assert set(statuses) == EMAIL_STATUSES
    assert {p["seniority"] for p in people} == SENIORITIES
    assert summary.organizations == pytest.approx(2000 / 8, rel=0.35)
    sizes = Counter(p["organization"]["estimated_num_employees"] for p in people)
    assert min(sizes) < 50 and max(sizes) > 5000

    def count(department: str, seniorities: set[str], industries: set[str] | None = None) -> int:
        return sum(
            department in p["departments"]
            and p["seniority"] in seniorities
            and (industries is None or p["organization"]["industry"] in industries)
            for p in people
        )

    leaders = {"vp", "head", "director", "c_suite"}
    logistics = {"logistics & supply chain", "transportation/trucking/railroad", "warehousing"}
    software = {"computer software", "information technology & services", "internet"}
    assert count("master_operations", leaders, logistics) >= 10
    assert count("master_finance", leaders | {"manager"}) >= 50
    assert count("master_sales", leaders | {"founder"}, software) >= 20
    assert count("master_human_resources", {"manager", "director"}) >= 20
    ops_titles = [p["title"].lower() for p in people if "master_operations" in p["departments"]]
    assert sum(any(w in t for w in ("operations", "logistics", "supply")) for t in ops_titles) > (
        len(ops_titles) / 2
    )


def test_org_domains_are_unique_across_name_cycles() -> None:
    u = Universe(seed=4, leads=10, start=DEFAULT_START)
    cap = len(ORG_WORDS_A) * len(ORG_WORDS_B)
    indices = [*range(cap), *range(cap, 20 * cap, 11)]
    domains = [u.profile(j).domain.rsplit(".", 1)[0].split(".")[0] for j in indices]
    assert len(set(domains)) == len(domains)


def test_name_pools_fold_to_distinct_email_parts() -> None:
    for pool in NAME_POOLS.values():
        assert len({ascii_fold(n) for n in pool.first}) == len(pool.first)
        assert len({ascii_fold(n) for n in pool.last}) == len(pool.last)
