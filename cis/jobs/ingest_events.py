"""``cis ingest landing``, events part: every vendor's event kinds from the landing folder.

Each vendor dataset loads under its own lock, reading only what no completed load has read
(``ingestion.progress``). Once the load has completed, still under the lock and in one
transaction, every deletion request is applied to the rows it wrote (the suppression pass:
``ingestion.events.forget.suppress_loaded``) and the progress is recorded.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cis.clients import Client, campaign_owners
from cis.db import Target, connect, cursor
from ingestion import crm, heyreach, hubspot, salesforge, smartlead, twilio
from ingestion.events import EventCounts, EventKind, events_landing_source
from ingestion.events.forget import suppress_loaded
from ingestion.events.indexes import index_event_tables
from ingestion.landing import landing_files
from ingestion.pipeline import run_source
from ingestion.progress import (
    FileSlice,
    clear_unrecorded,
    drop_reread_rows,
    ensure_table,
    read_progress,
    record_progress,
    unread_slices,
)

# Vendor dataset -> its landing kinds (DESIGN.md, "Landing format").
EVENT_DATASETS: dict[str, tuple[EventKind, ...]] = {
    smartlead.DATASET: smartlead.KINDS,
    salesforge.DATASET: salesforge.KINDS,
    heyreach.DATASET: heyreach.KINDS,
    twilio.DATASET: twilio.KINDS,
    hubspot.DATASET: hubspot.KINDS,
    crm.DATASET: crm.KINDS,
}
PARALLEL_DATASETS = 2  # this machine's cores; each load also runs PostgreSQL's own processes
# Reading (Python) holds one core per dataset: above this many bytes of event files the datasets
# load in separate processes (true parallel reading), below it one after the other.
PROCESSES_FROM_BYTES = 256 * 1024 * 1024
EVENT_LANDING_KINDS = {
    kind.landing_kind: dataset for dataset, kinds in EVENT_DATASETS.items() for kind in kinds
}


def landing_pipeline(dataset: str) -> str:
    """The name of the pipeline that loads ``dataset`` from the landing folder."""
    return f"{dataset.removeprefix('raw_')}_landing"


def api_pipeline(dataset: str) -> str:
    """The name of the pipeline that pulls ``dataset`` from the vendor's API (``ingest_api``)."""
    return f"{dataset.removeprefix('raw_')}_api"


def event_pipelines(dataset: str) -> list[str]:
    """Every pipeline that may write ``dataset``: the landing one and the vendor API pull's
    (a vendor without an API pull has no working folder for it)."""
    return [landing_pipeline(dataset), api_pipeline(dataset)]


@dataclass
class EventReport:
    """What one vendor dataset's load read and stored."""

    dataset: str
    counts: EventCounts
    stored: int
    seconds: float


def ingest_event_landing(
    loader: Target,
    landing_dir: Path,
    pipelines_dir: Path | None = None,
    on_wait: Callable[[], None] | None = None,
    reload: bool = False,
    suppressed: frozenset[str] = frozenset(),
) -> list[EventReport]:
    """Load the unread lines of every event kind in ``landing_dir`` (as the loader).

    With more than ``PROCESSES_FROM_BYTES`` of event files, the vendor datasets load two at a
    time in worker processes (reading is Python, one core each, while PostgreSQL writes);
    below that, one after the other (a worker's start-up would cost more than it saves).
    ``suppressed``: hashed keys of deletion requests; those people's events keep no data. A
    request recorded after they were read still reaches the load: the suppression pass that
    follows it reads ``cis.suppression_keys`` again (``EventCounts.suppressed`` counts both).
    """
    jobs = [
        (loader, landing_dir, dataset, kinds, pipelines_dir, on_wait, reload, suppressed)
        for dataset, kinds in EVENT_DATASETS.items()
    ]
    if _unread_bytes(landing_dir) < PROCESSES_FROM_BYTES:
        reports = [_load_dataset(*job) for job in jobs]
    else:
        with cursor(loader) as cur:
            # Created once here: two workers recording progress at once would race to.
            ensure_table(cur)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(PARALLEL_DATASETS, mp_context=context) as pool:
            # A worker cannot print through the caller's console: no waiting notice there.
            futures = [pool.submit(_load_dataset, *job[:5], None, *job[6:]) for job in jobs]
            reports = [future.result() for future in futures]
    return [report for report in reports if report is not None]


def _unread_bytes(landing_dir: Path) -> int:
    """Size of the event files in ``landing_dir`` (an upper bound of what is unread)."""
    return sum(
        path.stat().st_size
        for kind in EVENT_LANDING_KINDS
        for path in landing_files(landing_dir, kind)
    )


