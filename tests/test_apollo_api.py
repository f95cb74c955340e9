"""The Apollo API source, end to end: the real client against a local fake Apollo, loading into a
real (embedded) PostgreSQL through ``ingestion.pipeline.run_source``."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from cis.clients import Client, Icp
from cis.db import Target
from cis.privacy import identity_hashes
from ingestion.apollo import LoadCounts, apollo_source, helpers, settings
from ingestion.apollo.queries import icp_query, sliced_search
from ingestion.pipeline import run_source
from tests.apollo_server import (
    BULK_MATCH_PATH,
    ORG_SIZES,
    ORGANIZATION_BULK_ENRICH_PATH,
    SEARCH_PATH,
    FakeApollo,
    make_people,
    person_id,
)
from tests.pg import columns, dict_rows, query, table_counts
from tests.vendor_server import cause_of

DATASET = "raw_apollo"
ACME = Client(
    slug="acme",
    name="Acme",
    icp=Icp(titles=("VP of Operations",), countries=("US", "GB", "DE")),
)
LOCATIONS = ["United States", "United Kingdom", "Germany"]


# ---- fixtures (the database: `target` in conftest.py) ------------------------------------------


@pytest.fixture
def apollo() -> Iterator[FakeApollo]:
    with FakeApollo() as server:
        yield server


class Sleeps:
    """Injected ``sleep``: records each wait and how many requests the server had seen then."""

    def __init__(self, apollo: FakeApollo | None = None) -> None:
        self.apollo = apollo
        self.calls: list[tuple[float, int | None]] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append((seconds, len(self.apollo.requests) if self.apollo else None))

    @property
    def seconds(self) -> list[float]:
        return [s for s, _ in self.calls]


class Run:
    """One run of the Apollo source and everything it reported."""

    def __init__(self) -> None:
        self.stats = helpers.ApolloStats()
        self.counts = LoadCounts()
        self.sleeps = Sleeps()


def run_apollo(
    apollo: FakeApollo,
    target: Target,
    pipelines_dir: Path,
    clients: Sequence[Client] = (ACME,),
    known: Sequence[str] = (),
    api_key: str = "test-key",
    suppressed: Sequence[str] = (),
) -> Run:
    run = Run()
    run.sleeps.apollo = apollo
    source = apollo_source(
        clients=list(clients),
        known_person_ids=list(known),
        suppressed=list(suppressed),
        api_key=api_key,
        base_url=apollo.url,
        sleep=run.sleeps,
        stats=run.stats,
        counts=run.counts,
    )
    run_source(source, "apollo", DATASET, target, pipelines_dir=pipelines_dir)
    return run


def loaded(target: Target) -> dict[str, int]:
    return table_counts(target, DATASET)


def ids_in(target: Target, table: str = "people") -> list[str]:
    return [row[0] for row in query(target, f"select id from {DATASET}.{table} order by id")]


def assert_nothing_written(target: Target) -> None:
    counts = loaded(target)
    assert all(n == 0 for n in counts.values()), f"rows were written: {counts}"


# ---- the normal run ------------------------------------------------------------------------------


def test_organizations_the_enrichment_lacks_are_enriched_by_domain(
    apollo: FakeApollo, target: Target, tmp_path: Path
) -> None:
    apollo.thin_organizations = True
    apollo.no_organization = {person_id(30)}  # found through the work-email domain instead
    run = run_apollo(apollo, target, tmp_path, clients=[ACME])

    expected = {
        apollo.person(pid)["organization"]["primary_domain"] for pid in apollo.enriched_ids()
    }
    asked = apollo.organization_domains_asked()
    assert sorted(asked) == sorted(expected)  # each domain once per run, not once per person
    assert max(len(r.body["domains"]) for r in apollo.calls(ORGANIZATION_BULK_ENRICH_PATH)) <= 10
    assert apollo.violations == []
    assert run.stats.organizations_enriched == len(expected)
    assert query(
        target,
        f"select count(*) from {DATASET}.organizations where estimated_num_employees is null "
        "or industry is null",
    ) == [(0,)]
    assert query(
        target, f"select organization_id from {DATASET}.people where id = %s", (person_id(30),)
    ) == [(apollo.person(person_id(30))["organization"]["id"],)]


def test_complete_organizations_cost_no_extra_calls(
    apollo: FakeApollo, target: Target, tmp_path: Path
) -> None:
    run_apollo(apollo, target, tmp_path, clients=[ACME])
    assert apollo.calls(ORGANIZATION_BULK_ENRICH_PATH) == []


def test_people_suppressed_by_apollo_id_are_neither_stored_nor_enriched(
    apollo: FakeApollo, target: Target, tmp_path: Path
) -> None:
    gone = person_id(40)
    run = run_apollo(
        apollo, target, tmp_path, clients=[ACME], suppressed=sorted(identity_hashes(apollo_id=gone))
    )
    assert gone not in apollo.enriched_ids()
    assert run.counts.suppressed == 1
    assert query(
        target, f"select count(*) from {DATASET}.search_results where id = %s", (gone,)
    ) == [(0,)]
    assert loaded(target)["search_results"] == 249


def test_search_pages_enrichment_batches_and_raw_tables(
    apollo: FakeApollo, target: Target, tmp_path: Path
) -> None:
    known = [person_id(i) for i in range(25)]
    suppressed_person = apollo.person(person_id(30))
    paused = Client(
        slug="dormant", name="Dormant", status="paused", icp=Icp(seniorities=("intern",))
    )

    run = run_apollo(
        apollo,
        target,
        tmp_path,
        clients=[ACME, paused],
        known=known,
        suppressed=sorted(identity_hashes(email=suppressed_person["email"])),
    )

    # Live pages have no `pagination`: 250 entries are ceil(250 / 100) = 3 pages of 100.
    assert [r.body["page"] for r in apollo.searches] == [1, 2, 3]
    assert {r.body["per_page"] for r in apollo.searches} == {100}
    assert all(r.body["person_locations"] == LOCATIONS for r in apollo.searches)
    assert not any("person_seniorities" in r.body for r in apollo.searches), (
        "paused client searched"
    )
    assert {r.headers.get("x-api-key") for r in apollo.requests} == {"test-key"}
    assert apollo.violations == []

    # Enrichment: at most 10 ids per call, each unknown person exactly once, no known person.
    assert apollo.bulk_matches, "nobody was enriched"
    assert max(len(r.body["details"]) for r in apollo.bulk_matches) <= 10
    enriched = apollo.enriched_ids()
    assert sorted(enriched) == [person_id(i) for i in range(25, 250)]
    assert run.stats.enrichments_avoided == 25
    assert run.stats.enriched == 225
    assert run.stats.search_pages == 3
    assert run.counts.people == 224  # 225 enriched, one suppressed
    assert run.counts.suppressed == 1

    counts = loaded(target)
    assert counts["search_results"] == 250
    assert counts["people"] == 224
    assert suppressed_person["id"] not in ids_in(target)
    assert ids_in(target) == sorted(set(enriched) - {suppressed_person["id"]})

    # Search rows keep the live shape (has_direct_phone is a string, not a boolean).
    phones = {r[0] for r in query(target, f"select has_direct_phone from {DATASET}.search_results")}
    assert "Maybe: please request direct dial via people/bulk_match" in phones
    assert {r[0] for r in query(target, f"select client_slug from {DATASET}.search_results")} == {
        "acme"
    }

    # Employment history: one row per entry of each loaded person, in order.
    loaded_people = [apollo.person(pid) for pid in ids_in(target)]
    history = dict_rows(
        target,
        f"select person_id, entry_index, entry_key, organization_id, title, start_date, current"
        f" from {DATASET}.employment_history order by person_id, entry_index",
    )
    expected_history = [
        {
            "person_id": p["id"],
            "entry_index": n,
            "entry_key": e["id"],
            "organization_id": e["organization_id"],
            "title": e["title"],
            "start_date": e["start_date"],
            "current": e["current"],
        }
        for p in loaded_people
        for n, e in enumerate(p["employment_history"])
    ]
    assert history == expected_history

    # Organizations: the object each person record carried, nested lists kept as JSON.
    orgs = {o["id"]: o for o in (p["organization"] for p in loaded_people)}
    rows = dict_rows(
        target,
        f"select id, person_id, name, estimated_num_employees, funding_events,"
        f" current_technologies, primary_phone from {DATASET}.organizations",
    )
    assert len(rows) == len(loaded_people)
    assert len({row["id"] for row in rows}) == len(orgs) == 22
    assert sorted(row["person_id"] for row in rows) == sorted(p["id"] for p in loaded_people)
    for row in rows:
        org = orgs[row["id"]]
        assert row["name"] == org["name"]
        assert row["estimated_num_employees"] == org["estimated_num_employees"]
        assert row["funding_events"] == org["funding_events"]
        assert row["current_technologies"] == org["current_technologies"]
        assert row["primary_phone"] == org["primary_phone"]
    assert columns(target, DATASET, "organizations")["funding_events"] == "jsonb"

    # The suppressed person: a rejection without personal data.
    rejected = dict_rows(target, f"select reason, payload from {DATASET}.rejected_records")
    assert len(rejected) == 1
    assert "suppressed" in rejected[0]["reason"]
    assert rejected[0]["payload"] is None
    history_ids = {r["person_id"] for r in history}
    assert suppressed_person["id"] not in history_ids


def test_rerun_with_loaded_ids_enriches_nothing_and_duplicates_nothing(
    target: Target, tmp_path: Path
) -> None:
    with FakeApollo(make_people(60)) as apollo:
        first = run_apollo(apollo, target, tmp_path)
        assert first.stats.enriched == 60
        before = loaded(target)
        assert before["people"] == 60
        pool = ids_in(target)

        calls_before = len(apollo.bulk_matches)
        second = run_apollo(apollo, target, tmp_path, known=pool)

        assert len(apollo.bulk_matches) == calls_before, "known people were enriched again"
        assert second.stats.enrichments_requested == 0
        assert second.stats.enrichments_avoided == 60
        assert loaded(target) == before
        assert query(target, f"select count(distinct _pull_id) from {DATASET}.people") == [(1,)]


def test_two_clients_finding_the_same_people_enrich_them_once(
    target: Target, tmp_path: Path
) -> None:
    beta = Client(slug="beta", name="Beta", icp=Icp(countries=("US",)))
    with FakeApollo(make_people(30)) as apollo:
        run = run_apollo(apollo, target, tmp_path, clients=[ACME, beta])
        enriched = apollo.enriched_ids()

    assert len(enriched) == len(set(enriched)) == 30
    assert run.stats.enrichments_avoided == 10  # beta's 10 US people were already enriched
    counts = loaded(target)
    assert counts["people"] == 30
    assert counts["search_results"] == 40  # one row per person per client
    by_client = dict(
        query(target, f"select client_slug, count(*) from {DATASET}.search_results group by 1")
    )
    assert by_client == {"acme": 30, "beta": 10}


# ---- pagination ----------------------------------------------------------------------------------


def test_deprecated_shape_follows_pagination_total_pages(target: Target, tmp_path: Path) -> None:
    with FakeApollo(deprecated_shape=True) as apollo:
        run = run_apollo(apollo, target, tmp_path)
        pages = [r.body["page"] for r in apollo.searches]

    # No top-level total_entries: only pagination.total_pages (3) can say there is more.
    assert pages == [1, 2, 3]
    assert run.stats.people_found == 250
    counts = loaded(target)
    assert counts["search_results"] == 250
    assert counts["people"] == 250


def test_search_stops_at_the_500_page_cap(apollo: FakeApollo) -> None:
    apollo.huge_when = lambda body: True  # 60,000 entries: 600 pages of 100
    apollo.rows_per_page = 1
    client = helpers.ApolloClient("test-key", apollo.url, sleep=Sleeps())

    pages = list(helpers.search_pages(client, {"person_titles": ["cfo"]}))

    assert len(pages) == settings.MAX_PAGES == 500
    assert [r.body["page"] for r in apollo.searches] == list(range(1, 501))
    assert client.stats.search_pages == 500
    assert apollo.violations == []  # page 501 was never asked for


def test_search_stops_on_an_empty_page(apollo: FakeApollo) -> None:
    apollo.huge_when = lambda body: True  # claims 60,000 but has only 250 people
    client = helpers.ApolloClient("test-key", apollo.url, sleep=Sleeps())

    pages = list(helpers.search_pages(client, {}))

    assert [r.body["page"] for r in apollo.searches] == [1, 2, 3, 4]
    assert sum(len(p["people"]) for p in pages) == 250


def _single_range_holds(band: str, size: int) -> bool:
    low, high = (int(x) for x in band.split(","))
    return low <= size <= high


def test_huge_search_is_sliced_by_employee_range_then_location(
    apollo: FakeApollo, target: Target, tmp_path: Path
) -> None:
    crowded = ORG_SIZES[3]  # the employee band holding size 75 is still too big once sliced

    def huge(body: dict) -> bool:
        ranges = body.get("organization_num_employees_ranges") or []
        if len(ranges) != 1:
            return True
        return _single_range_holds(ranges[0], crowded) and len(body["person_locations"]) != 1

    apollo.huge_when = huge
    run = run_apollo(apollo, target, tmp_path)

    searches = [r.body for r in apollo.searches]
    unsliced = [b for b in searches if not b.get("organization_num_employees_ranges")]
    assert len(unsliced) == 1 and unsliced[0]["page"] == 1  # no page 2 of a capped search
    sliced = [b for b in searches if b.get("organization_num_employees_ranges")]
    assert sliced and all(len(b["organization_num_employees_ranges"]) == 1 for b in sliced)

    bands = sorted(
        {b["organization_num_employees_ranges"][0] for b in sliced},
        key=lambda band: int(band.split(",")[0]),
    )
    # The bands cover every size without overlapping, so nobody is found twice or missed.
    for size in ORG_SIZES:
        assert sum(_single_range_holds(band, size) for band in bands) == 1, size
    crowded_band = next(band for band in bands if _single_range_holds(band, crowded))
    by_location = [
        b["person_locations"]
        for b in sliced
        if b["organization_num_employees_ranges"] == [crowded_band]
        and len(b["person_locations"]) == 1
    ]
    assert sorted(loc[0] for loc in by_location) == sorted(LOCATIONS)
    for b in sliced:  # bands that fit are not split further
        if b["organization_num_employees_ranges"] != [crowded_band]:
            assert b["person_locations"] == LOCATIONS
    assert run.stats.search_slices == len(bands) + len(LOCATIONS)

    counts = loaded(target)
    assert counts["search_results"] == 250
    assert counts["people"] == 250
    assert max(len(r.body["details"]) for r in apollo.bulk_matches) <= 10
    assert apollo.violations == []


def test_sliced_search_marks_a_slice_still_over_the_cap(apollo: FakeApollo) -> None:
    apollo.huge_when = lambda body: True
    apollo.people = make_people(3)
    client = helpers.ApolloClient("test-key", apollo.url, sleep=Sleeps())
    query = icp_query(Icp(countries=("US",), seniorities=("vp",), employee_min=11, employee_max=20))

    results = list(sliced_search(client, query))

    assert results, "no page came back"
    assert all(s.capped for s, _ in results)  # nothing left to split on: reported, not hidden


# ---- retries, rate limits and failures -----------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "expected_requests"),
    [
        ({"kind": "429", "retry_after": 2}, 2),
        ({"kind": "429", "times": 2}, 3),
        ({"kind": "500"}, 2),
        ({"kind": "malformed"}, 2),
    ],
    ids=["429-retry-after", "429-backoff", "500-then-ok", "malformed-once"],
)
def test_client_retries_transient_failures(
    apollo: FakeApollo, fault: dict[str, Any], expected_requests: int
) -> None:
    apollo.fail(path=SEARCH_PATH, **fault)
    sleeps = Sleeps(apollo)
    client = helpers.ApolloClient("test-key", apollo.url, sleep=sleeps)

    page = client.post(SEARCH_PATH, {"page": 1, "per_page": 100})

    assert len(page["people"]) == 100
    assert len(apollo.requests) == expected_requests
    assert len(sleeps.calls) == expected_requests - 1
    assert client.stats.retries == expected_requests - 1  # the CLI reports this number
    # every wait happened between two attempts, never after the last one
    assert [seen for _, seen in sleeps.calls] == list(range(1, expected_requests))
    if fault.get("retry_after") is not None:
        assert sleeps.seconds == [fault["retry_after"]]
    else:
        assert all(s > 0 for s in sleeps.seconds)
        assert sleeps.seconds == sorted(sleeps.seconds)  # backing off, not hammering
    if len(sleeps.seconds) > 1:
        assert sleeps.seconds[1] > sleeps.seconds[0]


def test_retry_after_as_an_http_date_is_honoured(apollo: FakeApollo) -> None:
    from email.utils import formatdate

    now = 1_800_000_000.0
    apollo.fail("429", SEARCH_PATH, retry_after=formatdate(now + 30, usegmt=True))
    sleeps = Sleeps(apollo)
    client = helpers.ApolloClient("test-key", apollo.url, sleep=sleeps, clock=lambda: now)

    client.post(SEARCH_PATH, {"page": 1, "per_page": 100})

    assert sleeps.seconds == [30.0]


def test_transient_failures_during_a_run_lose_nothing(
    apollo: FakeApollo, target: Target, tmp_path: Path
) -> None:
    apollo.fail("429", SEARCH_PATH, retry_after=2)
    apollo.fail("500", SEARCH_PATH, skip=1)
    apollo.fail("429", BULK_MATCH_PATH, skip=3)
    apollo.fail("malformed", BULK_MATCH_PATH, skip=5)

    run = run_apollo(apollo, target, tmp_path)

    assert 2 in run.sleeps.seconds
    assert len(run.sleeps.seconds) == 4
    assert run.stats.retries == 4
    assert run.stats.throttled_sleeps == sum(run.sleeps.seconds)
    counts = loaded(target)
    assert counts["search_results"] == 250
    assert counts["people"] == 250
    assert len(apollo.enriched_ids()) == len(set(apollo.enriched_ids())) == 250


def test_rate_limit_pacing_sleeps_before_the_next_call(apollo: FakeApollo) -> None:
    apollo.minute_left = lambda number: 1 if number == 1 else 190
    sleeps = Sleeps(apollo)
    client = helpers.ApolloClient("test-key", apollo.url, sleep=sleeps)

    client.post(SEARCH_PATH, {"page": 1, "per_page": 100})
    client.post(SEARCH_PATH, {"page": 2, "per_page": 100})
    client.post(SEARCH_PATH, {"page": 3, "per_page": 100})

    assert len(sleeps.calls) == 1, sleeps.calls  # only after the response that said 1 left
    seconds, seen = sleeps.calls[0]
    assert seen == 1  # after the first request, before the second
    assert 0 < seconds <= 60
    assert client.stats.rate_limits_left["minute"] == 190


def test_low_daily_window_does_not_sleep(apollo: FakeApollo) -> None:
    apollo.daily_left = 1
    sleeps = Sleeps(apollo)
    client = helpers.ApolloClient("test-key", apollo.url, sleep=sleeps)

    client.post(SEARCH_PATH, {"page": 1, "per_page": 100})

    assert sleeps.calls == []  # a day cannot be waited out inside one run
    assert client.stats.rate_limits_left["daily"] == 1


def test_malformed_body_every_time_fails_clearly_and_writes_nothing(
    apollo: FakeApollo, target: Target, tmp_path: Path
) -> None:
    apollo.fail("malformed", BULK_MATCH_PATH, times=None)

    with pytest.raises(PipelineStepFailed) as failure:
        run_apollo(apollo, target, tmp_path)

    error = cause_of(failure.value, helpers.ApolloResponseError)
    assert "not JSON" in str(error)
    assert BULK_MATCH_PATH in str(error)
    assert len(apollo.bulk_matches) == settings.MAX_RETRIES + 1  # bounded retries
    assert apollo.searches and all(r.status == 200 for r in apollo.searches)  # searches worked...
    assert_nothing_written(target)  # ...and still nothing of the run was loaded


@pytest.mark.parametrize(
    ("api_key", "expected_requests"), [("wrong-key", 1), ("", 0)], ids=["wrong", "missing"]
)
def test_bad_api_key_fails_clearly_and_writes_nothing(
    apollo: FakeApollo, target: Target, tmp_path: Path, api_key: str, expected_requests: int
) -> None:
    with pytest.raises(PipelineStepFailed) as failure:
        run_apollo(apollo, target, tmp_path, api_key=api_key)

    error = cause_of(failure.value, helpers.ApolloAuthError)
    assert "API key" in str(error)
    assert len(apollo.requests) == expected_requests  # a refused key is not retried
    assert_nothing_written(target)


def test_daily_quota_exhausted_mid_run_loads_nothing_and_next_run_is_clean(
    apollo: FakeApollo, target: Target, tmp_path: Path
) -> None:
    apollo.daily_limit = 6  # six calls succeed (searches and enrichments), then the day is over

    with pytest.raises(PipelineStepFailed) as failure:
        run_apollo(apollo, target, tmp_path)

    error = cause_of(failure.value, helpers.ApolloQuotaExhausted)
    assert "daily" in str(error)
    assert len(apollo.requests) == 7  # the refused call is not retried
    assert apollo.requests[-1].status == 429
    assert_nothing_written(target)
    assert query(target, f"select to_regclass('{DATASET}.people')") in ([(None,)], [(0,)])

    # The next day: the half-extracted run must not surface in the next load.
    apollo.daily_limit = None
    run_apollo(apollo, target, tmp_path)
    assert loaded(target)["people"] == 250
    assert query(target, f"select count(distinct _pull_id) from {DATASET}.people") == [(1,)]
    assert query(target, f"select count(*) - count(distinct id) from {DATASET}.people") == [(0,)]


# ---- schema evolution ----------------------------------------------------------------------------


def test_unknown_new_fields_land_as_new_columns(target: Target, tmp_path: Path) -> None:
    people = make_people(30)
    newcomer = people[3]
    newcomer["ai_persona_score"] = 0.87
    newcomer["buying_signal"] = "hiring"
    org_id = newcomer["organization"]["id"]
    for person in people:  # Apollo sends the same organization object with every person
        if person["organization"]["id"] == org_id:
            person["organization"]["esg_rating"] = "A-"
            person["organization"]["hq_coordinates"] = {"lat": 41.88, "lng": -87.65}

    with FakeApollo(people) as apollo:
        run_apollo(apollo, target, tmp_path)

    # Every field no typed column names is a jsonb column holding the value as sent (its JSON
    # type kept: a number stays a number), so one field never needs two column types.
    person_columns = columns(target, DATASET, "people")
    assert person_columns["ai_persona_score"] == "jsonb"
    assert person_columns["buying_signal"] == "jsonb"
    org_columns = columns(target, DATASET, "organizations")
    assert org_columns["esg_rating"] == "jsonb"
    assert org_columns["hq_coordinates"] == "jsonb"

    values = dict(
        (row[0], row[1:])
        for row in query(
            target, f"select id, ai_persona_score, buying_signal from {DATASET}.people"
        )
    )
    assert values[newcomer["id"]] == (0.87, "hiring")
    assert sum(1 for v in values.values() if v != (None, None)) == 1
    orgs = dict_rows(target, f"select id, esg_rating, hq_coordinates from {DATASET}.organizations")
    carrying = [o for o in orgs if o["esg_rating"]]  # one row per person record of that org
    assert len(carrying) == sum(1 for p in people if p["organization"]["id"] == org_id)
    assert {(o["id"], o["esg_rating"], json.dumps(o["hq_coordinates"])) for o in carrying} == {
        (org_id, "A-", json.dumps({"lat": 41.88, "lng": -87.65}))
    }


def test_page_count_rule() -> None:
    """ceil(total_entries / 100) without pagination, total_pages with it, 500 at most."""
    assert helpers.page_count({"total_entries": 250}) == math.ceil(250 / 100) == 3
    assert helpers.page_count({"total_entries": 0}) == 0
    assert helpers.page_count({"total_entries": 60_000}) == 500
    assert helpers.page_count({"pagination": {"total_pages": 7, "total_entries": 700}}) == 7
    assert helpers.page_count({"pagination": {"total_pages": 900}}) == 500
