"""Salesforge's public API (v2): sequences with their steps and variants, both shapes.

Endpoints (``https://api.salesforge.ai/public/v2``, the raw key in ``Authorization``, no
``Bearer``), as the swagger at ``/public/v2/swagger`` lists them:

- ``GET /workspaces/{ws}/sequences?limit=&offset=``: the legacy sequences (``seq_`` ids, the
  ones webhooks carry), paged; ``GET /workspaces/{ws}/sequences/{id}`` one with its ``steps``;
- ``GET /workspaces/{ws}/multichannel/sequences?limit=&offset=`` and
  ``.../multichannel/sequences/{id}/nodes``: multichannel sequences (integer ids), merged with
  their ``nodes`` into one snapshot (the shape of ``salesforge__sequence.jsonl`` line 2). A
  workspace without multichannel sequences may answer 404 there: that is no sequences.

A list page is ``{data[], total, limit, offset}``; a bare list is accepted too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from ingestion.http import (
    DEFAULT_POLICY,
    ApiClient,
    HttpStats,
    RetryPolicy,
    expect_list,
    expect_object,
)

DEFAULT_BASE_URL = "https://api.salesforge.ai/public/v2"
PAGE = 100


class SalesforgeClient(ApiClient):
    def __init__(
        self,
        api_key: str,
        workspace_id: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        stats: HttpStats | None = None,
        sleep: Callable[[float], None] = time.sleep,
        policy: RetryPolicy = DEFAULT_POLICY,
    ) -> None:
        if not api_key:
            raise self.auth_error(
                "No Salesforge API key: set sources.salesforge.api_key in .dlt/secrets.toml "
                "or the SOURCES__SALESFORGE__API_KEY environment variable."
            )
        if not workspace_id:
            raise self.error(
                "No Salesforge workspace: set sources.salesforge.workspace_id in "
                ".dlt/config.toml or SOURCES__SALESFORGE__WORKSPACE_ID."
            )
        super().__init__(
            "Salesforge",
            base_url,
            auth_hint="sources.salesforge.api_key",
            headers={"Authorization": api_key},
            stats=stats,
            sleep=sleep,
            policy=policy,
        )
        self.workspace = f"/workspaces/{workspace_id}"


def listed(client: SalesforgeClient, path: str) -> Iterator[dict[str, Any]]:
    """Every item of a paged list endpoint: until an empty page, or a short one once ``total``
    (a hint) is reached; a page answered again whatever the offset stops with an error."""
    offset, previous = 0, None
    while True:
        page = client.get(path, {"limit": PAGE, "offset": offset})
        items = expect_list(client, page, path, "data" if isinstance(page, dict) else None)
        if not items:
            return
        first = items[0].get("id") if isinstance(items[0], dict) else None
        if first is not None and first == previous:
            raise client.response_error(
                f"{path}: Salesforge answered offset {offset} with the page it gave before "
                "(it ignores offset): stopped rather than read the same items again."
            )
        previous = first
        yield from (item for item in items if isinstance(item, dict))
        offset += len(items)
        total = page.get("total") if isinstance(page, dict) else None
        if len(items) < PAGE and (not isinstance(total, int) or offset >= total):
            return


def legacy_sequences(client: SalesforgeClient) -> Iterator[dict[str, Any]]:
    """Each legacy sequence in full (the list gives a summary; the detail has the steps)."""
    path = f"{client.workspace}/sequences"
    for summary in listed(client, path):
        if summary.get("id") is None:
            continue
        detail_path = f"{path}/{summary['id']}"
        yield expect_object(client, client.get(detail_path), detail_path)


def multichannel_sequences(client: SalesforgeClient) -> Iterator[dict[str, Any]]:
    """Each multichannel sequence with its ``nodes``; none if the workspace has no such API."""
    path = f"{client.workspace}/multichannel/sequences"
    try:
        summaries = list(listed(client, path))
    except client.response_error as exc:
        if "answered 404" in str(exc):
            return
        raise
    for sequence in summaries:
        if sequence.get("id") is None:
            continue
        nodes_path = f"{path}/{sequence['id']}/nodes"
        nodes = client.get(nodes_path)
        sequence["nodes"] = expect_list(
            client, nodes, nodes_path, "data" if isinstance(nodes, dict) else None
        )
        yield sequence
