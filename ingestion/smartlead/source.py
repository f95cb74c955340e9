"""The Smartlead API source: campaigns (with sequences and variants) and statistics rows into
the same ``raw_smartlead`` tables the landing files load.

Incremental: each campaign's statistics are asked from ``lookback_days`` before the newest
``sent_time`` the last completed pull stored for it (dlt's resource state), because a row keeps
changing after it is sent (opens, clicks, replies come later); ``full_refresh`` asks for all of
them. Every version of a row is kept once (``ingestion.events.api.drop_known_versions``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt
from dlt.sources import DltResource

from ingestion.apollo.records import parse_timestamp
from ingestion.events import (
    EventCounts,
    EventKind,
    envelopes,
    event_resources,
    rows_in_tables,
)
from ingestion.events.api import api_lines
from ingestion.http import HttpStats
from ingestion.landing import LandingLine
from ingestion.quarantine import Rejection
from ingestion.smartlead import KINDS, api

CAMPAIGNS, STATISTICS = (
    next(k for k in KINDS if k.table == t) for t in ("campaigns", "statistics")
)
DEFAULT_LOOKBACK_DAYS = 30


@dlt.source(name="smartlead", section="smartlead", max_table_nesting=0)
def smartlead_source(
    api_key: str = dlt.secrets.value,
    base_url: str = api.DEFAULT_BASE_URL,
    campaign_ids: Sequence[str] | None = None,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    full_refresh: bool = False,
    counts: EventCounts | None = None,
    stats: HttpStats | None = None,
    suppressed: frozenset[str] = frozenset(),
    sleep: Callable[[float], None] = time.sleep,
) -> list[DltResource]:
    """Every campaign of the account (or ``campaign_ids``), then its statistics rows.

    The key comes from dlt's providers (``sources.smartlead.api_key``), the base URL from
    ``sources.smartlead.base_url`` or the argument.
    """
    client = api.SmartleadClient(api_key, base_url, stats=stats, sleep=sleep)
    tally = counts if counts is not None else EventCounts()

    def tables(kind: EventKind, lines: Iterable[LandingLine | Rejection]) -> Iterator[dict]:
        return envelopes(kind, rows_in_tables(kind, lines, tally, suppressed), tally)

    @dlt.resource(name="smartlead_api_batches", selected=False)
    def batches() -> Iterator[dict[str, Any]]:
        yield {"start": True}
        sent_through: dict[str, str] = dlt.current.resource_state().setdefault(
            "statistics_sent_through", {}
        )
        wanted = list(campaign_ids) if campaign_ids else _campaign_ids(client)
        for campaign_id in wanted:
            snapshot = api.campaign_snapshot(client, campaign_id)
            tally.files += 1
            yield from tables(
                CAMPAIGNS, api_lines(CAMPAIGNS, [snapshot], f"/campaigns/{campaign_id}")
            )
            since = None if full_refresh else _since(sent_through.get(campaign_id), lookback_days)
            newest = _Newest(sent_through.get(campaign_id))
            yield from tables(STATISTICS, newest.watch(_statistics(client, campaign_id, since)))
            if newest.value is not None:
                sent_through[campaign_id] = newest.value

    return event_resources(batches, (CAMPAIGNS, STATISTICS))


def _campaign_ids(client: api.SmartleadClient) -> list[str]:
    return [str(c["id"]) for c in api.campaigns(client) if c.get("id") is not None]


def _statistics(
    client: api.SmartleadClient, campaign_id: str, since: str | None
) -> Iterator[LandingLine | Rejection]:
    endpoint = f"/campaigns/{campaign_id}/statistics"
    for offset, rows in api.statistics_pages(client, campaign_id, since):
        yield from api_lines(STATISTICS, rows, endpoint, offset + 1, campaign_id=campaign_id)


def _since(sent_through: str | None, lookback_days: int) -> str | None:
    """``sent_time_start_date`` for the next pull: the newest stored send minus the lookback,
    written as the API's own examples write it (``2023-10-16 10:33:02.000Z``)."""
    newest = parse_timestamp(sent_through) if sent_through else None
    if newest is None:
        return None
    start = newest - timedelta(days=lookback_days)
    return start.strftime("%Y-%m-%d %H:%M:%S.") + f"{start.microsecond // 1000:03d}Z"


class _Newest:
    """Passes lines through and remembers the newest ``sent_time`` among them."""

    def __init__(self, start: str | None) -> None:
        self.value = start
        self._at: datetime | None = parse_timestamp(start) if start else None

    def watch(self, lines: Iterable[LandingLine | Rejection]) -> Iterator[LandingLine | Rejection]:
        now = datetime.now(tz=UTC)
        for line in lines:
            if isinstance(line, LandingLine):
                text = line.payload.get("sent_time")
                at = parse_timestamp(text) if isinstance(text, str) else None
                # A send stamped in the future would make later pulls ask for nothing.
                if at is not None and at <= now and (self._at is None or at > self._at):
                    self._at, self.value = at, text
            yield line
