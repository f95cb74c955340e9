"""Deletion requests and the vendor event loads: no load can bring a forgotten person back.

A request recorded while an event load runs (after the run read the suppression keys) still
reaches what that load wrote (the post-load suppression pass); ``cis forget`` waits for an
event load that holds its dataset's lock, and finishes (and scrubs) the package a crashed event
run left pending.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cis.bootstrap import bootstrap
from cis.db import Target, cursor, loader_target
from cis.jobs import ingest_events
from cis.jobs.forget import forget_person, load_locks
from cis.jobs.ingest import suppressed_keys
from cis.jobs.ingest_events import EVENT_DATASETS, ingest_event_landing, landing_pipeline
from cis.privacy import identity_keys
from ingestion import smartlead
from ingestion.events import EventCounts, events_landing_source
from ingestion.pipeline import dataset_lock_name, make_pipeline, pipeline_lock
from ingestion.progress import unread_slices
from ingestion.quarantine import WITHHELD
from tests.pg import query
from tests.test_forget_everything import EMAIL, LINKEDIN, files_naming_her, residue

CONTRACTS = Path(__file__).parent / "fixtures" / "contracts"
NEIGHBOUR = "sam.neighbour@elsewhere.example"
EARLIER = "erin.earlier@elsewhere.example"  # a person forgotten before the load started
OTHER_PROFILE = "https://www.linkedin.com/in/someone-else-entirely"
# Every event column but the personal ones: what a scrubbed event keeps.
KEPT = "event_key, event_name, campaign_id, occurred_at, occurred_at_text"


def _contract(name: str, index: int) -> dict:
    return json.loads((CONTRACTS / name).read_text().splitlines()[index])


def _write(root: Path, kind: str, name: str, rows: list[dict | str]) -> None:
    folder = root / kind
    folder.mkdir(parents=True, exist_ok=True)
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    (folder / name).write_text("".join(line + "\n" for line in lines))


def _landing(root: Path, heyreach: bool = True) -> Path:
    """Smartlead: two events of hers (one addressed in capitals), the neighbour's, one of a
    person forgotten earlier, and a rejected line (its time is not a time) naming her; HeyReach:
    one event of hers (her LinkedIn URL as the vendor spells it) and one of someone else."""
    sent, opened = (
        _contract("smartlead__webhook.jsonl", 0),
        _contract("smartlead__webhook.jsonl", 1),
    )
    bounce = _contract("smartlead__webhook.jsonl", 4)

    def to(body: dict, address: str) -> dict:
        return {**body, "to_email": address, "sl_lead_email": address}

    _write(
        root,
        "smartlead/webhooks",
        "events.jsonl",
        [
            to(sent, EMAIL),
            to(opened, EMAIL.upper()),
            to(bounce, NEIGHBOUR),
            to(sent, EARLIER) | {"stats_id": "earlier-stats"},
            to(opened, EMAIL) | {"event_timestamp": "soon"},
        ],
    )
    if heyreach:
        reply = _contract("heyreach__webhook.jsonl", 3)
        _write(
            root,
            "linkedin/events",
            "events.jsonl",
            [
                {**reply, "lead": {**reply["lead"], "profile_url": LINKEDIN.upper() + "/"}},
                {**reply, "lead": {**reply["lead"], "profile_url": OTHER_PROFILE}},
            ],
        )
    return root


def _record_request(target: Target, **identity: str) -> None:
    """A deletion request's audit row and hashed keys, as ``cis forget`` records them."""
    with cursor(target) as cur:
        cur.execute(
            "insert into cis.deletion_requests (subject_key_hash, requested_by) "
            "values ('test', 'test') returning deletion_request_id"
        )
        request_id = cur.fetchone()[0]
        for kind, value in identity_keys(**identity).items():
            cur.execute(
                "insert into cis.suppression_keys (key_hash, key_kind, deletion_request_id) "
                "values (%s, %s, %s) on conflict do nothing",
                (value, kind, request_id),
            )


def _before_reading(
    monkeypatch: pytest.MonkeyPatch, dataset: str, action: Callable[[], None]
) -> None:
    """Run ``action`` in ``dataset``'s load, under its lock, just before it reads its lines."""
    original = ingest_events._clear

    def clear(loader, name, kinds, slices):
        cleared = original(loader, name, kinds, slices)

        def before_run() -> None:
            cleared()
            if name == dataset:
                action()

        return before_run

    monkeypatch.setattr(ingest_events, "_clear", clear)


def _smartlead_rows(target: Target, address: str) -> list[tuple]:
    """The Smartlead events ``_landing`` wrote about ``address``: the columns kept, then
    lead_email, payload and receipt."""
    lines = {EMAIL: [1, 2], NEIGHBOUR: [3], EARLIER: [4]}[address]
    return query(
        target,
        f"select {KEPT}, lead_email, payload, receipt from raw_smartlead.webhook_events "
        "where _source_file = 'smartlead/webhooks/events.jsonl' and _source_line = any(%s) "
        "order by _source_line",
        (lines,),
    )


