"""What the incremental event models read, and why their order does not matter: replaying the
same landing files twice or in another order gives identical marts; late events (after a
build, repeated and out of order) recompute only the people they name and still equal a build
of everything at once; a file read again with ``--reload`` after a build is staged again in
full rather than twice; and a load is registered only once its loader has let go of the schema
(docs/engagement.md, "Incremental builds").

Two warehouses are loaded and built once for the module: everything at once (what every other
order must give) and the files without their late lines; the tests start from copies of them.
A campaign snapshot that arrives late makes the next build recompute everyone: that path is
the one ``--reload`` and ``--full-refresh`` take below."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from cis.db import Target, cursor, transformer_target
from cis.generate import generate_landing
from cis.generate.late_events import EVENT_KINDS, fingerprints, hold_back
from cis.jobs.ingest import ingest_landing
from cis.transform import run_dbt
from ingestion.pipeline import dataset_lock_name, pipeline_lock
from tests.event_builds import MODELS_ONLY, build_models, client_database
from tests.pg import copy_database, query

STAGED = {
    "staging.stg_smartlead__email_events": "raw_smartlead.webhook_events",
    "staging.stg_salesforge__email_events": "raw_salesforge.webhook_events",
    "staging.stg_heyreach__linkedin_events": "raw_heyreach.webhook_events",
    "staging.stg_twilio__sms_events": "raw_twilio.webhook_events",
}

Fingerprints = dict[str, tuple[int, str]]


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A generated landing folder and 5% of its event lines (plus second deliveries of 1% of
    the rest, shuffled) held back to arrive late; campaign and sequence snapshots all arrive
    first."""
    root = tmp_path_factory.mktemp("incremental")
    generate_landing(root / "landing", 200, seed=13, events=True)
    assert hold_back(root / "landing", root / "late", share=0.05, seed=13, snapshots=False) > 0
    return root / "landing", root / "late"


@pytest.fixture(scope="module")
def once(
    landing: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Target, Fingerprints]:
    """Everything loaded at once, then built: what every other order must give."""
    target = client_database("incremental_once")
    load_and_build(target, list(landing), tmp_path_factory.mktemp("once"))
    built = fingerprints(target)
    assert all(rows > 0 for rows, _digest in built.values())
    return target, built


