"""``cis ingest``: load a landing folder or pull from the Apollo API into raw_apollo."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dlt.common.pipeline import LoadInfo

from cis.clients import Client
from cis.db import Target, cursor, loader_target
from cis.jobs.ingest_events import EVENT_LANDING_KINDS, EventReport, ingest_event_landing
from ingestion.apollo import DATASET, LANDING_KIND, LoadCounts, apollo_landing_source, apollo_source
from ingestion.apollo.helpers import ApolloStats
from ingestion.apollo.suppression import scrub_suppressed
from ingestion.landing import UnreadEntry, unread_entries
from ingestion.pipeline import run_source
from ingestion.progress import (
    FileSlice,
    clear_unrecorded,
    drop_reread_rows,
    read_progress,
    record_progress,
    unread_slices,
)

# Landing kinds with a loader today; later phases add theirs (DESIGN.md, "Landing format").
LANDING_LOADERS = {LANDING_KIND: "apollo", **EVENT_LANDING_KINDS}
# What a line of apollo/people writes, and each table's row key.
RAW_TABLES = {
    "people": ("_record_id",),
    "organizations": ("_record_id",),
    "employment_history": ("_record_id", "entry_index"),
}


@dataclass
class IngestReport:
    counts: LoadCounts
    seconds: float = 0.0
    unread: list[UnreadEntry] = field(default_factory=list)
    stats: ApolloStats | None = None
    stored: int | None = None  # person rows this run wrote to raw_apollo.people
    events: list[EventReport] = field(default_factory=list)  # one per vendor dataset loaded


def stored_people(target: Target, load_ids: Sequence[str]) -> int:
    """Person rows the given dlt loads wrote (a merge re-stamps the rows it replaces)."""
    if not load_ids:
        return 0
    with cursor(target) as cur:
        cur.execute("select to_regclass(%s)", (f"{DATASET}.people",))
        if cur.fetchone()[0] is None:
            return 0
        cur.execute(
            f"select count(*) from {DATASET}.people where _dlt_load_id = any(%s)", (list(load_ids),)
        )
        return int(cur.fetchone()[0])


def _suppression_pass(loader: Target, counts: LoadCounts) -> Callable[[list[str]], None]:
    """After a load: anonymise what it wrote of anyone a deletion request covers.

    The records were checked against the keys read when the run started; this pass, under the
    loader's lock and as the loader, also covers a request that landed since, and a package a
    crashed run left pending.
    """

    def scrub(load_ids: list[str]) -> None:
        if not load_ids:
            return
        with cursor(loader) as cur:
            outcome = scrub_suppressed(cur, load_ids)
        counts.suppressed += outcome.people_rows

    return scrub


def suppressed_keys(target: Target) -> set[str]:
    with cursor(target) as cur:
        cur.execute("select key_hash from cis.suppression_keys")
        return {row[0] for row in cur.fetchall()}


def known_person_ids(target: Target) -> set[str]:
    """Apollo ids already in raw_apollo.people (empty before the first load)."""
    with cursor(target) as cur:
        cur.execute("select to_regclass(%s)", (f"{DATASET}.people",))
        if cur.fetchone()[0] is None:
            return set()
        cur.execute(f"select distinct id from {DATASET}.people")
        return {row[0] for row in cur.fetchall()}


def ingest_landing(
    admin: Target,
    landing_dir: Path,
    pipelines_dir: Path | None = None,
    on_wait: Callable[[], None] | None = None,
    reload: bool = False,
) -> IngestReport:
    """Load a landing folder; ``on_wait`` is called if another load holds the dataset's lock.

    Only what no completed load has read is read (``ingestion.progress``); ``reload`` reads every
    file again from the start (its stored rows are replaced).
    """
    started = time.perf_counter()
    counts = LoadCounts()
    loader = loader_target(admin)
    info = load_apollo_landing(
        loader, landing_dir, counts, suppressed_keys(admin), pipelines_dir, on_wait, reload
    )
    stored = stored_people(loader, info.loads_ids)
    seconds = time.perf_counter() - started
    events = ingest_event_landing(
        loader,
        landing_dir,
        pipelines_dir,
        on_wait,
        reload=reload,
        suppressed=frozenset(suppressed_keys(admin)),
    )
    return IngestReport(
        counts,
        seconds,
        unread_entries(landing_dir, LANDING_LOADERS),
        stored=stored,
        events=events,
    )


def load_apollo_landing(
    loader: Target,
    landing_dir: Path,
    counts: LoadCounts,
    suppressed: Collection[str] = (),
    pipelines_dir: Path | None = None,
    on_wait: Callable[[], None] | None = None,
    reload: bool = False,
) -> LoadInfo:
    """The unread lines of ``apollo/people`` into raw_apollo, exactly once (as the loader).

    Under the dataset's lock: the unread slices are found and a crashed run's rows for them
    deleted; after the load, anyone a deletion request covers is scrubbed and the progress is
    recorded (a crash before that reads the same lines again, replacing their rows).
    """
    slices: list[FileSlice] = []  # filled under the dataset's lock, before the source reads
    source = apollo_landing_source(str(landing_dir), slices, suppressed, counts=counts)
    record = _record_progress(loader, slices)
    scrub = _suppression_pass(loader, counts)

    def after_load(load_ids: list[str]) -> None:
        with cursor(loader) as cur:
            for table, key in RAW_TABLES.items():
                drop_reread_rows(cur, f"{DATASET}.{table}", key, slices, load_ids)
        scrub(load_ids)
        record(load_ids)

    return run_source(
        source,
        "apollo_landing",
        DATASET,
        loader,
        pipelines_dir,
        on_wait,
        after_load=after_load,
        before_run=_unread_people(loader, landing_dir, slices, reload),
    )


def _unread_people(
    loader: Target, landing_dir: Path, slices: list[FileSlice], reload: bool
) -> Callable[[], None]:
    """Under the lock: what of ``apollo/people`` no completed load has read goes into
    ``slices``, and rows a crashed run stored for those lines are deleted first."""

    def find() -> None:
        with cursor(loader) as cur:
            known = read_progress(cur, [LANDING_KIND])
            slices.extend(unread_slices(landing_dir, LANDING_KIND, known, reload))
            for table in RAW_TABLES:
                clear_unrecorded(cur, f"{DATASET}.{table}", slices)

    return find


def _record_progress(loader: Target, slices: list[FileSlice]) -> Callable[[list[str]], None]:
    def record(_load_ids: list[str]) -> None:
        with cursor(loader) as cur:
            record_progress(cur, [piece.progress() for piece in slices])

    return record


def ingest_apollo_api(
    admin: Target,
    clients: Sequence[Client],
    api_key: str | None = None,
    base_url: str | None = None,
    pipelines_dir: Path | None = None,
    on_wait: Callable[[], None] | None = None,
) -> IngestReport:
    started = time.perf_counter()
    counts, stats = LoadCounts(), ApolloStats()
    kwargs = {}
    if api_key:
        kwargs["api_key"] = api_key
    if base_url:
        kwargs["base_url"] = base_url
    source = apollo_source(
        clients,
        known_person_ids(loader_target(admin)),
        suppressed_keys(admin),
        counts=counts,
        stats=stats,
        **kwargs,
    )
    loader = loader_target(admin)
    info = run_source(
        source,
        "apollo",
        DATASET,
        loader,
        pipelines_dir,
        on_wait,
        after_load=_suppression_pass(loader, counts),
    )
    return IngestReport(
        counts,
        time.perf_counter() - started,
        stats=stats,
        stored=stored_people(loader, info.loads_ids),
    )
