"""The Salesforge API source, end to end: the real client against a local fake Salesforge,
loading into a real (embedded) PostgreSQL through ``cis ingest salesforge``'s job."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cis.bootstrap import bootstrap
from cis.db import Target
from cis.jobs.ingest_api import ApiReport, ingest_salesforge_api
from ingestion.http import ApiAuthError
from tests.pg import dict_rows, query
from tests.salesforge_server import WORKSPACE, FakeSalesforge, legacy_sequences
from tests.vendor_server import cause_of

KEY = "sf-test-key"


@pytest.fixture
def admin(target: Target) -> Target:
    bootstrap(target)
    return target


@pytest.fixture
def salesforge() -> Iterator[FakeSalesforge]:
    with FakeSalesforge() as server:
        yield server


def pull(admin: Target, salesforge: FakeSalesforge, tmp_path: Path) -> ApiReport:
    return ingest_salesforge_api(
        admin,
        api_key=KEY,
        workspace_id=WORKSPACE,
        base_url=salesforge.url,
        pipelines_dir=tmp_path / "dlt",
        sleep=lambda seconds: None,
    )


def test_legacy_and_multichannel_sequences_land_in_full_over_pages(
    admin: Target, salesforge: FakeSalesforge, tmp_path: Path
) -> None:
    salesforge.legacy = legacy_sequences(230)  # three pages of 100
    salesforge.legacy[5]["newFieldNobodyDocumented"] = [1, 2, 3]

    report = pull(admin, salesforge, tmp_path)

    listing = salesforge.calls(f"/workspaces/{WORKSPACE}/sequences")
    pages = [r for r in listing if r.path.endswith("/sequences")]
    assert [int(p.query["offset"]) for p in pages] == [0, 100, 200]
    assert report.stored == 230 + 1
    rows = dict_rows(admin, "select campaign_id, payload from raw_salesforge.sequences")
    by_id = {r["campaign_id"]: r["payload"] for r in rows}
    assert by_id[salesforge.legacy[0]["id"]]["steps"] == salesforge.legacy[0]["steps"]
    assert by_id[salesforge.legacy[5]["id"]]["newFieldNobodyDocumented"] == [1, 2, 3]
    multichannel = by_id[str(salesforge.multichannel[0]["id"])]
    assert multichannel["nodes"] == salesforge.multichannel[0]["nodes"]
    assert all(r.headers.get("authorization") == KEY for r in salesforge.requests)


def test_an_unchanged_workspace_adds_nothing_and_an_edit_adds_one_version(
    admin: Target, salesforge: FakeSalesforge, tmp_path: Path
) -> None:
    pull(admin, salesforge, tmp_path)
    assert pull(admin, salesforge, tmp_path).stored == 0

    salesforge.legacy[0]["steps"][0]["variants"][1]["emailSubject"] = "a better subject"
    edited = pull(admin, salesforge, tmp_path)

    assert edited.stored == 1
    assert query(admin, "select count(*), count(distinct event_key) from raw_salesforge.sequences")[
        0
    ] == (3, 2)


def test_a_workspace_without_the_multichannel_api_still_loads_its_sequences(
    admin: Target, salesforge: FakeSalesforge, tmp_path: Path
) -> None:
    salesforge.multichannel_api = False

    report = pull(admin, salesforge, tmp_path)

    assert report.stored == 1


def test_429_and_5xx_are_retried_and_a_wrong_key_is_named(
    admin: Target, salesforge: FakeSalesforge, tmp_path: Path
) -> None:
    salesforge.fail("429", f"/workspaces/{WORKSPACE}/sequences", retry_after=1)
    salesforge.fail("500", f"/workspaces/{WORKSPACE}/multichannel")
    report = pull(admin, salesforge, tmp_path)
    assert report.stats.retries == 2
    assert report.stored == 2

    salesforge.api_key = "rotated"
    with pytest.raises(Exception) as failure:
        pull(admin, salesforge, tmp_path)
    assert "sources.salesforge.api_key" in str(cause_of(failure.value, ApiAuthError))
