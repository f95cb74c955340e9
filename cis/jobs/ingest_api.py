"""``cis ingest smartlead`` / ``salesforge`` / ``hubspot``: pull from the vendors' APIs into the
raw tables the landing files load, under the same dataset lock.

After each load the rows of versions already stored are dropped (a re-pull of unchanged
statistics rows or sequences adds nothing).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cis.db import Target, cursor, loader_target
from cis.jobs.ingest import suppressed_keys
from cis.jobs.ingest_events import api_pipeline, stored_rows
from ingestion import hubspot, salesforge, smartlead
from ingestion.events import EventCounts
from ingestion.events.api import drop_known_versions
from ingestion.events.forget import suppress_loaded
from ingestion.events.indexes import index_event_tables
from ingestion.http import HttpStats
from ingestion.hubspot.source import PullCounts, hubspot_source
from ingestion.pipeline import run_source
from ingestion.salesforge.source import salesforge_source
from ingestion.smartlead.source import smartlead_source


@dataclass
class ApiReport:
    """What one API pull fetched, stored and recognised as already stored."""

    dataset: str
    counts: EventCounts
    stats: HttpStats
    stored: int
    unchanged: int  # fetched rows whose version was already stored (dropped after the load)
    seconds: float


def ingest_smartlead_api(
    admin: Target,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    campaign_ids: Sequence[str] | None = None,
    lookback_days: int | None = None,
    full_refresh: bool = False,
    pipelines_dir: Path | None = None,
    on_wait: Callable[[], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ApiReport:
    """Campaigns with their sequences, and statistics rows, from Smartlead's API."""
    counts, stats = EventCounts(), HttpStats()
    options = _given(api_key=api_key, base_url=base_url, lookback_days=lookback_days)
    source = smartlead_source(
        campaign_ids=list(campaign_ids) if campaign_ids else None,
        full_refresh=full_refresh,
        counts=counts,
        stats=stats,
        suppressed=frozenset(suppressed_keys(admin)),
        sleep=sleep,
        **options,
    )
    return _run(
        admin,
        source,
        smartlead.DATASET,
        ("campaigns", "statistics"),
        counts,
        stats,
        pipelines_dir,
        on_wait,
    )


def ingest_salesforge_api(
    admin: Target,
    *,
    api_key: str | None = None,
    workspace_id: str | None = None,
    base_url: str | None = None,
    pipelines_dir: Path | None = None,
    on_wait: Callable[[], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ApiReport:
    """Every sequence of the workspace (legacy and multichannel) from Salesforge's API."""
    counts, stats = EventCounts(), HttpStats()
    options = _given(api_key=api_key, workspace_id=workspace_id, base_url=base_url)
    source = salesforge_source(
        counts=counts,
        stats=stats,
        suppressed=frozenset(suppressed_keys(admin)),
        sleep=sleep,
        **options,
    )
    return _run(
        admin, source, salesforge.DATASET, ("sequences",), counts, stats, pipelines_dir, on_wait
    )


def ingest_hubspot_api(
    admin: Target,
    *,
    access_token: str | None = None,
    base_url: str | None = None,
    full_refresh: bool = False,
    pipelines_dir: Path | None = None,
    on_wait: Callable[[], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ApiReport:
    """Deal pipelines, then deals (with their stage history), meetings and contacts modified
    since the last pull (all of them with ``full_refresh``), live and archived, from HubSpot."""
    counts, stats, pulled = EventCounts(), HttpStats(), PullCounts()
    options = _given(access_token=access_token, base_url=base_url)
    source = hubspot_source(
        full_refresh=full_refresh,
        counts=counts,
        stats=stats,
        pulled=pulled,
        suppressed=frozenset(suppressed_keys(admin)),
        sleep=sleep,
        **options,
    )
    tables = tuple(kind.table for kind in hubspot.KINDS)
    report = _run(admin, source, hubspot.DATASET, tables, counts, stats, pipelines_dir, on_wait)
    report.unchanged += sum(pulled.unmodified.values())
    return report


def _given(**options: object) -> dict[str, object]:
    """The options the caller set; the rest come from dlt's providers or the defaults."""
    return {name: value for name, value in options.items() if value is not None}


def _run(
    admin: Target,
    source,
    dataset: str,
    tables: tuple[str, ...],
    counts: EventCounts,
    stats: HttpStats,
    pipelines_dir: Path | None,
    on_wait: Callable[[], None] | None,
) -> ApiReport:
    started = time.perf_counter()
    loader = loader_target(admin)
    dropped: list[int] = []

    def after_load(load_ids: list[str]) -> None:
        """Under the lock: versions already stored go; deletion requests reach what is new."""
        with cursor(loader) as cur:
            dropped.append(drop_known_versions(cur, dataset, tables))
            index_event_tables(cur, dataset, tables)
            counts.suppressed += suppress_loaded(cur, dataset, tables, load_ids).events

    info = run_source(
        source,
        api_pipeline(dataset),
        dataset,
        loader,
        pipelines_dir,
        on_wait,
        after_load=after_load,
    )
    return ApiReport(
        dataset,
        counts,
        stats,
        stored_rows(loader, dataset, tables, info.loads_ids),
        sum(dropped),
        time.perf_counter() - started,
    )
