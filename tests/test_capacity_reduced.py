"""Lowering a client's capacity: the allocator releases the newest extras (``capacity_reduced``).

Pure planning tests on in-memory frames, then one small pool on a real PostgreSQL: allocate,
lower the capacity, sync, allocate again, check the releases, the output and the dbt build.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from cis.bootstrap import bootstrap, ensure_ops_schema
from cis.clients import Client, Icp, load_clients
from cis.db import Target, cursor, transformer_target
from cis.generate import generate_landing
from cis.jobs.allocate import allocate
from cis.jobs.clients_sync import sync_clients
from cis.jobs.ingest import ingest_landing
from cis.pool.allocation import (
    ASSIGNMENT_COLUMNS,
    CAPACITY_REDUCED,
    AllocationSettings,
    over_capacity_releases,
    plan_allocation,
)
from cis.transform import run_dbt
from tests.event_builds import DATA_TESTED, MODELS_ONLY
from tests.pg import embedded_server, fresh_database, query

NOW = pd.Timestamp("2025-06-01 12:00", tz="UTC")
BROAD = Icp(seniorities=("vp", "director"))


# --- pure planning --------------------------------------------------------------------------


def lead_id(i: int) -> str:
    return str(uuid.UUID(int=i))


def make_lead(i: int) -> dict:
    return {
        "lead_id": lead_id(i),
        "email": f"person{i}@company{i}.com",
        "email_status": "verified",
        "seniority": "vp",
        "company_name": f"Company {i}",
        "company_domain": f"company{i}.com",
        "pool_status": "available",
    }


def make_client(slug: str = "northwind", **overrides: object) -> Client:
    values: dict = {"slug": slug, "name": slug.title(), "capacity": 10, "icp": BROAD}
    values.update(overrides)
    return Client(**values)


def held(
    i: int, client: Client, days_ago: float, status: str = "active", assignment_id: str = ""
) -> dict:
    return {
        "assignment_id": assignment_id or f"a{i}",
        "lead_id": lead_id(i),
        "client_id": str(client.client_id),
        "assignment_status": status,
        "assigned_at": NOW - pd.Timedelta(days=days_ago),
        "released_at": pd.NaT,
        "release_reason": None,
        "converted_at": NOW if status == "converted" else pd.NaT,
    }


def history(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(ASSIGNMENT_COLUMNS))


def five_held(client: Client) -> pd.DataFrame:
    """Leads 1-2 assigned 10 days ago, 3-5 two days ago (one run: same assigned_at)."""
    return history(
        [
            held(1, client, 10),
            held(2, client, 10),
            held(5, client, 2),
            held(3, client, 2),
            held(4, client, 2),
        ]
    )


def test_newest_extras_released_latest_first_ties_by_lead_id() -> None:
    client = make_client(capacity=3)
    releases = over_capacity_releases(five_held(client), client)
    # Two extras, both from the newest run: of its leads 3, 4, 5 the larger ids go first.
    assert [(r.assignment_id, r.reason) for r in releases] == [
        ("a4", CAPACITY_REDUCED),
        ("a5", CAPACITY_REDUCED),
    ]
    assert {r.client_id for r in releases} == {str(client.client_id)}
    two = over_capacity_releases(five_held(client), replace(client, capacity=1))
    assert [r.assignment_id for r in two] == ["a2", "a3", "a4", "a5"]
    assert len(over_capacity_releases(five_held(client), replace(client, capacity=0))) == 5
    assert over_capacity_releases(five_held(client), replace(client, capacity=5)) == []
    assert over_capacity_releases(None, client) == []


def test_only_active_clients_and_only_active_assignments() -> None:
    client = make_client(capacity=2)
    rows = five_held(client)
    # Paused keeps what it holds; cancelled releases everything, as client_cancelled.
    assert over_capacity_releases(rows, replace(client, status="paused")) == []
    assert over_capacity_releases(rows, replace(client, status="cancelled")) == []
    other = make_client("ledgerly", capacity=0)
    mixed = history(
        [
            held(1, client, 10),
            held(2, client, 9, status="converted"),
            held(3, client, 8, status="converted"),
            held(4, client, 1),
            held(5, other, 0),  # another client's lead never counts
        ]
    )
    # Converted assignments neither count nor go: two active within a capacity of two.
    assert over_capacity_releases(mixed, client) == []
    assert [
        r.assignment_id for r in over_capacity_releases(mixed, replace(client, capacity=1))
    ] == ["a4"]


def test_plan_releases_extras_and_does_not_hand_them_on_in_the_same_run() -> None:
    shrunk = make_client("northwind", capacity=3)
    paused = make_client("paused_co", status="paused", capacity=1)
    hungry = make_client("ledgerly", capacity=10)
    rows = pd.concat(
        [five_held(shrunk), history([held(20, paused, 3, assignment_id="p20")])],
        ignore_index=True,
    )
    rows = pd.concat([rows, history([held(21, paused, 1, assignment_id="p21")])], ignore_index=True)
    leads = pd.DataFrame([make_lead(i) for i in (1, 2, 3, 4, 5, 20, 21, 30)])
    for settings in (AllocationSettings(), AllocationSettings(cooldown_days=0)):
        plan = plan_allocation(leads, rows, [shrunk, paused, hungry], NOW, settings)
        assert [(r.assignment_id, r.reason) for r in plan.release] == [
            ("a4", CAPACITY_REDUCED),
            ("a5", CAPACITY_REDUCED),
        ]
        # The released leads are still held when the run plans: only the free lead moves.
        assert [(p.lead_id, p.client_slug) for p in plan.assign] == [(lead_id(30), "ledgerly")]
        s = plan.summary_for("northwind")
        assert s is not None
        assert (s.active_before, s.released_now, s.assigned_now, s.open_capacity_after) == (
            5,
            2,
            0,
            0,
        )
        p = plan.summary_for("paused_co")
        assert p is not None and (p.active_before, p.released_now) == (2, 0)

    # Applied (releases at NOW, the new assignment active), planning again changes nothing.
    plan = plan_allocation(leads, rows, [shrunk, paused, hungry], NOW)
    applied = rows.copy()
    applied["released_at"] = pd.to_datetime(applied["released_at"], utc=True)
    for release in plan.release:
        hit = applied["assignment_id"] == release.assignment_id
        applied.loc[hit, ["assignment_status", "release_reason"]] = ["released", release.reason]
        applied.loc[hit, "released_at"] = NOW
    new = held(30, hungry, 0, assignment_id="n30")
    applied = pd.concat([applied, history([new])], ignore_index=True)
    again = plan_allocation(leads, applied, [shrunk, paused, hungry], NOW)
    assert again.is_empty
    # Once the paused client is active again, its newest extra goes.
    resumed = plan_allocation(leads, applied, [shrunk, replace(paused, status="active")], NOW)
    assert [(r.assignment_id, r.reason) for r in resumed.release] == [("p21", CAPACITY_REDUCED)]


# --- on PostgreSQL --------------------------------------------------------------------------

LEADS = 300
SLUG = "capco"


def capco(capacity: int, status: str = "active") -> Client:
    """A client that takes nearly any lead with an email (no ICP, no minimum score)."""
    return Client(
        SLUG,
        "Cap Co",
        status=status,
        capacity=capacity,
        min_icp_score=0.0,
        allowed_email_statuses=("verified", "extrapolated"),
    )


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A small pool with the marts built and one client synced."""
    work = tmp_path_factory.mktemp("capacity")
    target = fresh_database(embedded_server(), "capacity_reduced")
    bootstrap(target)
    landing = work / "landing"
    generate_landing(landing, LEADS, seed=7)
    ingest_landing(target, landing, pipelines_dir=work / "dlt")
    sync_clients(target, [capco(10)])
    build(target, work, tests=False)
    return {"target": target, "work": work}


