"""What the engagement benchmark holds back to arrive later (cis.generate.late_events): the
lines that reached the receiver last, by their receipt or event time, and nothing it cannot
date."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from cis.generate.late_events import LATE_ARRIVAL, arrival_time, hold_back_newest


def _line(**fields: object) -> str:
    return json.dumps(fields) + "\n"


def test_arrival_is_the_receipt_time_else_the_event_time() -> None:
    received = _line(
        event_timestamp="2025-02-01T10:00:00+00:00",
        _cis_receipt={"received_at": "2025-02-03T08:00:00+00:00"},
    )
    assert arrival_time(received, late_file=False) == datetime(2025, 2, 3, 8, tzinfo=UTC)
    salesforge = _line(webhookInfo={"eventTime": "2025-02-01T10:00:00Z"}, timestamp="x")
    assert arrival_time(salesforge, late_file=False) == datetime(2025, 2, 1, 10, tzinfo=UTC)
    statistics = _line(sent_time="2025-02-01T10:00:00+00:00", reply_time="2025-02-02T09:30:00Z")
    assert arrival_time(statistics, late_file=False) == datetime(2025, 2, 2, 9, 30, tzinfo=UTC)
    late = _line(event_timestamp="2025-02-01T10:00:00+00:00")
    assert arrival_time(late, late_file=True) == datetime(2025, 2, 1, 10, tzinfo=UTC) + LATE_ARRIVAL


def test_lines_without_a_readable_time_have_no_arrival() -> None:
    for line in (
        "{not json\n",
        "[1, 2]\n",
        _line(event_timestamp="09/02/2025 14:03"),
        _line(event_timestamp="2025-02-01T10:00:00"),  # no zone: not an instant
        _line(event_type="EMAIL_SENT"),
    ):
        assert arrival_time(line, late_file=False) is None, line


def test_the_newest_share_moves_and_undated_lines_and_snapshots_stay(tmp_path: Path) -> None:
    landing, later = tmp_path / "landing", tmp_path / "later"
    webhooks = landing / "smartlead" / "webhooks"
    webhooks.mkdir(parents=True)
    days = [
        _line(event_timestamp=f"2025-02-{day:02d}T12:00:00+00:00", n=day) for day in range(1, 9)
    ]
    (webhooks / "2025-02-01T000000Z-events-0001.jsonl").write_text(
        "".join(days[:6]) + "{broken\n" + _line(event_type="EMAIL_SENT")
    )
    # A late line: its event is on the 6th, but it arrives 3 hours later than that.
    late_line = _line(event_timestamp="2025-02-06T10:00:00+00:00", n="late")
    (webhooks / "2025-02-07T000000Z-late-0001.jsonl").write_text(late_line)
    sms = landing / "sms" / "events"
    sms.mkdir(parents=True)
    (sms / "2025-02-01T000000Z-events-0001.jsonl").write_text("".join(days[6:]))
    campaigns = landing / "smartlead" / "campaigns"
    campaigns.mkdir(parents=True)
    snapshot = _line(updated_at="2025-03-01T00:00:00+00:00", id=1)
    (campaigns / "2025-02-01T000000Z-campaigns-0001.jsonl").write_text(snapshot)

    # 9 dated lines: the newest 4 (the 6th, the late line at 13:00 on the 6th, the 7th, the 8th).
    assert hold_back_newest(landing, later, share=0.4) == 4

    moved_webhooks = later / "smartlead" / "webhooks"
    assert (moved_webhooks / "2025-02-01T000000Z-events-0001.jsonl").read_text() == days[5]
    assert (moved_webhooks / "2025-02-07T000000Z-late-0001.jsonl").read_text() == late_line
    assert (later / "sms" / "events" / "2025-02-01T000000Z-events-0001.jsonl").read_text() == (
        "".join(days[6:])
    )
    assert (webhooks / "2025-02-01T000000Z-events-0001.jsonl").read_text() == (
        "".join(days[:5]) + "{broken\n" + _line(event_type="EMAIL_SENT")
    )
    assert (webhooks / "2025-02-07T000000Z-late-0001.jsonl").read_text() == ""
    assert not (later / "smartlead" / "campaigns").exists()
    assert (campaigns / "2025-02-01T000000Z-campaigns-0001.jsonl").read_text() == snapshot


def test_nothing_moves_for_a_share_of_zero(tmp_path: Path) -> None:
    webhooks = tmp_path / "landing" / "smartlead" / "webhooks"
    webhooks.mkdir(parents=True)
    text = _line(event_timestamp="2025-02-01T12:00:00+00:00")
    (webhooks / "2025-02-01T000000Z-events-0001.jsonl").write_text(text)
    assert hold_back_newest(tmp_path / "landing", tmp_path / "later", share=0) == 0
    assert not (tmp_path / "later").exists()
    assert (webhooks / "2025-02-01T000000Z-events-0001.jsonl").read_text() == text
