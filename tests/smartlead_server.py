"""A fake Smartlead API (``/api/v1``) that speaks the documented shapes.

- ``GET /campaigns``: the campaigns as a JSON list;
- ``GET /campaigns/{id}``: the campaign object (no ``sequences``);
- ``GET /campaigns/{id}/sequences``: the bare list of steps with ``sequence_variants``;
- ``GET /campaigns/{id}/statistics?offset=&limit=&sent_time_start_date=``:
  ``{"total_stats": "N", "offset", "limit", "data": [...]}``; a ``limit`` above 1000 is a
  violation of the documented maximum; ``sent_time_start_date`` keeps rows sent at or after it.

The key is the ``api_key`` query parameter. Campaigns and rows come from the shared contracts
(``tests/fixtures/contracts``), with ``extra_rows`` more statistics rows made from them.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingestion.apollo.records import parse_timestamp
from tests.vendor_server import Request, VendorServer

CONTRACTS = Path(__file__).parent / "fixtures" / "contracts"


def contract(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (CONTRACTS / name).read_text().splitlines() if line]


def statistics_rows(count: int, start: datetime) -> list[dict[str, Any]]:
    """``count`` rows shaped like the contract's first row, one sent every minute from ``start``."""
    template = contract("smartlead__statistics.jsonl")[0]
    rows = []
    for i in range(count):
        row = copy.deepcopy(template)
        sent = start + timedelta(minutes=i)
        row.update(
            stats_id=f"00000000-0000-4000-8000-{i:012d}",
            lead_email=f"lead{i}@example.com",
            lead_name=f"Lead {i}",
            sent_time=sent.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            open_time=None,
            click_time=None,
            reply_time=None,
            open_count=0,
            click_count=0,
            lead_category=None,
        )
        rows.append(row)
    return rows


@dataclass
class FakeSmartlead(VendorServer):
    api_key: str = "sl-test-key"
    prefix: str = "/api/v1"
    campaigns: list[dict[str, Any]] = field(default_factory=list)
    statistics: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.campaigns:
            self.campaigns = contract("smartlead__campaign.jsonl")
        if not self.statistics:
            first = str(self.campaigns[0]["id"])
            self.statistics = {first: contract("smartlead__statistics.jsonl")}
            for other in self.campaigns[1:]:
                self.statistics[str(other["id"])] = []

    def authorised(self, request: Request) -> bool:
        return request.query.get("api_key") == self.api_key

    def answer(self, request: Request) -> tuple[int, Any]:
        parts = request.path.strip("/").split("/")
        if parts == ["campaigns"]:
            return 200, [_without_sequences(c) for c in self.campaigns]
        if len(parts) >= 2 and parts[0] == "campaigns":
            campaign = next((c for c in self.campaigns if str(c["id"]) == parts[1]), None)
            if campaign is None:
                return 404, {"error": "Campaign not found"}
            if len(parts) == 2:
                return 200, _without_sequences(campaign)
            if parts[2:] == ["sequences"]:
                return 200, copy.deepcopy(campaign.get("sequences") or [])
            if parts[2:] == ["statistics"]:
                return 200, self._statistics(parts[1], request.query)
        return 404, {"error": "not found"}

    def _statistics(self, campaign_id: str, query: dict[str, str]) -> dict[str, Any]:
        offset, limit = int(query.get("offset", 0)), int(query.get("limit", 100))
        if limit > 1000:
            self.violations.append(f"statistics limit {limit} > 1000")
        rows = self.statistics.get(campaign_id, [])
        since = query.get("sent_time_start_date")
        if since is not None:
            start = parse_timestamp(since)
            assert start is not None, f"sent_time_start_date not a time: {since!r}"
            rows = [r for r in rows if parse_timestamp(r["sent_time"]) >= start]
        page = rows[offset : offset + min(limit, 1000)]
        return {
            "total_stats": str(len(rows)),
            "offset": offset,
            "limit": limit,
            "data": copy.deepcopy(page),
        }


def _without_sequences(campaign: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in campaign.items() if k != "sequences"}


SEND_START = datetime(2025, 9, 1, 13, 0, tzinfo=UTC)
