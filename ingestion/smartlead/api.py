"""Smartlead's REST API: campaigns with their sequences, and campaign statistics rows.

Endpoints (``https://server.smartlead.ai/api/v1``, the key as the ``api_key`` query parameter):

- ``GET /campaigns``: every campaign of the account (a JSON list);
- ``GET /campaigns/{id}`` and ``GET /campaigns/{id}/sequences``: one campaign and the bare list
  of its steps with ``sequence_variants`` (merged into one snapshot as ``sequences``, the shape
  of ``smartlead__campaign.jsonl``);
- ``GET /campaigns/{id}/statistics?offset=&limit=``: ``{total_stats, offset, limit, data[]}``,
  one row per sent email, at most 1000 per page; ``sent_time_start_date`` narrows it to rows
  sent since a time (the incremental pull).
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

DEFAULT_BASE_URL = "https://server.smartlead.ai/api/v1"
STATISTICS_PAGE = 1000  # the documented maximum of ``limit``


class SmartleadClient(ApiClient):
    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        stats: HttpStats | None = None,
        sleep: Callable[[float], None] = time.sleep,
        policy: RetryPolicy = DEFAULT_POLICY,
    ) -> None:
        if not api_key:
            raise self.auth_error(
                "No Smartlead API key: set sources.smartlead.api_key in .dlt/secrets.toml "
                "or the SOURCES__SMARTLEAD__API_KEY environment variable."
            )
        super().__init__(
            "Smartlead",
            base_url,
            auth_hint="sources.smartlead.api_key",
            params={"api_key": api_key},
            stats=stats,
            sleep=sleep,
            policy=policy,
        )


def campaigns(client: SmartleadClient) -> list[dict[str, Any]]:
    """The account's campaigns as the list endpoint returns them."""
    path = "/campaigns"
    return [c for c in expect_list(client, client.get(path), path) if isinstance(c, dict)]


def campaign_snapshot(client: SmartleadClient, campaign_id: str) -> dict[str, Any]:
    """The campaign object with its steps and variants added as ``sequences``."""
    path = f"/campaigns/{campaign_id}"
    campaign = expect_object(client, client.get(path), path)
    steps_path = f"{path}/sequences"
    steps = client.get(steps_path)
    # Some answers wrap the list; the contract's ``sequences`` is the bare list.
    campaign["sequences"] = expect_list(
        client, steps, steps_path, "data" if isinstance(steps, dict) else None
    )
    return campaign


def statistics_pages(
    client: SmartleadClient, campaign_id: str, sent_since: str | None = None
) -> Iterator[tuple[int, list[Any]]]:
    """``(offset, rows)`` of each statistics page until an empty page, or a short one once
    ``total_stats`` (a string, a hint only) is reached.

    A server that pages shorter than asked is followed to ``total_stats``; a server that
    answers the same page again whatever the offset stops the pull with an error.
    """
    path = f"/campaigns/{campaign_id}/statistics"
    offset, previous = 0, None
    while True:
        params: dict[str, Any] = {"offset": offset, "limit": STATISTICS_PAGE}
        if sent_since is not None:
            params["sent_time_start_date"] = sent_since
        page = expect_object(client, client.get(path, params), path)
        rows = expect_list(client, page, path, "data")
        if not rows:
            return
        first = rows[0].get("stats_id") if isinstance(rows[0], dict) else None
        if first is not None and first == previous:
            raise client.response_error(
                f"{path}: Smartlead answered offset {offset} with the page it gave before "
                "(it ignores offset): stopped rather than store the same rows again."
            )
        previous = first
        yield offset, rows
        offset += len(rows)
        total = _total(page.get("total_stats"))
        if len(rows) < STATISTICS_PAGE and (total is None or offset >= total):
            return


def _total(value: object) -> int | None:
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None
