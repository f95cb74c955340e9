"""Late and duplicate event deliveries from a generated landing folder, and a fingerprint of the
event marts: what the replay test and the engagement benchmark need to prove that an
incremental build after late events equals a build from scratch.

``hold_back`` moves a seeded share of every event file's lines to the same relative path under
another folder, adds second deliveries of some lines left behind, and shuffles what it moved:
loading that folder later is what a receiver sees when the network delays, repeats and
reorders deliveries.
"""

from __future__ import annotations

import random
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
}


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


def fingerprints(target: Target) -> dict[str, tuple[int, str]]:
    """Each mart's row count and an md5 of all its rows in key order."""
    out = {}
    with cursor(target) as cur:
        for table, key in MARTS.items():
            cur.execute(
                f"select count(*), md5(coalesce(string_agg(t::text, '|' order by {key}), '')) "
                f"from {table} as t"
            )
            out[table] = cur.fetchone()
    return out