def _load_dataset(
    loader: Target,
    landing_dir: Path,
    dataset: str,
    kinds: tuple[EventKind, ...],
    pipelines_dir: Path | None,
    on_wait: Callable[[], None] | None,
    reload: bool,
    suppressed: frozenset[str],
) -> EventReport | None:
    """One vendor dataset: its unread slices, loaded under its lock; None if nothing is new."""
    with cursor(loader) as cur:
        known = read_progress(cur, [k.landing_kind for k in kinds])
    slices = {
        k.landing_kind: unread_slices(landing_dir, k.landing_kind, known, reload) for k in kinds
    }
    if not any(slices.values()):
        return None
    started = time.perf_counter()
    counts = EventCounts()
    source = events_landing_source(str(landing_dir), kinds, slices, counts, suppressed)
    info = run_source(
        source,
        landing_pipeline(dataset),
        dataset,
        loader,
        pipelines_dir,
        on_wait,
        after_load=_after_load(loader, dataset, kinds, slices, counts),
        before_run=_clear(loader, dataset, kinds, slices),
    )
    return EventReport(
        dataset,
        counts,
        stored_rows(loader, dataset, [k.table for k in kinds], info.loads_ids),
        time.perf_counter() - started,
    )


def unclaimed_campaigns(report: EventReport, clients: Sequence[Client]) -> dict[str, int]:
    """Events of the report whose campaign no client claims (``campaigns:`` in the clients
    config), by campaign id; snapshots (campaigns, sequences) are not events and not counted."""
    vendor = report.dataset.removeprefix("raw_")
    claimed = {i for (kind, i) in campaign_owners(clients) if kind == vendor}
    events = {k.landing_kind for k in EVENT_DATASETS[report.dataset] if k.table == "webhook_events"}
    found: dict[str, int] = {}
    for (kind, campaign), count in report.counts.campaigns.items():
        if kind in events and campaign not in claimed:
            found[campaign] = found.get(campaign, 0) + count
    return dict(sorted(found.items()))


def _clear(
    loader: Target, dataset: str, kinds: tuple[EventKind, ...], slices: dict[str, list[FileSlice]]
) -> Callable[[], None]:
    """Under the load lock, before reading: rows of a crashed run for the lines about to be read
    go, so each line is stored once (the tables are loaded append-only: one COPY per table)."""

    def clear() -> None:
        with cursor(loader) as cur:
            for kind in kinds:
                clear_unrecorded(cur, f"{dataset}.{kind.table}", slices[kind.landing_kind])

    return clear


def _after_load(
    loader: Target,
    dataset: str,
    kinds: tuple[EventKind, ...],
    slices: dict[str, list[FileSlice]],
    counts: EventCounts,
) -> Callable[[list[str]], None]:
    """Under the load lock, once the loads ``load_ids`` completed (a crashed run's pending one
    included), in one transaction as the loader: the suppression pass over the rows they wrote
    (counted in ``counts.suppressed``), then the progress of the lines read. Should the pass
    fail, no progress is recorded and the next run reads those lines again."""

    def after_load(load_ids: list[str]) -> None:
        conn = connect(loader, autocommit=False)
        try:
            with conn, conn.cursor() as cur:
                for kind in kinds:
                    table = f"{dataset}.{kind.table}"
                    pieces = slices[kind.landing_kind]
                    drop_reread_rows(cur, table, ("delivery_id",), pieces, load_ids)
                index_event_tables(cur, dataset, {k.table for k in kinds})
                scrubbed = suppress_loaded(cur, dataset, {k.table for k in kinds}, load_ids)
                record_progress(
                    cur, [piece.progress() for pieces in slices.values() for piece in pieces]
                )
        finally:
            conn.close()
        counts.suppressed += scrubbed.events

    return after_load


def stored_rows(
    loader: Target, dataset: str, tables: Iterable[str], load_ids: Sequence[str]
) -> int:
    """Rows the given loads inserted into the dataset's ``tables``."""
    if not load_ids:
        return 0
    total = 0
    with cursor(loader) as cur:
        for table in sorted(set(tables)):
            cur.execute("select to_regclass(%s)", (f"{dataset}.{table}",))
            if cur.fetchone()[0] is None:
                continue
            cur.execute(
                f'select count(*) from "{dataset}"."{table}" where _dlt_load_id = any(%s)',
                (list(load_ids),),
            )
            total += cur.fetchone()[0]
    return total
