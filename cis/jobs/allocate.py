"""``cis allocate``: give available pool leads to clients, exclusively.

Exclusivity is the database's job: a partial unique index allows one active (or converted)
assignment per lead, and inserts skip any lead another allocator took first. An advisory lock
also serialises allocators so capacity, and each client's daily new-lead cap (assignments whose
``assigned_at`` falls on the client's local day, read inside the same transaction), are counted
once. The releases of the plan (a cancelled client's leads, the newest extras of an active client
whose capacity was lowered) are written in the same transaction, under the same lock.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd
from psycopg2.extras import execute_values

from cis.clients import Client
from cis.db import Target, connect, reader_target
from cis.jobs.frames import read_assignments, read_leads
from cis.pool.allocation import (
    CAPACITY_REDUCED,
    AllocationPlan,
    AllocationSettings,
    plan_allocation,
)
from cis.pool.widen import describe_shortfall, widening_hints

ALLOCATOR_LOCK = "cis.allocate"


@dataclass
class AllocationOutcome:
    run_id: str
    plan: AllocationPlan
    inserted: int
    skipped_taken: int  # planned leads another allocator held first (the index refused them)
    released: int
    shortfall_notes: list[str] = field(default_factory=list)
    # One line per client over its capacity: the newest extras released (capacity_reduced), or
    # kept because the client is paused.
    capacity_notes: list[str] = field(default_factory=list)


def allocate(
    target: Target,
    clients: Sequence[Client],
    settings: AllocationSettings | None = None,
    now: datetime | None = None,
    assigned_by: str = "allocator",
    use_lock: bool = True,
    leads: pd.DataFrame | None = None,
) -> AllocationOutcome:
    """Plan and apply one allocation run; safe to run concurrently and to re-run."""
    settings = settings or AllocationSettings()
    when = now or datetime.now(tz=UTC)
    reader = reader_target(target)  # the marts are read as the transformer (see cis.db)
    pool = read_leads(reader) if leads is None else leads
    run_id = str(uuid.uuid4())
    conn = connect(target, autocommit=False)
    try:
        with conn, conn.cursor() as cur:
            if use_lock:
                cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (ALLOCATOR_LOCK,))
            # Read after taking the lock: every earlier allocator has committed.
            assignments = read_assignments(reader)
            plan = plan_allocation(pool, assignments, clients, when, settings)
            cur.execute(
                "insert into cis.allocation_runs (allocation_run_id, started_at) values (%s, %s)",
                (run_id, when),
            )
            released = 0
            capacity_released: dict[str, int] = {}
            for release in plan.release:
                cur.execute(
                    "update cis.lead_assignments set assignment_status = 'released', "
                    "released_at = %s, release_reason = %s "
                    "where assignment_id = %s and assignment_status = 'active'",
                    (when, release.reason, release.assignment_id),
                )
                released += cur.rowcount
                if release.reason == CAPACITY_REDUCED:
                    capacity_released[release.client_id] = (
                        capacity_released.get(release.client_id, 0) + cur.rowcount
                    )
            rows = [
                (a.lead_id, a.client_id, round(float(a.icp_score), 4), assigned_by, when, run_id)
                for a in plan.assign
            ]
            inserted = (
                execute_values(
                    cur,
                    "insert into cis.lead_assignments (lead_id, client_id, icp_score, assigned_by, "
                    "assigned_at, allocation_run_id) values %s "
                    "on conflict (lead_id) where assignment_status in ('active', 'converted') "
                    "do nothing returning assignment_id",
                    rows,
                    fetch=True,
                )
                if rows
                else []
            )
            notes = _shortfall_notes(plan, pool, assignments, clients, when, settings)
            notes += _daily_cap_notes(plan)
            capacity_notes = _capacity_notes(plan, clients, capacity_released)
            cur.execute(
                "update cis.allocation_runs set finished_at = clock_timestamp(), "
                "assigned_count = %s, released_count = %s, summary = %s "
                "where allocation_run_id = %s",
                (
                    len(inserted),
                    released,
                    json.dumps(_summary(plan, notes, capacity_notes)),
                    run_id,
                ),
            )
        return AllocationOutcome(
            run_id,
            plan,
            len(inserted),
            len(rows) - len(inserted),
            released,
            notes,
            capacity_notes,
        )
    finally:
        conn.close()


def _shortfall_notes(plan, pool, assignments, clients, when, settings) -> list[str]:
    by_slug = {c.slug: c for c in clients}
    notes = []
    for summary in plan.summaries:
        if summary.shortfall > 0 and summary.status == "active":
            client = by_slug[summary.client_slug]
            hints = widening_hints(pool, assignments, client, when, settings, summary.shortfall)
            notes.append(describe_shortfall(summary, hints))
    return notes


def _daily_cap_notes(plan: AllocationPlan) -> list[str]:
    """One line per active client whose daily new-lead cap holds back open capacity."""
    notes = []
    for s in plan.summaries:
        if (
            s.status == "active"
            and s.daily_new_leads is not None
            and s.daily_new_leads_left == 0
            and s.open_capacity_after > 0
        ):
            notes.append(
                f"{s.client_slug} reached its daily cap of {s.daily_new_leads} new leads "
                f"({s.assigned_today_before + s.assigned_now} today); "
                f"{s.open_capacity_after} open slots wait for tomorrow."
            )
    return notes


def _capacity_notes(
    plan: AllocationPlan, clients: Sequence[Client], released: dict[str, int]
) -> list[str]:
    """One line per client holding more active assignments than its capacity.

    ``released`` counts the ``capacity_reduced`` releases written, by client id. A paused client
    over capacity keeps its leads (paused clients keep what they hold); the line says so.
    """
    ids = {c.slug: str(c.client_id) for c in clients}
    notes = []
    for s in plan.summaries:
        extra = s.active_before - s.capacity
        count = released.get(ids.get(s.client_slug, ""), 0)
        if s.status == "active" and count > 0:
            noun = "assignment" if count == 1 else "assignments"
            notes.append(
                f"{s.client_slug}: capacity lowered to {s.capacity}, released the {count} "
                f"newest {noun} ({CAPACITY_REDUCED})"
            )
        elif s.status == "paused" and extra > 0:
            notes.append(
                f"{s.client_slug}: paused with {s.active_before} active assignments, {extra} over "
                f"its capacity of {s.capacity}; kept while paused, the newest extras are "
                f"released ({CAPACITY_REDUCED}) once it is active again"
            )
    return notes


def _summary(plan: AllocationPlan, notes: list[str], capacity_notes: list[str]) -> dict:
    return {
        "clients": [
            {
                "client": s.client_slug,
                "assigned_now": s.assigned_now,
                "open_capacity_after": s.open_capacity_after,
                "shortfall": s.shortfall,
                "released_now": s.released_now,
                "daily_new_leads": s.daily_new_leads,
                "assigned_today_before": s.assigned_today_before,
                "daily_new_leads_left": s.daily_new_leads_left,
            }
            for s in plan.summaries
        ],
        "shortfall_notes": notes,
        "capacity_notes": capacity_notes,
    }


def convert_assignment(target: Target, lead_id: str, client_id: str) -> int:
    """Mark a client's active assignment of a lead converted: it stays with that client for good."""
    conn = connect(target)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "update cis.lead_assignments set assignment_status = 'converted', "
                "converted_at = now() where lead_id = %s and client_id = %s "
                "and assignment_status = 'active'",
                (lead_id, client_id),
            )
            return cur.rowcount
    finally:
        conn.close()


def release_assignment(target: Target, lead_id: str, reason: str = "manual") -> int:
    conn = connect(target)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "update cis.lead_assignments set assignment_status = 'released', "
                "released_at = now(), release_reason = %s "
                "where lead_id = %s and assignment_status = 'active'",
                (reason, lead_id),
            )
            return cur.rowcount
    finally:
        conn.close()
