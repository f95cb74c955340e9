"""The Salesforge API source: every sequence (legacy and multichannel) into the same
``raw_salesforge.sequences`` table the landing files load; each version kept once."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

import dlt
from dlt.sources import DltResource

from ingestion.events import EventCounts, envelopes, event_resources, rows_in_tables
from ingestion.events.api import api_lines
from ingestion.http import HttpStats
from ingestion.salesforge import KINDS, api

SEQUENCES = next(k for k in KINDS if k.table == "sequences")


@dlt.source(name="salesforge", section="salesforge", max_table_nesting=0)
def salesforge_source(
    api_key: str = dlt.secrets.value,
    workspace_id: str = dlt.config.value,
    base_url: str = api.DEFAULT_BASE_URL,
    counts: EventCounts | None = None,
    stats: HttpStats | None = None,
    suppressed: frozenset[str] = frozenset(),
    sleep: Callable[[float], None] = time.sleep,
) -> list[DltResource]:
    """The workspace's sequences; the key and workspace from dlt's providers
    (``sources.salesforge.api_key``, ``sources.salesforge.workspace_id``)."""
    client = api.SalesforgeClient(api_key, workspace_id, base_url, stats=stats, sleep=sleep)
    tally = counts if counts is not None else EventCounts()

    @dlt.resource(name="salesforge_api_batches", selected=False)
    def batches() -> Iterator[dict[str, Any]]:
        yield {"start": True}
        endpoint = f"{client.workspace}/sequences"
        found = itertools.chain(api.legacy_sequences(client), api.multichannel_sequences(client))
        lines = itertools.chain.from_iterable(
            api_lines(SEQUENCES, [sequence], endpoint, number)
            for number, sequence in enumerate(found, start=1)
        )
        yield from envelopes(SEQUENCES, rows_in_tables(SEQUENCES, lines, tally, suppressed), tally)

    return event_resources(batches, (SEQUENCES,))
