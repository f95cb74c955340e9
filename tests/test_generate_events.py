"""The demo's vendor events: determinism, the loader accepts every line, the messy cases."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cis.clients import load_clients
from cis.generate import DEFAULT_START, generate_landing
from cis.generate.events import DEFAULT_CLIENTS, EventsSummary, generate_events
from ingestion import heyreach, salesforge, smartlead, twilio
from ingestion.events import RECEIPT_KEY, EventKind, EventProblem

LEADS = 400
SEED = 11
# Copies of ../shared/contracts: the vendors' documented shapes.
CONTRACTS = Path(__file__).parent / "fixtures" / "contracts"
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
        "positive_reply",
        "negative_reply",
        "dnc_added",
        "linkedin_replied",
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
    from tests.pg import query

    root, summary = landing
    bootstrap(target)

    reports = ingest_event_landing(loader_target(target), root, tmp_path / "dlt")

    read = {kind: n for r in reports for kind, n in r.counts.rows.items()}
    for kind, lines in summary.events.items():
        assert read[kind] == lines, kind
    rejected = sum(r.counts.rejected for r in reports)
    assert rejected == summary.malformed_total + summary.crm.loader_rejections
    # The earlier versions of a statistics row are rows of their own with the row's key.
    assert query(
        target,
        "select count(*) - count(distinct event_key), count(distinct delivery_id) - count(*) "
        "from raw_smartlead.statistics",
    ) == [(summary.versions, 0)]
    assert all(
        "-malformed-" in (rejection.source_file or "")
        or (rejection.source_file or "").startswith("crm/")  # the CRM files' planted rows
        for r in reports
        for rejection in r.counts.rejections
    )


# ---- the Smartlead dialect-B envelope ---------------------------------------------------------


def _contract(name: str) -> list[dict]:
    return [json.loads(x) for x in (CONTRACTS / name).read_text().splitlines() if x.strip()]


def test_dialect_b_bodies_keep_the_contracts_key_order(landing: tuple[Path, EventsSummary]) -> None:
    root, _ = landing
    documented = {
        body["event"]: (list(body), list(body["lead"]))
        for body in _contract("smartlead__webhook.jsonl")
        if "event" in body
    }
    seen: Counter[str] = Counter()
    for _, body, _raw in _lines(root, "smartlead/webhooks"):
        if "event" not in body:
            continue
        keys, lead_keys = documented[body["event"]]
        assert list(body) == keys, body["event"]
        assert list(body["lead"]) == lead_keys, body["event"]
        assert set(body.get("link") or {}) <= {"url", "clicked_at"}
        seen[body["event"]] += 1
    assert {"EMAIL_SENT", "EMAIL_OPENED", "EMAIL_CLICKED", "EMAIL_REPLIED"} <= set(seen)


# ---- earlier versions of statistics rows ------------------------------------------------------

LATER_TIMES = ("open_time", "click_time", "reply_time")
CHANGING = (*LATER_TIMES, "open_count", "click_count", "lead_category", "is_unsubscribed")
CHANGING += ("is_bounced",)


def test_statistics_rows_are_also_written_in_earlier_versions(
    landing: tuple[Path, EventsSummary],
) -> None:
    """Rows that later got an open, a click or a reply also appear as first pulled (times null,
    counts 0), some also in between; every version has the stats_id of its final row, comes
    before it in the same file and never has a field set that the final row lacks."""
    root, summary = landing
    rows: dict[str, list[tuple[str, dict]]] = defaultdict(list)
    for name, row, _raw in _lines(root, "smartlead/statistics"):
        rows[row["stats_id"]].append((name, row))
    versioned = {k: v for k, v in rows.items() if len(v) > 1}
    assert sum(len(v) - 1 for v in versioned.values()) == summary.versions > 0
    assert summary.events["smartlead/statistics"] == sum(len(v) for v in rows.values())
    assert any(len(v) > 2 for v in versioned.values())  # also seen between two changes
    fixed = [k for k in rows[next(iter(rows))][0][1] if k not in CHANGING]
    for versions in versioned.values():
        assert len({name for name, _ in versions}) == 1
        final = versions[-1][1]
        assert any(final[k] for k in LATER_TIMES)
        first = versions[0][1]
        assert all(first[k] is None for k in (*LATER_TIMES, "lead_category"))
        assert first["open_count"] == first["click_count"] == 0
        previous: dict | None = None
        for _, row in versions[:-1]:
            assert row != final and row != previous
            assert [row[k] for k in fixed] == [final[k] for k in fixed]
            for key in (*LATER_TIMES, "lead_category"):
                assert row[key] is None or row[key] == final[key], key
                if previous is not None and previous[key] is not None:
                    assert row[key] == previous[key]
            for key in ("open_count", "click_count", "is_unsubscribed", "is_bounced"):
                assert row[key] <= final[key], key
                assert previous is None or previous[key] <= row[key]
            assert (row["open_time"] is None) == (row["open_count"] == 0)
            assert (row["click_time"] is None) == (row["click_count"] == 0)
            previous = row
    # Rows without any later open, click or reply have only their final version.
    for versions in rows.values():
        if not any(versions[-1][1][k] for k in LATER_TIMES):
            assert len(versions) == 1


# ---- Salesforge: sentiment, do-not-contact and LinkedIn replies --------------------------------

Timeline = list[tuple[datetime, str, dict]]
Salesforge = tuple[dict[tuple, Timeline], list[dict]]


@pytest.fixture(scope="module")
def salesforge_landing(tmp_path_factory: pytest.TempPathFactory) -> Salesforge:
    """Only the client with the two Salesforge sequences (legacy and multichannel), without
    duplicates or late files: every Salesforge webhook per (sequence, contact) in time order,
    and the sequences."""
    clients = [c for c in load_clients(DEFAULT_CLIENTS) if c.slug == "quotaforge"]
    assert clients and len(clients[0].campaigns.salesforge) == 2
    root = tmp_path_factory.mktemp("salesforge") / "landing"
    generate_events(
        root,
        1_500,
        5,
        start=DEFAULT_START,
        clients=clients,
        duplicate_share=0.0,
        late_share=0.0,
        malformed=False,
    )
    keys: Counter[str] = Counter()
    by_contact: dict[tuple, Timeline] = defaultdict(list)
    for _, body, _raw in _lines(root, "salesforge/webhooks"):
        keys[_describe("salesforge/webhooks", body).event_key] += 1
        info = body["webhookInfo"]
        at = datetime.fromisoformat(info["eventTime"])
        by_contact[(body["sequence"]["id"], body["contact"]["id"])].append((at, info["type"], body))
    assert max(keys.values()) == 1  # every delivery its own event
    for timeline in by_contact.values():
        timeline.sort(key=lambda e: e[0])
    sequences = [body for _, body, _ in _lines(root, "salesforge/sequences")]
    return by_contact, sequences


def test_salesforge_new_types_have_the_contracts_envelope(
    salesforge_landing: Salesforge,
) -> None:
    documented = {b["webhookInfo"]["type"]: b for b in _contract("salesforge__webhook.jsonl")}
    # Events of the contact, not of an email: label_changed's envelope (without label{}).
    contact_only = [k for k in documented["label_changed"] if k != "label"]
    expected = {
        "positive_reply": list(documented["email_replied"]),
        "negative_reply": list(documented["email_replied"]),
        "dnc_added": contact_only,
        "linkedin_replied": list(documented["linkedin_replied"]),
    }
    seen: Counter[str] = Counter()
    for timeline in salesforge_landing[0].values():
        for _, kind, body in timeline:
            if kind not in expected:
                continue
            seen[kind] += 1
            assert list(body) == expected[kind], kind
            for part in ("webhookInfo", "workspace", "contact", "sequence", "mailbox"):
                assert list(body[part]) == list(documented["email_replied"][part]), part
            if kind == "linkedin_replied":
                assert list(body["linkedinMessage"]) == ["content", "sentAt"]
    assert set(seen) == set(expected)


def test_salesforge_positive_and_negative_replies_follow_their_email_reply(
    salesforge_landing: Salesforge,
) -> None:
    seen: Counter[str] = Counter()
    for timeline in salesforge_landing[0].values():
        replies = [(at, body) for at, kind, body in timeline if kind == "email_replied"]
        labels = [body["label"]["name"] for _, kind, body in timeline if kind == "label_changed"]
        sentiments = [e for e in timeline if e[1] in ("positive_reply", "negative_reply")]
        assert len(replies) <= 1
        if not replies:
            assert not sentiments and not labels
            continue
        ((replied_at, reply),) = replies
        assert len(labels) == 1
        if labels[0] == "Out Of Office":  # an auto-reply has no sentiment
            assert not sentiments
            continue
        ((at, kind, body),) = sentiments
        assert replied_at < at < replied_at + timedelta(minutes=1)
        assert (kind == "positive_reply") == (labels[0] in ("Interested", "Meeting Booked"))
        assert body["sequenceEmail"] == reply["sequenceEmail"]  # the reply, from the contact
        assert body["sequenceEmail"]["fromEmail"] == body["contact"]["email"]
        assert body["emailSentData"] == reply["emailSentData"]
        seen[kind] += 1
    assert seen["positive_reply"] > 0 and seen["negative_reply"] > 0


def test_salesforge_dnc_added_after_an_unsubscribe_or_a_do_not_contact_reply(
    salesforge_landing: Salesforge,
) -> None:
    causes: Counter[str] = Counter()
    for timeline in salesforge_landing[0].values():
        added = [(at, body) for at, kind, body in timeline if kind == "dnc_added"]
        unsubscribed = [at for at, kind, _ in timeline if kind == "contact_unsubscribed"]
        asked = [
            at
            for at, kind, body in timeline
            if kind == "label_changed" and body["label"]["name"] == "Do Not Contact"
        ]
        assert len(added) == len(unsubscribed) + len(asked) <= 1
        if not added:
            continue
        ((at, body),) = added
        cause = (unsubscribed or asked)[0]
        assert cause < at < cause + timedelta(minutes=1)
        assert "sequenceEmail" not in body and "emailSentData" not in body
        assert body["contact"]["email"]
        assert not [t for t, kind, _ in timeline if kind == "email_sent" and t > at]
        causes["unsubscribe link" if unsubscribed else "reply"] += 1
    assert causes["unsubscribe link"] > 0 and causes["reply"] > 0


def test_salesforge_linkedin_replies_come_from_the_multichannel_sequence(
    salesforge_landing: Salesforge,
) -> None:
    sequences = salesforge_landing[1]
    multichannel = {s["id"] for s in sequences if "nodes" in s}
    assert len(multichannel) == 1 and len(sequences) == 2
    for s in sequences:
        if "nodes" in s:  # it opens with the LinkedIn note the replies answer
            assert [n["channel"] for n in s["nodes"]][:2] == ["linkedin", "email"]
            assert {n["channel"] for n in s["nodes"][1:]} == {"email"}
    shapes: Counter[str] = Counter()
    for (sequence, _contact), timeline in salesforge_landing[0].items():
        linkedin = [(at, body) for at, kind, body in timeline if kind == "linkedin_replied"]
        if not linkedin:
            continue
        assert sequence in multichannel
        ((at, body),) = linkedin
        message = body["linkedinMessage"]
        assert message["content"].strip()
        assert message["sentAt"].endswith("Z")
        assert datetime.fromisoformat(message["sentAt"].replace("Z", "+00:00")) == at
        kinds = {kind for _, kind, _ in timeline}
        sent = [t for t, kind, _ in timeline if kind == "email_sent"]
        assert sent and min(sent) < at
        replied = [t for t, kind, _ in timeline if kind == "email_replied"]
        if replied:  # answered by email (positively) and on LinkedIn too
            assert replied[0] < at and "positive_reply" in kinds
            shapes["after an email reply"] += 1
        else:  # answered only on LinkedIn: the sequence stops there
            assert max(sent) < at
            assert not kinds & {"email_bounced", "contact_unsubscribed", "dnc_added"}
            shapes["instead of an email reply"] += 1
    assert shapes["after an email reply"] > 0 and shapes["instead of an email reply"] > 0