def build(target: Target, work: Path, select: str | None = None, tests: bool = True) -> None:
    # Seeds and models only but for the final build: the data tests run once, on that.
    args = [*(DATA_TESTED if tests else MODELS_ONLY), *(["--select", select] if select else [])]
    run_dbt(args, transformer_target(target), work_dir=work / "dbt")


def active_ids(target: Target) -> list[str]:
    return sorted(
        r[0]
        for r in query(
            target,
            "select a.lead_id::text from cis.lead_assignments a join cis.clients c "
            "using (client_id) where c.client_slug = %s and a.assignment_status = 'active'",
            (SLUG,),
        )
    )


def run_ids(target: Target, run_id: str) -> list[str]:
    """The leads one run assigned, sorted as the planner sorts lead ids (str order)."""
    return sorted(
        r[0]
        for r in query(
            target,
            "select lead_id::text from cis.lead_assignments where allocation_run_id = %s",
            (run_id,),
        )
    )


def step(target: Target, client: Client, when: datetime):
    sync_clients(target, [client])
    return allocate(target, [client], now=when)


def test_lowering_capacity_releases_the_newest_extras(pool: dict, tmp_path: Path) -> None:
    target = pool["target"]
    start = datetime.now(tz=UTC).replace(microsecond=0) - timedelta(days=3)

    first = step(target, capco(10), start)
    second = step(target, capco(20), start + timedelta(days=1))
    assert (first.inserted, second.inserted) == (10, 10)
    newest_run = run_ids(target, second.run_id)  # one run: all share one assigned_at

    lowered_at = start + timedelta(days=2)
    lowered = step(target, capco(14), lowered_at)
    assert (lowered.released, lowered.inserted) == (6, 0)
    released = query(
        target,
        "select lead_id::text, release_reason, released_at from cis.lead_assignments "
        "where assignment_status = 'released'",
    )
    # The newest run's assignments, ties broken by the larger lead id.
    assert sorted(r[0] for r in released) == newest_run[-6:]
    assert {(r[1], r[2]) for r in released} == {(CAPACITY_REDUCED, lowered_at)}
    assert active_ids(target) == sorted(run_ids(target, first.run_id) + newest_run[:4])
    assert lowered.capacity_notes == [
        "capco: capacity lowered to 14, released the 6 newest assignments (capacity_reduced)"
    ]
    summary, released_count = query(
        target,
        "select summary, released_count from cis.allocation_runs where allocation_run_id = %s",
        (lowered.run_id,),
    )[0]
    assert released_count == 6 and summary["capacity_notes"] == lowered.capacity_notes
    assert summary["clients"][0]["released_now"] == 6

    again = step(target, capco(14), lowered_at + timedelta(hours=1))
    assert (again.released, again.inserted, again.capacity_notes) == (0, 0, [])
    assert len(active_ids(target)) == 14

    # Paused: it keeps what it holds, over capacity or not, and the run says so.
    paused = step(target, capco(11, status="paused"), lowered_at + timedelta(hours=2))
    assert (paused.released, paused.inserted) == (0, 0)
    assert len(active_ids(target)) == 14
    assert len(paused.capacity_notes) == 1 and "paused" in paused.capacity_notes[0]

    # Active again, through the CLI (it syncs the clients file first): the 3 newest go.
    from typer.testing import CliRunner

    from cis.cli import app

    clients_file = tmp_path / "clients.yml"
    clients_file.write_text(
        json.dumps(
            {
                "clients": [
                    {
                        "slug": SLUG,
                        "name": "Cap Co",
                        "capacity": 11,
                        "min_icp_score": 0,
                        "allowed_email_statuses": ["verified", "extrapolated"],
                    }
                ]
            }
        )
    )
    assert load_clients(clients_file) == [capco(11)]
    result = CliRunner().invoke(
        app, ["allocate", "--clients", str(clients_file)], env={"CIS_DATABASE_URL": target.url}
    )
    assert result.exit_code == 0, result.output
    printed = " ".join(result.output.split())
    assert (
        "capco: capacity lowered to 11, released the 3 newest assignments (capacity_reduced)"
        in printed
    ), result.output
    assert active_ids(target) == sorted(run_ids(target, first.run_id) + newest_run[:1])

    # The marts accept the new reason: contracts (check constraints) and accepted_values.
    build(target, pool["work"], "stg_cis__lead_assignments+")
    assert query(
        target,
        "select count(*) from pool.fct_lead_assignments where release_reason = %s",
        (CAPACITY_REDUCED,),
    ) == [(9,)]


def test_ops_schema_upgrades_the_release_reason_check(target: Target) -> None:
    bootstrap(target)
    definition = (
        "select oid, pg_get_constraintdef(oid) from pg_constraint "
        "where conrelid = 'cis.lead_assignments'::regclass "
        "and conname = 'lead_assignments_release_reason_check'"
    )
    with cursor(target) as cur:  # a database created before the new reason
        cur.execute(
            "alter table cis.lead_assignments drop constraint lead_assignments_release_reason_check;"
            "alter table cis.lead_assignments add constraint lead_assignments_release_reason_check "
            "check (release_reason in ('client_cancelled', 'lead_request', 'manual', "
            "'reallocation', 'deletion_request', 'expired'))"
        )
    assert CAPACITY_REDUCED not in query(target, definition)[0][1]
    ensure_ops_schema(target)
    upgraded = query(target, definition)
    assert len(upgraded) == 1 and CAPACITY_REDUCED in upgraded[0][1]
    ensure_ops_schema(target)  # later runs leave the constraint alone
    assert query(target, definition) == upgraded
