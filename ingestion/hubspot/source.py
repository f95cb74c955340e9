"""The HubSpot API source: pipelines, deals (with their stage history), meetings and contacts
into the same ``raw_hubspot`` tables the landing files load.

Incremental on each object's last-modified property (``hs_lastmodifieddate`` on deals and
meetings, ``lastmodifieddate`` on contacts): dlt's resource state keeps, per object type, the
newest value the last completed pull stored, and the next pull writes only the records
modified since then. HubSpot's list endpoints cannot filter on it (only the search API can, and
that one returns neither the stage history nor the associations), so every page is still read;
what is written is new. The deleted records (``archived=true``) are read every time: they are
few, and a deletion does not always move the last-modified time. ``full_refresh`` writes every
record again (each version is still stored once: ``drop_known_versions``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dlt
from dlt.sources import DltResource

from ingestion.apollo.records import parse_timestamp
from ingestion.events import EventCounts, EventKind, envelopes, event_resources, rows_in_tables
from ingestion.events.api import api_lines
from ingestion.http import HttpStats
from ingestion.hubspot import KINDS, api

BY_TABLE = {kind.table: kind for kind in KINDS}


@dataclass
class PullCounts:
    """Records the pull read but did not write, per object type: not modified since the last."""

    unmodified: dict[str, int] = field(default_factory=dict)


@dlt.source(name="hubspot", section="hubspot", max_table_nesting=0)
def hubspot_source(
    access_token: str = dlt.secrets.value,
    base_url: str = api.DEFAULT_BASE_URL,
    full_refresh: bool = False,
    counts: EventCounts | None = None,
    stats: HttpStats | None = None,
    pulled: PullCounts | None = None,
    suppressed: frozenset[str] = frozenset(),
    sleep: Callable[[float], None] = time.sleep,
) -> list[DltResource]:
    """The account's CRM records; the token from dlt's providers
    (``sources.hubspot.access_token``)."""
    client = api.HubSpotClient(access_token, base_url, stats=stats, sleep=sleep)
    tally = counts if counts is not None else EventCounts()
    skipped = pulled if pulled is not None else PullCounts()

    def tables(kind: EventKind, lines: Iterable[Any]) -> Iterator[dict[str, Any]]:
        return envelopes(kind, rows_in_tables(kind, lines, tally, suppressed), tally)

    @dlt.resource(name="hubspot_api_batches", selected=False)
    def batches() -> Iterator[dict[str, Any]]:
        yield {"start": True}
        through: dict[str, str] = dlt.current.resource_state().setdefault("modified_through", {})
        pipelines = BY_TABLE["pipelines"]
        yield from tables(pipelines, api_lines(pipelines, api.pipelines(client), "/pipelines"))
        for object_type in api.object_types():
            kind = BY_TABLE[object_type]
            since = None if full_refresh else through.get(object_type)
            newest = _Newest(api.modified_property(object_type), since)
            live = newest.since(api.objects(client, object_type), skipped, object_type)
            endpoint = f"/crm/v3/objects/{object_type}"
            yield from tables(kind, api_lines(kind, live, endpoint))
            deleted = api.objects(client, object_type, archived=True)
            yield from tables(kind, api_lines(kind, deleted, f"{endpoint}?archived=true", 1))
            if newest.value is not None:
                through[object_type] = newest.value

    return event_resources(batches, KINDS)


class _Newest:
    """Passes on the records modified at or after ``since`` and remembers the newest time."""

    def __init__(self, prop: str, since: str | None) -> None:
        self.prop = prop
        self.value = since
        self._since = parse_timestamp(since) if since else None
        self._newest = self._since

    def since(
        self, records: Iterable[dict[str, Any]], skipped: PullCounts, object_type: str
    ) -> Iterator[dict[str, Any]]:
        now = datetime.now(tz=UTC)
        for record in records:
            properties = record.get("properties")
            text = properties.get(self.prop) if isinstance(properties, dict) else None
            at = parse_timestamp(text) if isinstance(text, str) else None
            if at is not None and self._since is not None and at < self._since:
                skipped.unmodified[object_type] = skipped.unmodified.get(object_type, 0) + 1
                continue
            # A record stamped in the future would make later pulls skip everything.
            if at is not None and at <= now and (self._newest is None or at > self._newest):
                self._newest, self.value = at, text
            yield record