@pytest.fixture(scope="module")
def built_now(landing: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Target:
    """The files without their late lines, loaded and built: the warehouse before they arrive."""
    target = client_database("incremental_now")
    load_and_build(target, [landing[0]], tmp_path_factory.mktemp("now"))
    return target


def load_and_build(target: Target, folders: list[Path], work: Path) -> None:
    """Load ``folders`` in turn, then build the project."""
    for folder in folders:
        ingest_landing(target, folder, pipelines_dir=work / "dlt")
    build_models(target, work / "dbt")


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


def test_the_same_files_again_change_nothing(
    landing: tuple[Path, Path], once: tuple[Target, Fingerprints], tmp_path: Path
) -> None:
    """The second load of the same files reads nothing new; the build after it changes nothing."""
    now, late = landing
    at_once, expected = once
    target = copy_database(at_once, "incremental_twice")
    load_and_build(target, [now, late], tmp_path)
    assert fingerprints(target) == expected


def test_files_in_another_order_and_other_folders_give_identical_marts(
    landing: tuple[Path, Path], once: tuple[Target, Fingerprints], tmp_path: Path
) -> None:
    """Half the event files first, then the Apollo pulls with the other half, from copies in
    other folders: other file paths, other load order, same lines."""
    now, late = landing
    first, second = tmp_path / "first", tmp_path / "second"
    shutil.copytree(now, second)
    shutil.copytree(late, tmp_path / "second-late")
    assert split_events(second, first) > 0
    target = client_database("incremental_reordered")
    load_and_build(target, [first, second, tmp_path / "second-late"], tmp_path)
    assert fingerprints(target) == once[1]


def test_late_events_recompute_only_their_people_and_equal_a_build_from_scratch(
    landing: tuple[Path, Path],
    once: tuple[Target, Fingerprints],
    built_now: Target,
    tmp_path: Path,
) -> None:
    _now, late = landing
    target = copy_database(built_now, "incremental_late")
    load_and_build(target, [late], tmp_path)

    assert _refresh(target) == (False, "")
    scoped = query(
        target,
        "select count(*) from intermediate.int_engagement_scope where scope_kind = 'lead'",
    )[0][0]
    leads = query(target, "select count(*) from pool.dim_leads")[0][0]
    assert 0 < scoped < leads / 2
    assert fingerprints(target) == once[1]


def _refresh(target: Target) -> tuple[bool, str]:
    """Whether the last build recomputed everyone, and why (int_engagement_refresh)."""
    [(is_full, reasons)] = query(
        target, "select is_full, full_reasons from intermediate.int_engagement_refresh"
    )
    return is_full, reasons


def _smartlead_line_for_one_of(landing: Path, emails: list[str]) -> tuple[str, str]:
    """A Smartlead webhook line (and its address) sent to the first of ``emails`` that has one."""
    wanted = {email.lower() for email in emails}
    for path in sorted((landing / "smartlead" / "webhooks").glob("*-events-*.jsonl")):
        for line in path.read_text().splitlines():
            address = str(json.loads(line).get("to_email") or "").lower()
            if address in wanted:
                return line, address
    raise AssertionError("no webhook line names any of the candidates")


def test_a_scoped_run_rewrites_only_the_rows_that_changed(
    landing: tuple[Path, Path], built_now: Target, tmp_path: Path
) -> None:
    """The scoped_diff strategy: a person's rows that come out the same stay where they are,
    an altered row is replaced, and a row stored twice is taken back to once."""
    now, _late = landing
    target = copy_database(built_now, "incremental_scoped_diff")
    built = fingerprints(target)
    step_rows = "select count(*) from intermediate.int_ab_test_step_recipients"
    [(step_count,)] = query(target, step_rows)

    candidates = query(
        target,
        """
        select activities.lead_email
        from engagement.fct_activities as activities
        where activities.provider = 'smartlead'
            and not activities.is_unknown_lead
            and activities.recipient_ref in (
                select recipient_ref from intermediate.int_ab_test_step_recipients
            )
        group by activities.lead_email
        having count(*) >= 3
        order by activities.lead_email
        """,
    )
    line, email = _smartlead_line_for_one_of(now, [row[0] for row in candidates])
    [(recipient, altered)] = query(
        target,
        "select recipient_ref, (array_agg(activity_id order by activity_id))[1]"
        " from engagement.fct_activities"
        " where lower(lead_email) = %s group by recipient_ref",
        (email,),
    )
    with cursor(target) as cur:
        cur.execute(
            "update engagement.fct_activities set subject = 'altered' where activity_id = %s",
            (altered,),
        )
        cur.execute(
            "insert into intermediate.int_ab_test_step_recipients select * from"
            " intermediate.int_ab_test_step_recipients where recipient_ref = %s limit 1",
            (recipient,),
        )
    placed = "select activity_id, ctid::text from engagement.fct_activities where activity_id <> %s"
    before = dict(query(target, placed, (altered,)))
    kept_of_person = query(
        target,
        "select count(*) from engagement.fct_activities where recipient_ref = %s"
        " and activity_id <> %s",
        (recipient, altered),
    )[0][0]
    assert kept_of_person >= 2

    # The same delivery again: its person is in scope, and nothing about them has changed.
    again = tmp_path / "again" / "smartlead" / "webhooks" / "2025-06-01T000000Z-again-0001.jsonl"
    again.parent.mkdir(parents=True)
    again.write_text(line + "\n")
    load_and_build(target, [tmp_path / "again"], tmp_path)

    assert _refresh(target) == (False, "")
    assert query(
        target,
        "select count(*) from intermediate.int_engagement_scope"
        " where scope_kind = 'lead' and scope_value = %s",
        (recipient,),
    ) == [(1,)]
    assert query(target, step_rows) == [(step_count,)]
    assert dict(query(target, placed, (altered,))) == before
    scoped = fingerprints(target)
    # The repeat counts as a second delivery of its event; nothing else changed.
    assert {mart: scoped[mart] for mart in scoped if mart != "engagement.fct_email_events"} == {
        mart: built[mart] for mart in built if mart != "engagement.fct_email_events"
    }
    run_dbt([*MODELS_ONLY, "--full-refresh"], transformer_target(target), work_dir=tmp_path / "dbt")
    assert fingerprints(target) == scoped


def test_a_file_read_again_after_a_build_is_staged_once(
    landing: tuple[Path, Path], built_now: Target, tmp_path: Path
) -> None:
    now, _late = landing
    target = copy_database(built_now, "incremental_reload")
    fresh = fingerprints(target)
    full_reads = query(
        target, "select model_name, full_read_at from intermediate.incremental_state"
    )

    # An upgrade changed one model's SQL (as its recorded definition says): rebuilt from scratch.
    rebuilt = "select to_regclass('threads.fct_thread_messages')::oid"
    [(before_oid,)] = query(target, rebuilt)
    with cursor(target) as cur:
        cur.execute(
            "update intermediate.incremental_state set definition_hash = 'an older version'"
            " where model_name = 'fct_thread_messages'"
        )

    # Every file read again: its rows are deleted and stored again under new load ids.
    ingest_landing(target, now, pipelines_dir=tmp_path / "dlt", reload=True)
    build_models(target, tmp_path / "dbt")

    assert query(target, rebuilt) != [(before_oid,)]
    assert query(
        target,
        "select count(*) from intermediate.incremental_state where definition_hash is null"
        " or definition_hash = 'an older version'",
    ) == [(0,)]

    for staged, raw in STAGED.items():
        assert query(target, f"select count(*) from {staged}") == query(
            target, f"select count(*) from {raw}"
        ), staged
    moved = dict(
        query(target, "select model_name, full_read_at from intermediate.incremental_state")
    )
    for model, before in full_reads:
        if model.startswith("stg_") and model != "stg_dlt__event_loads":
            assert moved[model] > before, model  # it read its raw table again in full
    assert fingerprints(target) == fresh


def test_a_load_is_registered_once_its_loader_lets_go(
    landing: tuple[Path, Path], tmp_path: Path
) -> None:
    now, _late = landing
    target = client_database("incremental_registration")
    ingest_landing(target, now, pipelines_dir=tmp_path / "dlt")
    registered = "select provider, count(*) from staging.stg_dlt__event_loads group by 1"
    select = ["run", "--quiet", "--select", "stg_dlt__event_loads"]

    held, release = threading.Event(), threading.Event()

    def loader_at_work() -> None:
        with pipeline_lock(target, dataset_lock_name("raw_smartlead", target)):
            held.set()
            release.wait(120)

    thread = threading.Thread(target=loader_at_work)
    thread.start()
    try:
        assert held.wait(30)
        run_dbt(select, transformer_target(target), work_dir=tmp_path / "dbt")
        while_loading = dict(query(target, registered))
    finally:
        release.set()
        thread.join()
    run_dbt(select, transformer_target(target), work_dir=tmp_path / "dbt")
    after = dict(query(target, registered))

    assert "smartlead" not in while_loading
    assert {"salesforge", "heyreach", "twilio"} <= while_loading.keys()
    assert after["smartlead"] > 0
    assert {k: v for k, v in after.items() if k != "smartlead"} == while_loading
