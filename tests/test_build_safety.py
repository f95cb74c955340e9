"""Two builds of one database at once, and a build killed half-way: the marts stay whole and
readable throughout, and the next build completes with the same rows."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from cis.db import Target, connect, project_root, transformer_target
from cis.generate import generate_landing
from cis.generate.late_events import fingerprints
from cis.jobs.ingest import ingest_landing
from cis.transform import dbt_command, run_dbt
from tests.event_builds import build_models, client_database
from tests.pg import query

# The engagement and content marts (and the tables between them) from scratch: enough work to
# take a while (an incremental run with nothing new is over in moments).
REBUILD = [
    "run",
    "--quiet",
    "--full-refresh",
    "--select",
    "path:dbt_project/models/intermediate/engagement",
    "path:dbt_project/models/intermediate/content",
    "path:dbt_project/models/marts/engagement",
    "path:dbt_project/models/marts/content",
]


def leftovers(target: Target) -> list[str]:
    """Tables dbt builds beside a mart before swapping them in (``__dbt_tmp``, ``__dbt_backup``)."""
    rows = query(
        target,
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_name like '%%__dbt_tmp' or table_name like '%%__dbt_backup'",
    )
    return [name for (name,) in rows]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Target, Path, dict]:
    work = tmp_path_factory.mktemp("build-safety")
    generate_landing(work / "landing", 300, seed=11, events=True)
    target = client_database("build_safety")
    ingest_landing(target, work / "landing", pipelines_dir=work / "dlt")
    build_models(target, work / "dbt")
    before = fingerprints(target)
    assert all(rows > 0 for rows, _digest in before.values())
    return target, work, before


def test_two_builds_at_once_take_turns_and_both_complete(built: tuple) -> None:
    target, work, before = built
    waited: list[str] = []
    errors: list[BaseException] = []

    def build(name: str) -> None:
        try:
            run_dbt(
                REBUILD,
                transformer_target(target),
                work_dir=work / name,
                on_wait=lambda: waited.append(name),
            )
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=build, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(waited) == 1  # one build found the other running and waited for it
    assert fingerprints(target) == before
    assert leftovers(target) == []


def test_a_build_killed_half_way_leaves_the_marts_whole(built: tuple) -> None:
    target, work, before = built
    # A reader in the middle of a transaction on fct_activities: the rebuild writes the new table
    # beside it and then waits to swap it in, so it is killed mid-write, whatever the timing.
    reader = connect(target, autocommit=False)
    command, env = dbt_command(REBUILD, transformer_target(target), work_dir=work / "killed")
    process = subprocess.Popen(command, cwd=project_root(), env=env, start_new_session=True)
    try:
        with reader.cursor() as cur:
            cur.execute("select count(*) from engagement.fct_activities")
        deadline = time.monotonic() + 120
        waiting = 0
        while time.monotonic() < deadline and process.poll() is None and not waiting:
            waiting = query(
                target,
                "select count(*) from pg_stat_activity where wait_event_type = 'Lock' "
                "and query ilike '%%fct_activities%%' and pid <> pg_backend_pid()",
            )[0][0]
            time.sleep(0.05)
        assert waiting, "dbt never came to swap fct_activities in"
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.wait()
        reader.close()
    assert process.returncode == -signal.SIGKILL

    # Every mart is still there, whole: what the killed build had not swapped in is the old table.
    assert fingerprints(target) == before
    run_dbt(REBUILD, transformer_target(target), work_dir=work / "after-kill")
    assert fingerprints(target) == before
    assert leftovers(target) == []
