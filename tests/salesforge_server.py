"""A fake Salesforge public API (``/public/v2``) that speaks the shapes of the swagger and the
contracts.

- ``GET /workspaces/{ws}/sequences?limit=&offset=``: ``{"data": [summaries], "total", "limit",
  "offset"}``; ``GET /workspaces/{ws}/sequences/{id}``: the legacy sequence with ``steps``;
- ``GET /workspaces/{ws}/multichannel/sequences?limit=&offset=`` (same envelope) and
  ``.../multichannel/sequences/{id}/nodes``: the bare list of nodes; ``multichannel=False``
  answers 404 there (a workspace without the multichannel API).

The key is the raw ``Authorization`` header (no ``Bearer``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from tests.smartlead_server import contract
from tests.vendor_server import Request, VendorServer

WORKSPACE = "wks_7h2k9d4m1q8x5c3v6b0nz"


def legacy_sequences(count: int) -> list[dict[str, Any]]:
    """``count`` legacy sequences made from the contract's first line."""
    template = contract("salesforge__sequence.jsonl")[0]
    made = []
    for i in range(count):
        sequence = copy.deepcopy(template)
        sequence["id"] = f"seq_{i:020d}"
        sequence["name"] = f"Sequence {i}"
        made.append(sequence)
    return made


@dataclass
class FakeSalesforge(VendorServer):
    api_key: str = "sf-test-key"
    prefix: str = "/public/v2"
    legacy: list[dict[str, Any]] = field(default_factory=list)
    multichannel: list[dict[str, Any]] = field(default_factory=list)
    multichannel_api: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.legacy:
            self.legacy = [contract("salesforge__sequence.jsonl")[0]]
        if not self.multichannel:
            self.multichannel = [contract("salesforge__sequence.jsonl")[1]]

    def authorised(self, request: Request) -> bool:
        return request.headers.get("authorization") == self.api_key

    def answer(self, request: Request) -> tuple[int, Any]:
        parts = request.path.strip("/").split("/")
        if parts[:2] != ["workspaces", WORKSPACE]:
            return 404, {"message": "workspace not found"}
        rest = parts[2:]
        if rest == ["sequences"]:
            return 200, _page([_summary(s) for s in self.legacy], request.query)
        if len(rest) == 2 and rest[0] == "sequences":
            found = next((s for s in self.legacy if s["id"] == rest[1]), None)
            return (200, copy.deepcopy(found)) if found else (404, {"message": "not found"})
        if rest[:2] == ["multichannel", "sequences"]:
            if not self.multichannel_api:
                return 404, {"message": "Not Found"}
            if len(rest) == 2:
                summaries = [_summary(s, "nodes") for s in self.multichannel]
                return 200, _page(summaries, request.query)
            if len(rest) == 4 and rest[3] == "nodes":
                found = next((s for s in self.multichannel if str(s["id"]) == rest[2]), None)
                if found is None:
                    return 404, {"message": "not found"}
                return 200, copy.deepcopy(found.get("nodes") or [])
        return 404, {"message": "not found"}


def _summary(sequence: dict[str, Any], heavy: str = "steps") -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in sequence.items() if k != heavy}


def _page(items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    limit, offset = int(query.get("limit", 10)), int(query.get("offset", 0))
    return {
        "data": items[offset : offset + limit],
        "total": len(items),
        "limit": limit,
        "offset": offset,
    }
