"""The demo's vendor events: determinism, the loader accepts every line, the messy cases."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cis.generate import DEFAULT_START, generate_landing
from cis.generate.events import EventsSummary, generate_events
from ingestion import heyreach, salesforge, smartlead, twilio
from ingestion.events import RECEIPT_KEY, EventKind, EventProblem

LEADS = 400
SEED = 11
KINDS: dict[str, EventKind] = {
    k.landing_kind: k for k in (*smartlead.KINDS, *salesforge.KINDS, *heyreach.KINDS, *twilio.KINDS)
}


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, EventsSummary]:
    root = tmp_path_factory.mktemp("events") / "landing"
    summary = generate_landing(root, LEADS, SEED, events=True)
    assert summary.events is not None
    return root, summary.events


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*.jsonl"))
        if p.relative_to(root).parts[0] != "apollo"
    }


def _lines(root: Path, kind: str, malformed: bool = False):
    """(file name, parsed body or None, raw text) of every line of a kind."""
    for path in sorted((root / kind).glob("*.jsonl")):
        if ("-malformed-" in path.name) != malformed:
            continue
        for raw in path.read_text().splitlines():
            try:
                yield path.name, json.loads(raw), raw
            except json.JSONDecodeError:
                yield path.name, None, raw


def _describe(kind: str, body: dict):
    body = dict(body)
    receipt = body.pop(RECEIPT_KEY, None) or {}
    return KINDS[kind].describe(body, receipt)


def test_same_seed_same_bytes_and_apollo_unchanged(
    tmp_path: Path, landing: tuple[Path, EventsSummary]
) -> None:
    root, _ = landing
    again = tmp_path / "again"
    generate_landing(again, LEADS, SEED, events=True)
    assert _files(again) == _files(root)
    plain = tmp_path / "plain"
    generate_landing(plain, LEADS, SEED)
    for path in (plain / "apollo" / "people").iterdir():
        assert path.read_bytes() == (root / "apollo" / "people" / path.name).read_bytes()
    other = tmp_path / "other"
    generate_events(other, LEADS, SEED + 1, start=DEFAULT_START, malformed=False)
    assert _files(other) != _files(root)


def test_every_line_is_accepted_except_the_planted_malformed(
    landing: tuple[Path, EventsSummary],
) -> None:
    root, summary = landing
    for kind in KINDS:
        good = 0
        names: Counter[str] = Counter()
        for _, body, _raw in _lines(root, kind):
            assert body is not None, kind
            facts = _describe(kind, body)
            assert facts.event_key
            if kind in ("smartlead/campaigns", "salesforge/sequences"):
                continue
            assert facts.occurred_at is not None or kind == "sms/events"
            names[f"{kind}:{facts.event_name}"] += 1
            good += 1
        assert good == summary.events.get(kind, 0)
        refused = 0
        for _, body, _raw in _lines(root, kind, malformed=True):
            try:
                if body is None:
                    raise EventProblem("not JSON")
                _describe(kind, body)
            except EventProblem:
                refused += 1
        assert refused == summary.malformed.get(kind, 0)
        for name, count in names.items():
            if kind == "smartlead/webhooks":
                assert summary.by_type[name] == count
    assert summary.malformed_total >= 10
    assert summary.campaigns == {"smartlead/campaigns": 2, "salesforge/sequences": 2}


def test_both_smartlead_dialects_and_every_event_type(landing: tuple[Path, EventsSummary]) -> None:
    _, summary = landing
    names = {name.split(":")[1] for name in summary.by_type}
    for name in (
        "EMAIL_SENT",
        "EMAIL_OPEN",
        "EMAIL_LINK_CLICK",
        "EMAIL_REPLY",
        "LEAD_CATEGORY_UPDATED",
        "EMAIL_OPENED",
        "EMAIL_CLICKED",
        "email_sent",
        "email_opened",
        "email_replied",
        "label_changed",
        "connection_request_sent",
        "connection_request_accepted",
        "message_reply_received",
        "inmail_sent",
        "status_sent",
        "status_delivered",
        "inbound_message",
    ):
        assert name in names, name
    assert summary.out_of_order > 0


def test_duplicates_share_the_event_key_and_late_files_come_later(
    landing: tuple[Path, EventsSummary],
) -> None:
    root, summary = landing
    for kind in ("smartlead/webhooks", "salesforge/webhooks", "linkedin/events", "sms/events"):
        keys: Counter[str] = Counter()
        for name, body, _raw in _lines(root, kind):
            facts = _describe(kind, body)
            keys[facts.event_key] += 1
            if "-late-" in name and facts.occurred_at is not None:
                stamp = datetime.strptime(name[:18], "%Y-%m-%dT%H%M%SZ")
                assert stamp.replace(tzinfo=facts.occurred_at.tzinfo) > facts.occurred_at
        repeated = sum(n - 1 for n in keys.values() if n > 1)
        assert repeated >= summary.duplicates.get(kind, 0) > 0, kind
        assert summary.late.get(kind, 0) > 0 or kind == "sms/events"


def test_statistics_reference_existing_variants_and_count_replies_per_lead(
    landing: tuple[Path, EventsSummary],
) -> None:
    root, _ = landing
    steps: dict[int, set] = {}
    deleted = 0
    for _, campaign, _raw in _lines(root, "smartlead/campaigns"):
        for step in campaign["sequences"]:
            variants = step["sequence_variants"] or []
            steps[step["id"]] = {v["id"] for v in variants if not v["is_deleted"]}
            deleted += sum(v["is_deleted"] for v in variants)
            if step["seq_number"] == 2:
                assert step["subject"] == ""
    assert deleted >= 1
    replies: dict[str, set] = defaultdict(set)
    rows_with_reply: Counter[str] = Counter()
    for _, row, _raw in _lines(root, "smartlead/statistics"):
        live = steps[row["email_campaign_seq_id"]]
        if live:
            assert row["seq_variant_id"] in live
        else:
            assert row["seq_variant_id"] is None
        if row["reply_time"]:
            replies[row["lead_email"]].add(row["reply_time"])
            rows_with_reply[row["lead_email"]] += 1
    assert any(rows_with_reply[e] > len(replies[e]) for e in replies)  # one reply, two rows


def test_sends_fall_in_the_recipients_business_hours(landing: tuple[Path, EventsSummary]) -> None:
    root, _ = landing
    zones = {}
    for path in (root / "apollo" / "people").glob("*.jsonl"):
        for raw in path.read_text(errors="replace").splitlines():
            try:
                person = json.loads(raw)
            except json.JSONDecodeError:
                continue
            if isinstance(person, dict) and person.get("email") and person.get("time_zone"):
                zones[person["email"].lower()] = ZoneInfo(person["time_zone"])
    checked = 0
    sent = {"EMAIL_SENT", "email_sent", "statistics_row"}
    for kind in ("smartlead/webhooks", "smartlead/statistics", "salesforge/webhooks"):
        for _, body, _raw in _lines(root, kind):
            facts = _describe(kind, body)
            if facts.event_name not in sent:
                continue
            local = facts.occurred_at.astimezone(zones[facts.lead_email])
            assert local.weekday() < 5
            assert time(8, 30) <= local.time() < time(17, 0), (local, facts.lead_email)
            checked += 1
    assert checked > 500


def test_streaming_memory_does_not_grow_with_events(tmp_path: Path) -> None:
    """Peak RSS of a fresh process writing 3,000 events vs 30,000: no growth with events."""
    script = (
        "import resource, sys; from pathlib import Path; "
        "from cis.generate import DEFAULT_START; from cis.generate.events import generate_events; "
        "s = generate_events(Path(sys.argv[1]), 300, 3, start=DEFAULT_START, "
        "events=int(sys.argv[2]), lines_per_file=2000); "
        "print(s.total_events, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )

    def peak(events: int) -> tuple[int, int]:
        done = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / str(events)), str(events)],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        total, kib = done.stdout.split()
        return int(total), int(kib)

    n_small, small = peak(3_000)
    n_large, large = peak(30_000)
    assert n_small >= 3_000 and n_large >= 30_000
    assert large < small + 16_384, (small, large)  # KiB: less than 16 MiB more for 10x events


def test_the_loader_loads_every_generated_event_and_quarantines_the_planted_lines(
    landing: tuple[Path, EventsSummary], target, tmp_path: Path
) -> None:
    from cis.bootstrap import bootstrap
    from cis.db import loader_target
    from cis.jobs.ingest_events import ingest_event_landing

    root, summary = landing
    bootstrap(target)

    reports = ingest_event_landing(loader_target(target), root, tmp_path / "dlt")

    read = {kind: n for r in reports for kind, n in r.counts.rows.items()}
    for kind, lines in summary.events.items():
        assert read[kind] == lines, kind
    assert sum(r.counts.rejected for r in reports) == summary.malformed_total
    assert all(
        "-malformed-" in (rejection.source_file or "")
        for r in reports
        for rejection in r.counts.rejections
    )
