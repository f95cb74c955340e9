"""``cis ingest``: load a landing folder or pull from the Apollo API into raw_apollo."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cis.clients import Client
from cis.db import Target, cursor, loader_target
from ingestion.apollo import DATASET, LANDING_KIND, LoadCounts, apollo_landing_source, apollo_source
from ingestion.apollo.helpers import ApolloStats
from ingestion.pipeline import run_source

# Landing kinds with a loader today; later phases add theirs (DESIGN.md, "Landing format").
LANDING_LOADERS = {LANDING_KIND: "apollo"}


@dataclass
class IngestReport:
    counts: LoadCounts
    seconds: float = 0.0
    unknown_kinds: list[str] = field(default_factory=list)
    stats: ApolloStats | None = None


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


def unknown_landing_kinds(root: Path) -> list[str]:
    """Folders with files that no loader reads yet: reported, never silently skipped."""
    kinds = set()
    for path in root.glob("*/*/*"):
        if path.is_file():
            kind = str(path.parent.relative_to(root))
            if kind not in LANDING_LOADERS:
                kinds.add(kind)
    return sorted(kinds)


def ingest_landing(
    admin: Target, landing_dir: Path, pipelines_dir: Path | None = None
) -> IngestReport:
    started = time.perf_counter()
    counts = LoadCounts()
    source = apollo_landing_source(str(landing_dir), suppressed_keys(admin), counts=counts)
    run_source(source, "apollo_landing", DATASET, loader_target(admin), pipelines_dir)
    return IngestReport(counts, time.perf_counter() - started, unknown_landing_kinds(landing_dir))


def ingest_apollo_api(
    admin: Target,
    clients: Sequence[Client],
    api_key: str | None = None,
    base_url: str | None = None,
    pipelines_dir: Path | None = None,
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
        known_person_ids(admin),
        suppressed_keys(admin),
        counts=counts,
        stats=stats,
        **kwargs,
    )
    run_source(source, "apollo", DATASET, loader_target(admin), pipelines_dir)
    return IngestReport(counts, time.perf_counter() - started, stats=stats)
