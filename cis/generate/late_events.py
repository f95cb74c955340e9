"""Late and duplicate event deliveries from a generated landing folder, and a fingerprint of the
event marts: what the replay test and the engagement benchmark need to prove that an
incremental build after late events equals a build from scratch.

``hold_back`` moves a seeded share of every event file's lines to the same relative path under
another folder, adds second deliveries of some lines left behind, and shuffles what it moved:
loading that folder later is what a receiver sees when the network delays, repeats and
reorders deliveries. ``hold_back_newest`` moves the lines that arrived last instead: what the
next day's deliveries look like (the newest events, with the late and repeated deliveries that
arrive among them).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

from cis.db import Target, cursor

EVENT_KINDS = ("smartlead", "salesforge", "linkedin", "sms")
# Folders of campaign and sequence snapshots (not events): a late one changes the templates,
# which every person's activities read.
SNAPSHOT_FOLDERS = ("smartlead/campaigns", "salesforge/sequences")
# Each event and content mart, by the columns that order its rows.
MARTS = {
    "engagement.fct_email_events": "email_event_id",
    "engagement.fct_activities": "activity_id",
    "engagement.fct_activity_engagement": "activity_id",
    "engagement.fct_contact_events": "contact_event_id",
    "content.dim_templates": "template_id",
    "content.dim_ab_tests": "ab_test_id",
    "content.fct_ab_test_results": "ab_test_id, arm_number",
    "threads.fct_thread_messages": "thread_message_id",
    "threads.fct_replies": "reply_id",
    "threads.fct_conversation_threads": "thread_id",
}
# Columns a fingerprint leaves out: when the build that wrote the row started (a row that came
# out the same keeps its first stamp).
UNCOMPARED = {"threads.fct_conversation_threads": ("status_as_of",)}


def hold_back(landing: Path, later: Path, share: float, seed: int, snapshots: bool = True) -> int:
    """Move a seeded ``share`` of every event file's lines under ``later`` (same relative
    paths), plus second deliveries of a fifth as many of the lines kept, shuffled; the number
    of lines written there. ``snapshots=False`` leaves campaign and sequence snapshots alone."""
    rng = random.Random(seed)
    moved = 0
    for kind in EVENT_KINDS:
        for path in sorted((landing / kind).rglob("*.jsonl")):
            folder = path.parent.relative_to(landing).as_posix()
            if not snapshots and folder in SNAPSHOT_FOLDERS:
                continue
            lines = path.read_text().splitlines(keepends=True)
            keep: list[str] = []
            hold: list[str] = []
            for line in lines:
                (hold if rng.random() < share else keep).append(line)
            hold += [line for line in keep if rng.random() < share / 5]
            rng.shuffle(hold)
            if not hold:
                continue
            path.write_text("".join(keep))
            target = later / path.relative_to(landing)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("".join(hold))
            moved += len(hold)
    return moved


# Where each vendor's line says when its event happened (the generator's shapes, as documented in
# ../shared/contracts): a webhook's event time, a statistics row's latest time.
EVENT_TIME_FIELDS = ("event_timestamp", "timestamp", "time_sent", "time_opened")
STATISTICS_TIME_FIELDS = ("sent_time", "open_time", "click_time", "reply_time")
# A line in a generator's late file arrived this long after its event (its lags are 1 to 5 hours).
LATE_ARRIVAL = timedelta(hours=3)


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def arrival_time(line: str, late_file: bool) -> datetime | None:
    """When a landing line reached the receiver: its receipt time when it has one, else its
    event time (plus ``LATE_ARRIVAL`` in a late file); None when it names no readable time."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    receipt = record.get("_cis_receipt")
    if isinstance(receipt, dict) and (received := _parse_time(receipt.get("received_at"))):
        return received
    info = record.get("webhookInfo")
    candidates = [record.get(field) for field in EVENT_TIME_FIELDS]
    if isinstance(info, dict):
        candidates.insert(0, info.get("eventTime"))
    happened = next((t for t in map(_parse_time, candidates) if t is not None), None)
    if happened is None:
        times = [t for t in map(_parse_time, (record.get(f) for f in STATISTICS_TIME_FIELDS)) if t]
        happened = max(times, default=None)
    if happened is None:
        return None
    return happened + LATE_ARRIVAL if late_file else happened


def hold_back_newest(landing: Path, later: Path, share: float) -> int:
    """Move the event lines that arrived last (the newest ``share`` of the lines with a readable
    time, by ``arrival_time``) under ``later`` (same relative paths, in file order); campaign and
    sequence snapshots stay. The number of lines moved."""
    files: list[tuple[Path, list[str], list[datetime | None]]] = []
    for kind in EVENT_KINDS:
        for path in sorted((landing / kind).rglob("*.jsonl")):
            if path.parent.relative_to(landing).as_posix() in SNAPSHOT_FOLDERS:
                continue
            lines = path.read_text().splitlines(keepends=True)
            late = "-late-" in path.name
            files.append((path, lines, [arrival_time(line, late) for line in lines]))
    times = sorted(t for _, _, arrivals in files for t in arrivals if t is not None)
    if not times or share <= 0:
        return 0
    cutoff = times[max(0, int(len(times) * (1 - share)))]
    moved = 0
    for path, lines, arrivals in files:
        hold = [
            line for line, t in zip(lines, arrivals, strict=True) if t is not None and t >= cutoff
        ]
        if not hold:
            continue
        keep = [line for line, t in zip(lines, arrivals, strict=True) if t is None or t < cutoff]
        path.write_text("".join(keep))
        target = later / path.relative_to(landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(hold))
        moved += len(hold)
    return moved


def fingerprints(target: Target) -> dict[str, tuple[int, str]]:
    """Each mart's row count and an md5 of all its rows in key order (without the columns of
    :data:`UNCOMPARED`)."""
    out = {}
    with cursor(target) as cur:
        for table, key in MARTS.items():
            left_out = UNCOMPARED.get(table, ())
            row = f"(to_jsonb(t) - array{list(left_out)}::text[])::text" if left_out else "t::text"
            cur.execute(
                f"select count(*), md5(coalesce(string_agg({row}, '|' order by {key}), '')) "
                f"from {table} as t"
            )
            out[table] = cur.fetchone()
    return out
