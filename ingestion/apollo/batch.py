"""A batch of checked person records as one Arrow table per raw table (and its rejections).

What both Apollo sources hand to dlt: the landing reader builds batches (in worker processes
when there is much to read), the API source builds them in-process from each enrichment call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow as pa

from ingestion.apollo import settings
from ingestion.apollo.arrow import arrow_table
from ingestion.quarantine import Rejection

RAW_SPECS = {
    "people": settings.PERSON_COLUMNS,
    "organizations": settings.ORGANIZATION_COLUMNS,
    "employment_history": settings.EMPLOYMENT_COLUMNS,
}


@dataclass
class ArrowBatch:
    """``tables``: raw table name -> (Arrow table, names of its untyped json columns)."""

    tables: dict[str, tuple[pa.Table, list[str]]] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)


def arrow_batch(envelopes: Iterable[dict]) -> ArrowBatch:
    """The batch of ``_envelope`` results: person, organization and history rows, rejections."""
    rows: dict[str, list[dict]] = {name: [] for name in RAW_SPECS}
    batch = ArrowBatch()
    for envelope in envelopes:
        if "rejection" in envelope:
            batch.rejections.append(envelope["rejection"])
            continue
        rows["people"].append(envelope["person"])
        if envelope.get("organization"):
            rows["organizations"].append(envelope["organization"])
        rows["employment_history"].extend(envelope.get("history") or ())
    for name, picked in rows.items():
        if picked:
            batch.tables[name] = arrow_table(picked, RAW_SPECS[name])
    return batch
