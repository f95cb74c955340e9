"""The Smartlead API source, end to end: the real client against a local fake Smartlead,
loading into a real (embedded) PostgreSQL through ``cis ingest smartlead``'s job."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cis.bootstrap import bootstrap
from cis.db import Target
from cis.jobs.ingest_api import ApiReport, ingest_smartlead_api
from ingestion.http import ApiAuthError, ApiError, ApiResponseError
from tests.pg import dict_rows, query
from tests.smartlead_server import SEND_START, FakeSmartlead, statistics_rows
from tests.vendor_server import cause_of

KEY = "sl-test-key"


@pytest.fixture
def admin(target: Target) -> Target:
    bootstrap(target)
    return target


@pytest.fixture
def smartlead() -> Iterator[FakeSmartlead]:
    with FakeSmartlead() as server:
        yield server


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def pull(admin: Target, smartlead: FakeSmartlead, tmp_path: Path, **options: object) -> ApiReport:
    return ingest_smartlead_api(
        admin,
        api_key=KEY,
        base_url=smartlead.url,
        pipelines_dir=tmp_path / "dlt",
        sleep=options.pop("sleep", Sleeps()),  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )


def stored(target: Target, table: str) -> int:
    return query(target, f"select count(*) from raw_smartlead.{table}")[0][0]


def test_campaigns_and_paged_statistics_land_with_every_field(
    admin: Target, smartlead: FakeSmartlead, tmp_path: Path
) -> None:
    first = str(smartlead.campaigns[0]["id"])
    rows = statistics_rows(2_345, SEND_START)
    rows[7]["brand_new_field"] = {"added": "by Smartlead next month"}
    smartlead.statistics[first] = rows

    report = pull(admin, smartlead, tmp_path)

    pages = smartlead.calls(f"/campaigns/{first}/statistics")
    assert [int(p.query["offset"]) for p in pages] == [0, 1000, 2000]
    assert all(int(p.query["limit"]) == 1000 for p in pages)
    assert smartlead.violations == []
    assert stored(admin, "statistics") == 2_345 == report.counts.rows["smartlead/statistics"]
    assert stored(admin, "campaigns") == len(smartlead.campaigns)
    assert report.stored == 2_345 + len(smartlead.campaigns)
    # The campaign snapshot is the contract's shape: the object plus its sequences and variants.
    snapshot = dict_rows(
        admin,
        "select campaign_id, payload from raw_smartlead.campaigns where campaign_id = %s",
        (first,),
    )[0]
    assert snapshot["payload"]["sequences"] == smartlead.campaigns[0]["sequences"]
    variants = snapshot["payload"]["sequences"][0]["sequence_variants"]
    assert [v["variant_label"] for v in variants] == ["A", "B"]
    # Statistics rows name no campaign: the pull records which one it asked for.
    row = dict_rows(
        admin,
        "select campaign_id, event_key, occurred_at_text, payload, receipt, _source_file "
        "from raw_smartlead.statistics where payload->>'stats_id' = %s",
        (rows[7]["stats_id"],),
    )[0]
    assert row["campaign_id"] == first
    assert row["occurred_at_text"] == rows[7]["sent_time"]
    assert row["payload"]["brand_new_field"] == {"added": "by Smartlead next month"}
    assert row["receipt"]["source"] == "api"
    assert row["_source_file"] == f"api:/campaigns/{first}/statistics"
    assert "api_key" not in str(row["receipt"])  # the key is never stored


def test_a_second_pull_stores_only_changed_rows(
    admin: Target, smartlead: FakeSmartlead, tmp_path: Path
) -> None:
    first = str(smartlead.campaigns[0]["id"])
    rows = statistics_rows(1_200, SEND_START)
    smartlead.statistics[first] = rows
    pull(admin, smartlead, tmp_path)

    again = pull(admin, smartlead, tmp_path, full_refresh=True)
    assert again.stored == 0
    assert again.unchanged == 1_200 + len(smartlead.campaigns)
    assert stored(admin, "statistics") == 1_200

    for row in rows[:10]:  # opened and replied since the first pull
        row.update(open_time="2025-09-03T10:00:00.000Z", open_count=1)
        row.update(reply_time="2025-09-03T11:00:00.000Z")
    changed = pull(admin, smartlead, tmp_path, full_refresh=True)

    assert changed.stored == 10
    versions = query(
        admin,
        "select count(*), count(distinct event_key) from raw_smartlead.statistics "
        "where payload->>'stats_id' = any(%s)",
        ([r["stats_id"] for r in rows[:10]],),
    )[0]
    assert versions == (20, 10)  # two versions of each row, one key per stats_id


def test_the_incremental_pull_asks_only_from_the_lookback_window(
    admin: Target, smartlead: FakeSmartlead, tmp_path: Path
) -> None:
    first = str(smartlead.campaigns[0]["id"])
    smartlead.statistics[first] = statistics_rows(50, SEND_START)
    pull(admin, smartlead, tmp_path, lookback_days=30)
    assert all("sent_time_start_date" not in r.query for r in smartlead.calls("/campaigns/"))

    # 60 days of later sends: the next pull asks from (newest stored - 30 days).
    later = statistics_rows(60 * 24, SEND_START + timedelta(days=1))
    for i, row in enumerate(later):
        row["stats_id"] = f"11111111-0000-4000-8000-{i:012d}"
    smartlead.statistics[first] = smartlead.statistics[first] + later
    smartlead.requests.clear()
    pull(admin, smartlead, tmp_path, lookback_days=30)

    asked = smartlead.calls(f"/campaigns/{first}/statistics")[0].query["sent_time_start_date"]
    newest = smartlead.statistics[first][49]["sent_time"]  # the first pull's newest send
    assert asked == "2025-08-02 13:49:00.000Z", (asked, newest)
    assert stored(admin, "statistics") == 50 + len(later)


@pytest.mark.parametrize(
    ("fault", "retry_after", "requests_made"),
    [("429", 7, 2), ("500", None, 2), ("malformed", None, 2)],
    ids=["429-retry-after", "500-then-ok", "not-json-once"],
)
def test_transient_failures_are_retried_and_lose_nothing(
    admin: Target,
    smartlead: FakeSmartlead,
    tmp_path: Path,
    fault: str,
    retry_after: int | None,
    requests_made: int,
) -> None:
    first = str(smartlead.campaigns[0]["id"])
    smartlead.statistics[first] = statistics_rows(1_500, SEND_START)
    path = f"/campaigns/{first}/statistics"
    smartlead.fail(fault, path, skip=1, retry_after=retry_after)  # the second page fails once
    sleeps = Sleeps()

    report = pull(admin, smartlead, tmp_path, sleep=sleeps)

    assert len(smartlead.calls(path)) == 2 + 1
    assert report.stats.retries == 1
    assert len(sleeps) == 1
    if retry_after is not None:
        assert sleeps == [retry_after]
    assert stored(admin, "statistics") == 1_500


def test_a_body_that_is_never_json_stops_with_a_clear_error_and_stores_nothing(
    admin: Target, smartlead: FakeSmartlead, tmp_path: Path
) -> None:
    smartlead.fail("malformed", "/campaigns/", times=None)

    with pytest.raises(Exception) as failure:
        pull(admin, smartlead, tmp_path)

    error = cause_of(failure.value, ApiResponseError)
    assert "not JSON" in str(error) and "Smartlead" in str(error)
    assert query(admin, "select to_regclass('raw_smartlead.statistics')")[0][0] is None


def test_a_wrong_key_stops_at_once_and_names_the_setting(
    admin: Target, smartlead: FakeSmartlead, tmp_path: Path
) -> None:
    smartlead.api_key = "another-key"

    with pytest.raises(Exception) as failure:
        pull(admin, smartlead, tmp_path)

    error = cause_of(failure.value, ApiAuthError)
    assert "sources.smartlead.api_key" in str(error)
    assert len(smartlead.requests) == 1  # no retries on 401
    assert KEY not in str(error)


def test_a_row_the_warehouse_cannot_store_is_quarantined_and_the_rest_load(
    admin: Target, smartlead: FakeSmartlead, tmp_path: Path
) -> None:
    first = str(smartlead.campaigns[0]["id"])
    rows = statistics_rows(20, SEND_START)
    rows[3]["email_message"] = "nul \x00 byte"
    rows[4]["sent_time"] = "last Tuesday"
    smartlead.statistics[first] = rows

    report = pull(admin, smartlead, tmp_path)

    assert stored(admin, "statistics") == 18
    assert report.counts.rejected == 2
    reasons = dict(query(admin, "select source_line, reason from raw_smartlead.rejected_records"))
    assert set(reasons) == {4, 5}
    assert "sent_time is not a timestamp" in reasons[5]


def test_the_cli_pulls_with_the_key_from_dlt_secrets(
    admin: Target, smartlead: FakeSmartlead, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cis.cli import app

    monkeypatch.setenv("CIS_DATABASE_URL", admin.url)
    monkeypatch.setenv("SOURCES__SMARTLEAD__API_KEY", KEY)
    monkeypatch.setenv("CIS_HOME", str(tmp_path))  # dlt's working folder under tmp_path/.cis
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(app, ["ingest", "smartlead", "--base-url", smartlead.url])

    assert result.exit_code == 0, result.output
    assert "records fetched" in result.output
    assert stored(admin, "campaigns") == len(smartlead.campaigns)

    monkeypatch.setenv("SOURCES__SMARTLEAD__API_KEY", "wrong")
    result = CliRunner().invoke(app, ["ingest", "smartlead", "--base-url", smartlead.url])
    assert result.exit_code == 1
    assert "sources.smartlead.api_key" in result.output


def test_a_server_that_ignores_offset_is_stopped_not_followed_forever(
    admin: Target, smartlead: FakeSmartlead, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = str(smartlead.campaigns[0]["id"])
    smartlead.statistics[first] = statistics_rows(2_500, SEND_START)
    monkeypatch.setattr(smartlead, "_statistics", _first_page_always(smartlead._statistics))

    with pytest.raises(Exception) as failure:
        pull(admin, smartlead, tmp_path)

    assert "ignores offset" in str(cause_of(failure.value, ApiResponseError))
    assert len(smartlead.calls(f"/campaigns/{first}/statistics")) == 2


def test_short_pages_are_followed_to_total_stats(
    admin: Target, smartlead: FakeSmartlead, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = str(smartlead.campaigns[0]["id"])
    smartlead.statistics[first] = statistics_rows(250, SEND_START)
    monkeypatch.setattr(smartlead, "_statistics", _pages_of(100, smartlead._statistics))

    pull(admin, smartlead, tmp_path)

    offsets = [int(r.query["offset"]) for r in smartlead.calls(f"/campaigns/{first}/statistics")]
    assert offsets == [0, 100, 200]
    assert stored(admin, "statistics") == 250


def test_an_answer_without_its_data_is_an_error_not_an_empty_pull(
    admin: Target, smartlead: FakeSmartlead, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(smartlead, "_statistics", lambda *_a: {"message": "try again later"})

    with pytest.raises(Exception) as failure:
        pull(admin, smartlead, tmp_path)

    assert "expected a JSON list" in str(cause_of(failure.value, ApiResponseError))


def test_a_retry_after_of_hours_stops_at_once_and_an_unreachable_server_hides_the_key(
    admin: Target, smartlead: FakeSmartlead, tmp_path: Path
) -> None:
    smartlead.fail("429", "/campaigns", retry_after=7_200)
    sleeps = Sleeps()
    with pytest.raises(Exception) as failure:
        pull(admin, smartlead, tmp_path, sleep=sleeps)
    assert "7200 s" in str(cause_of(failure.value, ApiError))
    assert sleeps == []

    with pytest.raises(Exception) as failure:
        ingest_smartlead_api(
            admin,
            api_key=KEY,
            base_url="http://127.0.0.1:9/api/v1",  # nothing listens there
            pipelines_dir=tmp_path / "dlt",
            sleep=Sleeps(),
        )
    message = str(cause_of(failure.value, ApiError))
    assert "cannot reach Smartlead" in message
    assert KEY not in message and KEY not in repr(failure.value)


def _first_page_always(answer):
    def first_page(campaign_id: str, query: dict[str, str]) -> dict:
        return answer(campaign_id, {**query, "offset": "0"})

    return first_page


def _pages_of(size: int, answer):
    def short(campaign_id: str, query: dict[str, str]) -> dict:
        page = answer(campaign_id, query)
        page["data"] = page["data"][:size]
        return page

    return short