def _waiting_for_a_lock(target: Target, seconds: float = 30.0) -> bool:
    """Whether a session of ``target``'s database waits for an advisory lock (polled)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        waiting = query(
            target,
            "select count(*) from pg_locks as l join pg_database as d on d.oid = l.database "
            "where l.locktype = 'advisory' and not l.granted and d.datname = current_database()",
        )[0][0]
        if waiting:
            return True
        time.sleep(0.05)
    return False


def _in_thread(
    results: dict[str, object], name: str, call: Callable[[], object]
) -> threading.Thread:
    """``call`` started in a thread; its result (or exception) goes to ``results[name]``."""

    def body() -> None:
        try:
            results[name] = call()
        except BaseException as exc:  # the test reports it
            results[name] = exc

    thread = threading.Thread(target=body)
    thread.start()
    return thread


def _forget(target: Target, pipelines_dir: Path) -> Callable[[], object]:
    return lambda: forget_person(target, email=EMAIL, pipelines_dir=pipelines_dir)


def test_a_request_recorded_while_an_event_load_runs_reaches_what_it_wrote(
    tmp_path: Path, target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    bootstrap(target)
    loader = loader_target(target)
    landing = _landing(tmp_path / "landing")
    _record_request(target, email=EARLIER)
    keys = frozenset(suppressed_keys(target))  # what `ingest landing` reads when it starts
    # Her request lands once both loads have read the keys, before they read their lines.
    _before_reading(monkeypatch, "raw_smartlead", lambda: _record_request(target, email=EMAIL))
    _before_reading(
        monkeypatch, "raw_heyreach", lambda: _record_request(target, linkedin_url=LINKEDIN)
    )

    reports = {
        r.dataset: r
        for r in ingest_event_landing(loader, landing, tmp_path / "dlt", suppressed=keys)
    }

    # Her events stay as events (key, name, campaign, times), without her.
    hers = _smartlead_rows(target, EMAIL)
    assert [row[1] for row in hers] == ["EMAIL_SENT", "EMAIL_OPEN"]
    assert all(None not in row[:5] for row in hers)
    assert [row[5:] for row in hers] == [(None, None, None)] * 2
    assert query(
        target,
        "select count(*), count(payload), count(lead_linkedin_url), count(event_key) "
        "from raw_heyreach.webhook_events where event_key is not null and payload is null",
    ) == [(1, 0, 0, 1)]
    # Everyone else keeps their data; the person forgotten earlier was withheld when read.
    neighbour = _smartlead_rows(target, NEIGHBOUR)
    assert [(row[5], row[6] is not None) for row in neighbour] == [(NEIGHBOUR, True)]
    assert [row[5:] for row in _smartlead_rows(target, EARLIER)] == [(None, None, None)]
    assert query(
        target,
        "select lead_linkedin_url from raw_heyreach.webhook_events where payload is not null",
    ) == [(OTHER_PROFILE,)]
    # The rejected line naming her lost its payload, not its reason.
    assert query(
        target,
        "select payload, reason like %s from raw_smartlead.rejected_records",
        (f"%({WITHHELD})",),
    ) == [(None, True)]
    assert residue(target) == {}
    assert files_naming_her(tmp_path / "dlt") == []
    # Counted once each: hers by the pass, the earlier person's when read.
    assert reports["raw_smartlead"].counts.suppressed == 3
    assert reports["raw_heyreach"].counts.suppressed == 1
    # The progress was still recorded: nothing is read again.
    assert ingest_event_landing(loader, landing, tmp_path / "dlt", suppressed=keys) == []


def test_the_pass_scrubs_a_pending_event_package_of_a_crashed_run(
    tmp_path: Path, target: Target
) -> None:
    """A crashed run's package (read before her request) is loaded by the next run and
    scrubbed by its suppression pass, though the next run reads other files."""
    bootstrap(target)
    loader = loader_target(target)
    crashed = _landing(tmp_path / "crashed", heyreach=False)
    _crash_before_loading(crashed, loader, tmp_path / "dlt")
    _record_request(target, email=EMAIL)
    later = tmp_path / "later"
    _write(later, "smartlead/webhooks", "later.jsonl", [_contract("smartlead__webhook.jsonl", 5)])

    reports = ingest_event_landing(
        loader, later, tmp_path / "dlt", suppressed=frozenset(suppressed_keys(target))
    )

    assert query(
        target,
        "select count(*), count(payload), count(lead_email) from raw_smartlead.webhook_events "
        "where _source_file = 'smartlead/webhooks/events.jsonl' and _source_line in (1, 2)",
    ) == [(2, 0, 0)]
    assert _smartlead_rows(target, NEIGHBOUR)[0][5] == NEIGHBOUR
    assert [r.counts.suppressed for r in reports] == [2]
    assert residue(target) == {}


def _crash_before_loading(landing: Path, loader: Target, pipelines_dir: Path) -> None:
    """A Smartlead run that read ``landing`` (no suppression keys) and died before loading."""
    pipeline = make_pipeline(
        landing_pipeline(smartlead.DATASET), smartlead.DATASET, loader, pipelines_dir
    )
    slices = {k.landing_kind: unread_slices(landing, k.landing_kind, {}) for k in smartlead.KINDS}
    pipeline.extract(events_landing_source(str(landing), smartlead.KINDS, slices, EventCounts()))
    pipeline.normalize()
    assert pipeline.has_pending_data
    assert files_naming_her(pipelines_dir)


def test_forget_takes_every_event_dataset_lock(tmp_path: Path, target: Target) -> None:
    """Held by a load of any vendor dataset, the lock makes ``cis forget`` wait; released, the
    request completes."""
    bootstrap(target)
    loader = loader_target(target)
    assert [dataset for dataset, _pipelines in load_locks()][1:] == sorted(EVENT_DATASETS)
    for number, dataset in enumerate(sorted(EVENT_DATASETS), start=1):
        results: dict[str, object] = {}
        with pipeline_lock(loader, dataset_lock_name(dataset, loader)):
            request = _in_thread(results, "forget", _forget(target, tmp_path / "dlt"))
            assert _waiting_for_a_lock(target), dataset
            request.join(0.5)
            assert request.is_alive(), dataset
            assert query(target, "select count(*) from cis.deletion_requests") == [(number - 1,)]
        request.join(60)
        assert not request.is_alive(), dataset
        assert not isinstance(results["forget"], BaseException), results["forget"]
        assert query(
            target, "select count(*) from cis.deletion_requests where completed_at is not null"
        ) == [(number,)]


def test_forget_waits_for_an_event_load_and_scrubs_what_it_wrote(
    tmp_path: Path, target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    bootstrap(target)
    loader = loader_target(target)
    landing = _landing(tmp_path / "landing", heyreach=False)
    loading, release = threading.Event(), threading.Event()

    def hold() -> None:  # the Smartlead load, under its lock, waits before reading
        loading.set()
        assert release.wait(60)

    _before_reading(monkeypatch, "raw_smartlead", hold)
    results: dict[str, object] = {}

    load = _in_thread(
        results, "load", lambda: ingest_event_landing(loader, landing, tmp_path / "dlt")
    )
    assert loading.wait(60)
    request = _in_thread(results, "forget", _forget(target, tmp_path / "dlt"))
    assert _waiting_for_a_lock(target)
    request.join(0.5)
    assert request.is_alive()
    assert query(target, "select count(*) from cis.deletion_requests") == [(0,)]

    release.set()
    load.join(60)
    request.join(60)

    assert not load.is_alive() and not request.is_alive()
    assert not isinstance(results["load"], BaseException), results["load"]
    outcome = results["forget"]
    assert not isinstance(outcome, BaseException), outcome
    # The load wrote her events (before the request), the request scrubbed them.
    assert [r.counts.suppressed for r in results["load"]] == [0]
    assert outcome.vendor_events_scrubbed == 2
    assert outcome.rejected_payloads_cleared == 1
    assert [row[5:] for row in _smartlead_rows(target, EMAIL)] == [(None, None, None)] * 2
    assert _smartlead_rows(target, NEIGHBOUR)[0][5] == NEIGHBOUR
    assert residue(target) == {}


def test_forget_finishes_a_pending_event_load_and_scrubs_it(tmp_path: Path, target: Target) -> None:
    bootstrap(target)
    loader = loader_target(target)
    landing = _landing(tmp_path / "landing", heyreach=False)
    _crash_before_loading(landing, loader, tmp_path / "dlt")

    outcome = forget_person(target, email=EMAIL.lower(), pipelines_dir=tmp_path / "dlt")

    assert outcome.pending_loads_finished == 1
    assert outcome.vendor_events_scrubbed == 2
    assert outcome.rejected_payloads_cleared == 1
    hers = _smartlead_rows(target, EMAIL)
    assert len(hers) == 2 and all(None not in row[:5] for row in hers)
    assert [row[5:] for row in hers] == [(None, None, None)] * 2
    assert _smartlead_rows(target, NEIGHBOUR)[0][5] == NEIGHBOUR
    assert residue(target) == {}
    assert files_naming_her(tmp_path / "dlt") == []
    pipeline = make_pipeline(
        landing_pipeline(smartlead.DATASET), smartlead.DATASET, loader, tmp_path / "dlt"
    )
    assert not pipeline.has_pending_data

    # The crashed run recorded no progress: the next load reads those lines again, stores
    # each once, and keeps her out.
    reports = ingest_event_landing(
        loader, landing, tmp_path / "dlt", suppressed=frozenset(suppressed_keys(target))
    )

    assert [r.counts.suppressed for r in reports] == [2]
    assert query(
        target,
        "select count(*), count(distinct delivery_id) from raw_smartlead.webhook_events",
    ) == [(4, 4)]
    assert [row[5:] for row in _smartlead_rows(target, EMAIL)] == [(None, None, None)] * 2
    assert residue(target) == {}
