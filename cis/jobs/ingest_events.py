"""``cis ingest landing``, events part: every vendor's event kinds from the landing folder.

Each vendor dataset loads under its own lock, reading only what no completed load has read
(``ingestion.progress``); the progress is recorded once the load has completed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cis.db import Target, cursor
from ingestion import heyreach, salesforge, smartlead, twilio
from ingestion.events import EventCounts, EventKind, events_landing_source
from ingestion.pipeline import run_source
from ingestion.progress import FileSlice, read_progress, record_progress, unread_slices

# Vendor dataset -> its landing kinds (DESIGN.md, "Landing format").
EVENT_DATASETS: dict[str, tuple[EventKind, ...]] = {
    smartlead.DATASET: smartlead.KINDS,
    salesforge.DATASET: salesforge.KINDS,
    heyreach.DATASET: heyreach.KINDS,
    twilio.DATASET: twilio.KINDS,
}
EVENT_LANDING_KINDS = {
    kind.landing_kind: dataset for dataset, kinds in EVENT_DATASETS.items() for kind in kinds
}


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

    ``suppressed``: hashed keys of deletion requests; those people's events keep no data.
    """
    reports = []
    for dataset, kinds in EVENT_DATASETS.items():
        names = [k.landing_kind for k in kinds]
        with cursor(loader) as cur:
            known = read_progress(cur, names)
        slices = {
            k.landing_kind: unread_slices(landing_dir, k.landing_kind, known, reload) for k in kinds
        }
        if not any(slices.values()):
            continue
        started = time.perf_counter()
        counts = EventCounts()
        source = events_landing_source(str(landing_dir), kinds, slices, counts, suppressed)
        info = run_source(
            source,
            f"{dataset.removeprefix('raw_')}_landing",
            dataset,
            loader,
            pipelines_dir,
            on_wait,
            after_load=_record(loader, slices),
        )
        reports.append(
            EventReport(
                dataset,
                counts,
                _stored(loader, dataset, kinds, info.loads_ids),
                time.perf_counter() - started,
            )
        )
    return reports


def _record(loader: Target, slices: dict[str, list[FileSlice]]) -> Callable[[list[str]], None]:
    def record(_load_ids: list[str]) -> None:
        with cursor(loader) as cur:
            record_progress(
                cur, [piece.progress() for pieces in slices.values() for piece in pieces]
            )

    return record


def _stored(loader: Target, dataset: str, kinds: tuple[EventKind, ...], load_ids: list[str]) -> int:
    """Rows the given loads inserted into the dataset's event tables."""
    if not load_ids:
        return 0
    total = 0
    with cursor(loader) as cur:
        for table in {k.table for k in kinds}:
            cur.execute("select to_regclass(%s)", (f"{dataset}.{table}",))
            if cur.fetchone()[0] is None:
                continue
            cur.execute(
                f'select count(*) from "{dataset}"."{table}" where _dlt_load_id = any(%s)',
                (list(load_ids),),
            )
            total += cur.fetchone()[0]
    return total
