"""Replaying the same landing files, twice or in another order, gives identical engagement and
content marts: nothing in them depends on the order or the number of times files arrive."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cis.bootstrap import bootstrap
from cis.clients import load_clients
from cis.db import Target, transformer_target
from cis.generate import generate_landing
from cis.generate.events import DEFAULT_CLIENTS
from cis.jobs.clients_sync import sync_clients
from cis.jobs.ingest import ingest_landing
from cis.transform import run_dbt
from tests.pg import embedded_server, fresh_database, query

MARTS = {
    "engagement.fct_email_events": "email_event_id",
    "engagement.fct_activities": "activity_id",
    "engagement.fct_activity_engagement": "activity_id",
    "content.dim_templates": "template_id",
    "content.dim_ab_tests": "ab_test_id",
    "content.fct_ab_test_results": "ab_test_id, arm_number",
}
EVENT_KINDS = ("smartlead", "salesforge", "linkedin", "sms")


def fingerprints(target: Target) -> dict[str, tuple[int, str]]:
    return {
        table: query(
            target,
            f"select count(*), md5(coalesce(string_agg(t::text, '|' order by {key}), '')) "
            f"from {table} as t",
        )[0]
        for table, key in MARTS.items()
    }


def build(target: Target, folders: list[Path], work: Path) -> dict[str, tuple[int, str]]:
    bootstrap(target)
    sync_clients(target, load_clients(DEFAULT_CLIENTS))
    for folder in folders:
        ingest_landing(target, folder, pipelines_dir=work / "dlt")
    # Models and seeds only: the data and unit tests run in test_engagement_marts; here what
    # counts is what the marts hold.
    run_dbt(
        [
            "build",
            "--quiet",
            "--exclude-resource-type",
            "test",
            "--exclude-resource-type",
            "unit_test",
        ],
        transformer_target(target),
        work_dir=work / "dbt",
    )
    return fingerprints(target)


def split_events(landing: Path, later: Path) -> int:
    """Move every other event file (by name) to the same path under ``later``."""
    moved = 0
    for kind in EVENT_KINDS:
        for number, path in enumerate(sorted((landing / kind).rglob("*.jsonl"))):
            if number % 2 == 0:
                continue
            target = later / path.relative_to(landing)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target)
            moved += 1
    return moved


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("replay") / "landing"
    generate_landing(folder, 250, seed=5, events=True)
    return folder


def test_replaying_twice_or_in_another_order_gives_identical_marts(
    landing: Path, tmp_path: Path
) -> None:
    server = embedded_server()
    once = build(fresh_database(server, "replay_once"), [landing], tmp_path / "once")
    assert all(rows > 0 for rows, _digest in once.values())

    # The same files loaded twice: the second load reads nothing new and changes nothing.
    twice = build(fresh_database(server, "replay_twice"), [landing, landing], tmp_path / "twice")
    assert twice == once

    # Half the event files first, then the Apollo pulls with the other half, from copies in
    # other folders: other file paths, other load order, same lines.
    first, second = tmp_path / "first", tmp_path / "second"
    shutil.copytree(landing, second)
    assert split_events(second, first) > 0
    reordered = build(
        fresh_database(server, "replay_reordered"), [first, second], tmp_path / "reordered"
    )
    assert reordered == once
