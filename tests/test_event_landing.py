"""Vendor events from the landing folder: every contract kind, exactly once, bad lines alone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cis.bootstrap import bootstrap
from cis.db import Target, cursor, loader_target
from cis.jobs.ingest_events import EVENT_DATASETS, ingest_event_landing
from tests.pg import query

# Copies of ../shared/contracts (the vendors' documented shapes), so the tests need only the repo.
CONTRACTS = Path(__file__).parent / "fixtures" / "contracts"
# Contract file -> landing kind folder (DESIGN.md, "Landing format").
KIND_FILES = {
    "smartlead__webhook.jsonl": "smartlead/webhooks",
    "smartlead__statistics.jsonl": "smartlead/statistics",
    "smartlead__campaign.jsonl": "smartlead/campaigns",
    "salesforge__webhook.jsonl": "salesforge/webhooks",
    "salesforge__sequence.jsonl": "salesforge/sequences",
    "heyreach__webhook.jsonl": "linkedin/events",
    "twilio__sms.jsonl": "sms/events",
    "hubspot__deal.jsonl": "hubspot/deals",
    "hubspot__meeting.jsonl": "hubspot/meetings",
    "hubspot__contact.jsonl": "hubspot/contacts",
    "hubspot__pipelines.jsonl": "hubspot/pipelines",
}
CRM_TEMPLATES = Path(__file__).parent / "fixtures" / "crm"
TABLES = {
    kind.landing_kind: f"{dataset}.{kind.table}"
    for dataset, kinds in EVENT_DATASETS.items()
    for kind in kinds
}


def _contract_lines(name: str) -> list[str]:
    return [line for line in (CONTRACTS / name).read_text().splitlines() if line.strip()]


def _landing(root: Path) -> Path:
    for name, kind in KIND_FILES.items():
        folder = root / kind
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"2025-09-05T000000Z-{name}").write_text("\n".join(_contract_lines(name)) + "\n")
    # The standalone-CRM files of docs/crm.md's templates.
    (root / "crm").mkdir(parents=True, exist_ok=True)
    for template in CRM_TEMPLATES.glob("*.csv"):
        (root / "crm" / template.name).write_bytes(template.read_bytes())
    return root


def _count(target: Target, relation: str) -> int:
    return query(target, f"select count(*) from {relation}")[0][0]


@pytest.fixture
def loader(target: Target) -> Target:
    bootstrap(target)
    return loader_target(target)


def test_every_contract_kind_loads_with_its_fields_kept(
    tmp_path: Path, target: Target, loader: Target
) -> None:
    landing = _landing(tmp_path / "landing")

    reports = ingest_event_landing(loader, landing, tmp_path / "dlt")

    assert {r.dataset for r in reports} == set(EVENT_DATASETS)
    for name, kind in KIND_FILES.items():
        assert _count(target, TABLES[kind]) == len(_contract_lines(name)), kind
    assert sum(r.counts.rejected for r in reports) == 0
    # The whole body is kept (unknown fields too), the Smartlead credential is not.
    stored = query(
        target,
        "select payload from raw_smartlead.webhook_events where event_name = 'EMAIL_REPLY'",
    )[0][0]
    assert stored["leadCorrespondence"]["replyReceivedFrom"]
    assert query(
        target, "select count(*) from raw_smartlead.webhook_events where payload ? 'secret_key'"
    ) == [(0,)]
    # Keys, names, campaigns and times are read per vendor.
    assert query(
        target,
        "select count(*), count(distinct event_key), count(occurred_at), count(campaign_id) "
        "from raw_smartlead.webhook_events",
    ) == [(13, 13, 13, 13)]
    assert query(
        target,
        "select event_name, occurred_at_text, occurred_at = '2025-09-03T15:04:55Z'::timestamptz "
        "from raw_salesforge.webhook_events where event_name = 'email_sent'",
    ) == [("email_sent", "2025-09-03T17:04:55+02:00", True)]
    twilio = dict(
        query(target, "select event_name, count(*) from raw_twilio.webhook_events group by 1")
    )
    assert twilio == {
        "inbound_message": 1,
        "opt_stop": 1,
        "status_sent": 1,
        "status_delivered": 1,
        "status_undelivered": 1,
    }
    # The lead's LinkedIn URL (HeyReach) and number (Twilio: the sender of an inbound message,
    # the recipient of a status callback) are read for identity resolution.
    assert query(
        target, "select count(*), count(lead_linkedin_url) from raw_heyreach.webhook_events"
    ) == [(6, 6)]
    phones = dict(query(target, "select event_name, lead_phone from raw_twilio.webhook_events"))
    inbound = json.loads(_contract_lines("twilio__sms.jsonl")[0])
    callback = json.loads(_contract_lines("twilio__sms.jsonl")[2])
    assert phones["inbound_message"] == inbound["From"]
    assert phones["status_sent"] == callback["To"]
    # HubSpot records are versions of CRM objects: keyed by id, timed by the last-modified
    # property each object type names differently; a contact is the person.
    assert query(
        target,
        "select occurred_at_text from raw_hubspot.contacts where campaign_id = '92847561203'",
    ) == [("2025-10-08T16:21:40.902Z",)]
    assert query(
        target,
        "select count(*), count(lead_email) from raw_hubspot.contacts",
    ) == [(3, 3)]
    history = query(
        target,
        "select jsonb_array_length(payload -> 'propertiesWithHistory' -> 'dealstage') "
        "from raw_hubspot.deals where campaign_id = '31558902741'",
    )
    assert history == [(5,)]
    # Every dataset has its quarantine table, empty here.
    for dataset in EVENT_DATASETS:
        assert _count(target, f"{dataset}.rejected_records") == 0


def test_a_second_run_reads_only_what_is_new(
    tmp_path: Path, target: Target, loader: Target
) -> None:
    landing = _landing(tmp_path / "landing")
    ingest_event_landing(loader, landing, tmp_path / "dlt")
    before = _count(target, "raw_smartlead.webhook_events")

    assert ingest_event_landing(loader, landing, tmp_path / "dlt") == []
    assert _count(target, "raw_smartlead.webhook_events") == before

    # Two lines appended to a file, and a new file: only those are read.
    webhooks = landing / "smartlead" / "webhooks"
    first = next(webhooks.glob("*.jsonl"))
    lines = _contract_lines("smartlead__webhook.jsonl")
    with first.open("a") as handle:
        handle.write(lines[0] + "\n" + lines[1] + "\n")
    (webhooks / "later.jsonl").write_text(lines[2] + "\n")

    reports = ingest_event_landing(loader, landing, tmp_path / "dlt")

    assert [(r.dataset, sum(r.counts.rows.values()), r.stored) for r in reports] == [
        ("raw_smartlead", 3, 3)
    ]
    assert _count(target, "raw_smartlead.webhook_events") == before + 3
    # The appended lines are duplicate deliveries: new rows, the same event keys.
    assert query(
        target,
        "select count(*) - count(distinct event_key) from raw_smartlead.webhook_events",
    ) == [(3,)]
    appended = query(
        target,
        "select _source_line from raw_smartlead.webhook_events where _source_file = %s "
        "order by _source_line desc limit 2",
        (first.relative_to(landing).as_posix(),),
    )
    assert appended == [(len(lines) + 2,), (len(lines) + 1,)]
    # The demo's summary counts them as duplicate deliveries.
    from cis.jobs.event_figures import event_table_figures

    figures = {f.relation: f for f in event_table_figures(target)}
    assert figures["raw_smartlead.webhook_events"].duplicates == 3
    assert figures["raw_twilio.webhook_events"].duplicates == 0


def test_a_crash_before_progress_is_recorded_stores_nothing_twice(
    tmp_path: Path, target: Target, loader: Target
) -> None:
    landing = _landing(tmp_path / "landing")
    ingest_event_landing(loader, landing, tmp_path / "dlt")
    counts = {kind: _count(target, table) for kind, table in TABLES.items()}
    # As if the run died after its load and before it recorded how far it read.
    with cursor(loader) as cur:
        cur.execute("delete from raw_landing.file_progress")

    reports = ingest_event_landing(loader, landing, tmp_path / "dlt")

    # Every line is read again, and stored once: the crashed run's rows were replaced.
    assert sum(r.stored for r in reports) == sum(counts.values())
    assert {kind: _count(target, table) for kind, table in TABLES.items()} == counts
    for table in TABLES.values():
        assert query(target, f"select count(*) - count(distinct delivery_id) from {table}") == [
            (0,)
        ]


def test_reading_everything_again_gives_the_same_rows(
    tmp_path: Path, target: Target, loader: Target
) -> None:
    landing = _landing(tmp_path / "landing")
    ingest_event_landing(loader, landing, tmp_path / "dlt")
    snapshot = (
        "select delivery_id, event_key, payload::text from raw_smartlead.webhook_events order by 1"
    )
    before = query(target, snapshot)

    ingest_event_landing(loader, landing, tmp_path / "dlt", reload=True)

    assert query(target, snapshot) == before


def test_a_rewritten_file_is_read_again_from_the_start(
    tmp_path: Path, target: Target, loader: Target
) -> None:
    landing = tmp_path / "landing"
    folder = landing / "sms" / "events"
    folder.mkdir(parents=True)
    lines = _contract_lines("twilio__sms.jsonl")
    (folder / "sms.jsonl").write_text("\n".join(lines[:3]) + "\n")
    ingest_event_landing(loader, landing, tmp_path / "dlt")
    (folder / "sms.jsonl").write_text("\n".join(lines[3:]) + "\n" + "\n".join(lines[:3]) + "\n")

    ingest_event_landing(loader, landing, tmp_path / "dlt")

    assert _count(target, "raw_twilio.webhook_events") == 3 + 5


def test_bad_lines_are_quarantined_alone(tmp_path: Path, target: Target, loader: Target) -> None:
    landing = tmp_path / "landing"
    good = _contract_lines("smartlead__webhook.jsonl")
    bad_time = json.loads(good[1]) | {"event_timestamp": "yesterday at noon"}
    lines = [
        good[0],
        "{not json",
        json.dumps(bad_time),
        "[1, 2]",
        json.dumps({"event_type": "EMAIL_SOMETHING_NEW", "campaign_id": 99, "stats_id": "s-1"}),
        good[2],
    ]
    (landing / "smartlead" / "webhooks").mkdir(parents=True)
    (landing / "smartlead" / "webhooks" / "mixed.jsonl").write_text("\n".join(lines) + "\n")
    (landing / "sms" / "events").mkdir(parents=True)
    (landing / "sms" / "events" / "odd.jsonl").write_text('{"Body": "no sid"}\n')
    shutil.copy(CONTRACTS / "twilio__sms.jsonl", landing / "sms" / "events" / "ok.jsonl")

    reports = {r.dataset: r for r in ingest_event_landing(loader, landing, tmp_path / "dlt")}

    # Kept: the two good lines and the event type nobody knows yet (vendors add events).
    assert query(
        target, "select event_name from raw_smartlead.webhook_events order by _source_line"
    ) == [("EMAIL_SENT",), ("EMAIL_SOMETHING_NEW",), ("EMAIL_LINK_CLICK",)]
    reasons = dict(query(target, "select source_line, reason from raw_smartlead.rejected_records"))
    assert set(reasons) == {2, 3, 4}
    assert reasons[2].startswith("not valid JSON")
    assert "event_timestamp is not a timestamp" in reasons[3]
    assert "expected a JSON object" in reasons[4]
    assert reports["raw_smartlead"].counts.rejected == 3
    assert query(target, "select reason from raw_twilio.rejected_records") == [
        ("no MessageSid (nor SmsSid): not a Twilio message or callback",)
    ]
    from cis.jobs.event_figures import rejections_by_reason

    by_reason = {(schema, reason): n for schema, reason, n in rejections_by_reason(target)}
    assert by_reason[("raw_smartlead", "not valid JSON")] == 1
    assert by_reason[("raw_twilio", "no MessageSid")] == 1
    assert _count(target, "raw_twilio.webhook_events") == 5


def test_what_the_receiver_writes_loads_with_its_receipt(
    tmp_path: Path, target: Target, loader: Target
) -> None:
    """Deliveries posted to `cis serve` land, and load once, with receipt time and request id."""
    from starlette.testclient import TestClient

    from ingestion.receiver.app import create_app
    from ingestion.receiver.settings import ReceiverSettings

    landing = tmp_path / "landing"
    secret = "sl-secret"
    settings = ReceiverSettings(landing, secrets={"smartlead": secret, "heyreach": "hr-token"})
    smartlead = [
        json.loads(line)
        for line in _contract_lines("smartlead__webhook.jsonl")
        if "event_type" in json.loads(line)  # dialect A carries the body secret
    ]
    heyreach = [json.loads(line) for line in _contract_lines("heyreach__webhook.jsonl")]
    with TestClient(create_app(settings)) as client:
        for number, body in enumerate(smartlead):
            response = client.post(
                "/webhooks/smartlead",
                json={**body, "secret_key": secret},
                headers={"x-request-id": f"req-{number}"},
            )
            assert response.status_code < 300, response.text
        for body in heyreach:
            assert client.post("/webhooks/heyreach/hr-token", json=body).status_code < 300
    # Leaving the client stops the app, which publishes its open files.

    reports = {r.dataset: r for r in ingest_event_landing(loader, landing, tmp_path / "dlt")}

    assert reports["raw_smartlead"].stored == len(smartlead)
    assert reports["raw_heyreach"].stored == len(heyreach)
    assert query(
        target,
        "select count(*), count(received_at), count(distinct event_key), "
        "count(*) filter (where event_key = request_id), "
        "count(*) filter (where payload ? 'secret_key' or payload ? '_cis_receipt') "
        "from raw_smartlead.webhook_events",
    ) == [(len(smartlead), len(smartlead), len(smartlead), len(smartlead), 0)]
    assert ingest_event_landing(loader, landing, tmp_path / "dlt") == []


def test_events_of_campaigns_no_client_claims_are_counted() -> None:
    from cis.clients import load_clients
    from cis.jobs.ingest_events import EventReport, unclaimed_campaigns
    from ingestion.events import EventCounts

    clients = load_clients(Path(__file__).resolve().parents[1] / "config" / "clients.yml")
    counts = EventCounts(
        campaigns={
            ("smartlead/webhooks", "1847213"): 5,  # northwind's
            ("smartlead/webhooks", "999"): 3,
            ("smartlead/statistics", "999"): 7,  # statistics rows are not events
            ("smartlead/campaigns", "424242"): 1,  # nor are campaign snapshots
        }
    )
    report = EventReport("raw_smartlead", counts, stored=0, seconds=0.0)
    assert unclaimed_campaigns(report, clients) == {"999": 3}
    twilio = EventReport(
        "raw_twilio", EventCounts(campaigns={("sms/events", "+13125550188"): 4}), 0, 0.0
    )
    assert unclaimed_campaigns(twilio, clients) == {}


def test_large_loads_use_worker_processes_with_the_same_result(
    tmp_path: Path, target: Target, loader: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above PROCESSES_FROM_BYTES the datasets load in two worker processes: same rows."""
    monkeypatch.setattr("cis.jobs.ingest_events.PROCESSES_FROM_BYTES", 0)
    landing = _landing(tmp_path / "landing")

    reports = ingest_event_landing(loader, landing, tmp_path / "dlt")

    assert {r.dataset for r in reports} == set(EVENT_DATASETS)
    for name, kind in KIND_FILES.items():
        assert _count(target, TABLES[kind]) == len(_contract_lines(name)), kind
    assert ingest_event_landing(loader, landing, tmp_path / "dlt") == []
