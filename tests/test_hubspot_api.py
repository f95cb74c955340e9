"""The HubSpot API source, end to end: the real client against a local fake HubSpot, loading
into a real (embedded) PostgreSQL through ``cis ingest hubspot``'s job."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cis.bootstrap import bootstrap
from cis.db import Target
from cis.jobs.ingest_api import ApiReport, ingest_hubspot_api
from ingestion.http import ApiAuthError, ApiError
from tests.hubspot_server import TOKEN, FakeHubSpot, deals
from tests.pg import query
from tests.vendor_server import causes

DEALS = "/crm/v3/objects/deals"


@pytest.fixture
def admin(target: Target) -> Target:
    bootstrap(target)
    return target


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    with FakeHubSpot() as server:
        yield server


def pull(
    admin: Target, hubspot: FakeHubSpot, tmp_path: Path, slept: list[float] | None = None, **kw
) -> ApiReport:
    waits = slept if slept is not None else []
    return ingest_hubspot_api(
        admin,
        access_token=TOKEN,
        base_url=hubspot.url,
        pipelines_dir=tmp_path / "dlt",
        sleep=waits.append,
        **kw,
    )


def test_every_object_type_lands_over_pages_with_its_stage_history_kept(
    admin: Target, hubspot: FakeHubSpot, tmp_path: Path
) -> None:
    hubspot.records["deals"] = deals(120)  # three pages of 50 (propertiesWithHistory's cap)
    hubspot.records["deals"][7]["properties"]["a_custom_property"] = "kept"

    report = pull(admin, hubspot, tmp_path)

    live = [r for r in hubspot.calls(DEALS) if r.query.get("archived") == "false"]
    assert [r.query.get("after") for r in live] == [None, "50", "100"]
    assert all(r.query["propertiesWithHistory"] == "dealstage" for r in live)
    assert hubspot.violations == []
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in hubspot.requests)
    counts = dict(
        query(
            admin,
            "select 'deals', count(*) from raw_hubspot.deals union all "
            "select 'meetings', count(*) from raw_hubspot.meetings union all "
            "select 'contacts', count(*) from raw_hubspot.contacts union all "
            "select 'pipelines', count(*) from raw_hubspot.pipelines",
        )
    )
    assert counts == {"deals": 120, "meetings": 6, "contacts": 3, "pipelines": 2}
    assert report.stored == 131
    stored = query(
        admin,
        "select payload -> 'properties' ->> 'a_custom_property', "
        "jsonb_array_length(payload -> 'propertiesWithHistory' -> 'dealstage'), "
        "payload -> 'associations' -> 'contacts' -> 'results' -> 0 ->> 'id' "
        "from raw_hubspot.deals where campaign_id = %s",
        (hubspot.records["deals"][7]["id"],),
    )
    assert stored == [("kept", 5, "92847561203")]
    meeting = query(
        admin,
        "select payload -> 'associations' -> 'deals' -> 'results' -> 0 ->> 'id' "
        "from raw_hubspot.meetings where campaign_id = '58201937465'",
    )
    assert meeting == [("31558902741",)]


def test_a_second_pull_writes_only_what_was_modified_since_the_first(
    admin: Target, hubspot: FakeHubSpot, tmp_path: Path
) -> None:
    pull(admin, hubspot, tmp_path)

    again = pull(admin, hubspot, tmp_path)
    assert again.stored == 0
    assert again.unchanged >= 2 + 6 + 3  # deals, meetings, contacts read but not written

    moved = hubspot.records["deals"][1]
    moved["properties"]["dealstage"] = "1052845735"
    moved["properties"]["hs_lastmodifieddate"] = "2025-10-20T09:00:00.000Z"
    moved["propertiesWithHistory"]["dealstage"].insert(
        0, {"value": "1052845735", "timestamp": "2025-10-20T09:00:00.000Z", "sourceType": "CRM_UI"}
    )
    edited = pull(admin, hubspot, tmp_path)

    assert edited.stored == 1
    assert query(admin, "select count(*), count(distinct event_key) from raw_hubspot.deals") == [
        (3, 2)
    ]
    # A full refresh writes every record again, and still stores each version once.
    assert pull(admin, hubspot, tmp_path, full_refresh=True).stored == 0


def test_an_archived_record_is_kept_and_marked(
    admin: Target, hubspot: FakeHubSpot, tmp_path: Path
) -> None:
    gone = copy.deepcopy(hubspot.records["deals"][1])
    hubspot.records["deals"] = hubspot.records["deals"][:1]
    gone["archived"] = True
    gone["archivedAt"] = "2025-10-21T10:00:00.000Z"
    hubspot.archived["deals"] = [gone]

    pull(admin, hubspot, tmp_path)

    assert query(
        admin,
        "select campaign_id, (payload ->> 'archived')::boolean from raw_hubspot.deals "
        "order by campaign_id",
    ) == [("31558902741", False), ("31558903388", True)]


def test_hubspots_rate_limits_are_waited_out_and_the_daily_one_stops_the_pull(
    admin: Target, hubspot: FakeHubSpot, tmp_path: Path
) -> None:
    ten_secondly = {
        "status": "error",
        "message": "You have reached your ten_secondly_rolling limit.",
        "errorType": "RATE_LIMIT",
        "policyName": "TEN_SECONDLY_ROLLING",
    }
    hubspot.fail(
        "429",
        DEALS,
        headers={"X-HubSpot-RateLimit-Interval-Milliseconds": "10000"},
        body=ten_secondly,
    )
    hubspot.remaining = 1  # the window is nearly used up: the client slows down
    slept: list[float] = []

    report = pull(admin, hubspot, tmp_path, slept)

    assert report.stats.retries == 1
    # The 429 without Retry-After waited one window, once (no back-off beside it); every
    # other wait is the pace before the nearly used-up window: 10 s / (1 + 1).
    assert slept.count(10.0) == 1 and set(slept) == {10.0, 5.0}
    assert report.stats.rate_limits_left["interval"] == 1
    assert len([s for s in slept if s == 5.0]) >= len(hubspot.requests) - 1  # 10 s / (1 + 1)
    assert query(admin, "select count(*) from raw_hubspot.deals") == [(2,)]

    hubspot.fail("429", DEALS, body={**ten_secondly, "policyName": "DAILY"})
    with pytest.raises(Exception) as failure:
        pull(admin, hubspot, tmp_path, full_refresh=True)
    named = [e for e in causes(failure.value) if isinstance(e, ApiError)]
    assert named and "daily request limit" in str(named[0])


def test_a_missing_or_wrong_token_is_named_and_loads_nothing(
    admin: Target, hubspot: FakeHubSpot, tmp_path: Path
) -> None:
    with pytest.raises(Exception) as missing:
        ingest_hubspot_api(
            admin, access_token="", base_url=hubspot.url, pipelines_dir=tmp_path / "dlt"
        )
    assert any("SOURCES__HUBSPOT__ACCESS_TOKEN" in str(e) for e in causes(missing.value))

    hubspot.token = "rotated"
    with pytest.raises(Exception) as wrong:
        pull(admin, hubspot, tmp_path)
    auth = [e for e in causes(wrong.value) if isinstance(e, ApiAuthError)]
    assert auth and "sources.hubspot.access_token" in str(auth[0])
    assert query(admin, "select to_regclass('raw_hubspot.deals')") == [(None,)]


def test_a_record_without_an_id_or_with_a_bad_time_is_quarantined_and_the_rest_loads(
    admin: Target, hubspot: FakeHubSpot, tmp_path: Path
) -> None:
    no_id = copy.deepcopy(hubspot.records["meetings"][0])
    del no_id["id"]
    bad_time = copy.deepcopy(hubspot.records["contacts"][0])
    bad_time["id"] = "1"
    bad_time["properties"]["lastmodifieddate"] = "last Tuesday"
    hubspot.records["meetings"].append(no_id)
    hubspot.records["contacts"].append(bad_time)

    report = pull(admin, hubspot, tmp_path)

    assert report.counts.rejected == 2
    reasons = sorted(r[0] for r in query(admin, "select reason from raw_hubspot.rejected_records"))
    assert reasons[0].startswith("no id: not a HubSpot meeting record")
    assert "properties.lastmodifieddate is not a timestamp" in reasons[1]
    assert query(admin, "select count(*) from raw_hubspot.meetings") == [(6,)]
    assert query(admin, "select count(*) from raw_hubspot.contacts") == [(3,)]


def test_two_pulls_at_once_both_complete_and_store_each_version_once(
    admin: Target, hubspot: FakeHubSpot, tmp_path: Path
) -> None:
    hubspot.records["deals"] = deals(120)
    reports: list[ApiReport] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            reports.append(pull(admin, hubspot, tmp_path))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == [] and len(reports) == 2
    # One pull wrote the records; the other, taking its turn at the lock, found them known.
    assert query(admin, "select count(*), count(distinct delivery_id) from raw_hubspot.deals") == [
        (120, 120)
    ]
    assert sorted(r.stored for r in reports)[0] == 0


def test_a_pull_that_dies_half_way_loses_nothing_and_the_next_one_takes_all(
    admin: Target, hubspot: FakeHubSpot, tmp_path: Path
) -> None:
    hubspot.records["deals"] = deals(120)
    hubspot.fail("500", DEALS, times=None, skip=1)  # the second page of deals never answers

    with pytest.raises(Exception) as failure:
        pull(admin, hubspot, tmp_path)
    assert any(isinstance(e, ApiError) for e in causes(failure.value))
    assert query(admin, "select to_regclass('raw_hubspot.deals') is null") == [(True,)] or query(
        admin, "select count(*) from raw_hubspot.deals"
    ) == [(0,)]

    hubspot.faults.clear()
    report = pull(admin, hubspot, tmp_path)

    # The failed run moved no incremental state: every record arrives, once.
    assert query(admin, "select count(*), count(distinct delivery_id) from raw_hubspot.deals") == [
        (120, 120)
    ]
    assert report.stored == 120 + 6 + 3 + 2
