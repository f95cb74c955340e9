"""A fake HubSpot CRM v3 API that speaks the shapes of HubSpot's docs and the contracts.

- ``GET /crm/v3/objects/{deals|meetings|contacts}?limit=&after=&archived=``: ``{"results":
  [...], "paging": {"next": {"after", "link"}}}`` (no ``paging`` on the last page); a page of
  deals holds at most 50 records when ``propertiesWithHistory`` is asked, and deals carry
  ``propertiesWithHistory`` only then; ``associations`` only when asked;
- ``GET /crm/v3/pipelines/deals``: ``{"results": [pipelines]}``.

The token is ``Authorization: Bearer <token>``. Every answer carries the rolling window's
rate-limit headers; ``remaining`` scripts how many requests are left in it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from tests.smartlead_server import contract
from tests.vendor_server import Request, VendorServer

TOKEN = "pat-na1-test-token"


def deals(count: int, modified: str = "2025-10-08T16:21:40.377Z") -> list[dict[str, Any]]:
    """``count`` deals made from the contract's first deal, all modified at ``modified``."""
    template = contract("hubspot__deal.jsonl")[0]
    made = []
    for i in range(count):
        deal = copy.deepcopy(template)
        deal["id"] = str(40_000_000_000 + i)
        deal["properties"]["hs_object_id"] = deal["id"]
        deal["properties"]["hs_lastmodifieddate"] = modified
        made.append(deal)
    return made


@dataclass
class FakeHubSpot(VendorServer):
    token: str = TOKEN
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    archived: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    pipelines: list[dict[str, Any]] = field(default_factory=list)
    remaining: int = 99

    def __post_init__(self) -> None:
        super().__post_init__()
        for object_type, name in (
            ("deals", "hubspot__deal.jsonl"),
            ("meetings", "hubspot__meeting.jsonl"),
            ("contacts", "hubspot__contact.jsonl"),
        ):
            self.records.setdefault(object_type, contract(name))
            self.archived.setdefault(object_type, [])
        if not self.pipelines:
            self.pipelines = contract("hubspot__pipelines.jsonl")

    def authorised(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.token}"

    def answer_headers(self, request: Request) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": "100",
            "X-HubSpot-RateLimit-Remaining": str(self.remaining),
        }

    def answer(self, request: Request) -> tuple[int, Any]:
        parts = request.path.strip("/").split("/")
        if parts == ["crm", "v3", "pipelines", "deals"]:
            return 200, {"results": copy.deepcopy(self.pipelines)}
        if len(parts) == 4 and parts[:3] == ["crm", "v3", "objects"] and parts[3] in self.records:
            return 200, self._page(parts[3], request)
        return 404, {"status": "error", "message": "Unable to route request", "category": "X"}

    def _page(self, object_type: str, request: Request) -> dict[str, Any]:
        query = request.query
        history = query.get("propertiesWithHistory")
        limit = int(query.get("limit", 10))
        if history and limit > 50:
            self.violations.append(f"{object_type}: limit {limit} with propertiesWithHistory")
        pool = self.archived if query.get("archived") == "true" else self.records
        start = int(query.get("after", "0"))
        chosen = [
            _shaped(r, history, query.get("associations"))
            for r in pool[object_type][start : start + limit]
        ]
        page: dict[str, Any] = {"results": chosen}
        if start + limit < len(pool[object_type]):
            after = str(start + limit)
            page["paging"] = {"next": {"after": after, "link": f"?after={after}"}}
        return page


def _shaped(record: dict[str, Any], history: str | None, associations: str | None) -> dict:
    shaped = copy.deepcopy(record)
    if not history:
        shaped.pop("propertiesWithHistory", None)
    if not associations:
        shaped.pop("associations", None)
    return shaped
