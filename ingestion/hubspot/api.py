"""HubSpot's CRM v3 API: deals, meetings and contacts, and the deal pipelines.

Endpoints (``https://api.hubapi.com``, a private app's token as ``Authorization: Bearer``):

- ``GET /crm/v3/objects/{deals|meetings|contacts}?limit=&after=&properties=&associations=
  &archived=``: ``{results[], paging.next.after}``; deals also ask
  ``propertiesWithHistory=dealstage`` (every stage change, newest first), which caps a page at
  50 records;
- ``GET /crm/v3/pipelines/deals``: ``{results[]}``, each pipeline with its ``stages``.

Rate limits: every answer may carry ``X-HubSpot-RateLimit-Remaining`` (left in the rolling
window of ``X-HubSpot-RateLimit-Interval-Milliseconds``) and ``...-Daily-Remaining``. The client
slows down before the window runs out; a 429 waits ``Retry-After`` or, without it, one window;
a 429 whose ``policyName`` is ``DAILY`` stops the pull (a day cannot be waited out in a run).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import requests

from ingestion.http import (
    DEFAULT_POLICY,
    ApiClient,
    HttpStats,
    RetryPolicy,
    expect_list,
    expect_object,
    int_header,
)

DEFAULT_BASE_URL = "https://api.hubapi.com"
PAGE = 100
PAGE_WITH_HISTORY = 50  # HubSpot's cap when propertiesWithHistory is asked
SLOW_DOWN_WHEN_LEFT = 2
REMAINING = "x-hubspot-ratelimit-remaining"
INTERVAL_MS = "x-hubspot-ratelimit-interval-milliseconds"
DAILY_REMAINING = "x-hubspot-ratelimit-daily-remaining"

# What each object type is asked for: the properties the marts read (any other the account
# has is not asked, but every property HubSpot returns is kept), its associations, and the
# property its last modification is in.
OBJECTS: dict[str, dict[str, Any]] = {
    "deals": {
        "properties": (
            "dealname",
            "amount",
            "deal_currency_code",
            "pipeline",
            "dealstage",
            "hs_deal_stage_probability",
            "closedate",
            "createdate",
            "dealtype",
            "hs_is_closed",
            "hs_is_closed_won",
            "closed_lost_reason",
            "closed_won_reason",
            "hubspot_owner_id",
            "hs_lastmodifieddate",
        ),
        "history": ("dealstage",),
        "associations": ("contacts",),
        "modified": "hs_lastmodifieddate",
    },
    "meetings": {
        "properties": (
            "hs_timestamp",
            "hs_meeting_title",
            "hs_meeting_body",
            "hs_internal_meeting_notes",
            "hs_meeting_external_url",
            "hs_meeting_location",
            "hs_meeting_start_time",
            "hs_meeting_end_time",
            "hs_meeting_outcome",
            "hs_activity_type",
            "hs_meeting_source",
            "hubspot_owner_id",
            "hs_createdate",
            "hs_lastmodifieddate",
        ),
        "history": ("hs_meeting_start_time",),  # every time the meeting was moved to,
        "associations": ("contacts", "deals"),
        "modified": "hs_lastmodifieddate",
    },
    "contacts": {
        "properties": (
            "email",
            "firstname",
            "lastname",
            "jobtitle",
            "company",
            "website",
            "phone",
            "mobilephone",
            "hs_linkedin_url",
            "city",
            "state",
            "country",
            "lifecyclestage",
            "hs_lead_status",
            "hubspot_owner_id",
            "createdate",
            "lastmodifieddate",
        ),
        "history": (),
        "associations": ("deals",),
        "modified": "lastmodifieddate",
    },
}


class HubSpotQuotaExhausted(RuntimeError):
    """The account's daily request limit is used up."""


class HubSpotClient(ApiClient):
    def __init__(
        self,
        access_token: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        stats: HttpStats | None = None,
        sleep: Callable[[float], None] = time.sleep,
        policy: RetryPolicy = DEFAULT_POLICY,
    ) -> None:
        if not access_token:
            raise self.auth_error(
                "No HubSpot token: set sources.hubspot.access_token (a private app's token) in "
                ".dlt/secrets.toml or the SOURCES__HUBSPOT__ACCESS_TOKEN environment variable."
            )
        super().__init__(
            "HubSpot",
            base_url,
            auth_hint="sources.hubspot.access_token (the private app needs the CRM read scopes)",
            headers={"Authorization": f"Bearer {access_token}"},
            stats=stats,
            sleep=sleep,
            policy=policy,
            inspect=self._daily_limit,
            pace=self._slow_down,
        )

    def _daily_limit(self, response: requests.Response, path: str) -> None:
        if response.status_code != 429:
            return
        try:
            answer = response.json()
        except ValueError:
            answer = None
        policy = str(answer.get("policyName") or "") if isinstance(answer, dict) else ""
        if policy.upper() == "DAILY" or int_header(response.headers, DAILY_REMAINING) == 0:
            raise self.error(
                f"{path}: HubSpot's daily request limit is used up (429, DAILY). Nothing of this "
                "run was loaded; run the pull again after the daily window resets."
            )

    def rate_limit_wait(self, response: requests.Response) -> float | None:
        """``Retry-After`` when HubSpot sends it, else the rest of its rolling window (the
        wait before the one retry, not added to the usual back-off)."""
        asked = super().rate_limit_wait(response)
        return asked if asked is not None else _interval_seconds(response)

    def _slow_down(self, response: requests.Response) -> None:
        """Before the rolling window runs out, wait for it rather than meet a 429."""
        left = int_header(response.headers, REMAINING)
        daily = int_header(response.headers, DAILY_REMAINING)
        if daily is not None:
            self.stats.rate_limits_left["daily"] = daily
        if left is None:
            return
        self.stats.rate_limits_left["interval"] = left
        if left <= SLOW_DOWN_WHEN_LEFT:
            self.wait(_interval_seconds(response) / max(left + 1, 1))


def _interval_seconds(response: requests.Response) -> float:
    milliseconds = int_header(response.headers, INTERVAL_MS)
    return (milliseconds if milliseconds is not None else 10_000) / 1000


def objects(
    client: HubSpotClient, object_type: str, archived: bool = False
) -> Iterator[dict[str, Any]]:
    """Every record of ``object_type`` (``deals``, ``meetings``, ``contacts``), page after page
    along ``paging.next.after``; ``archived``: the deleted ones instead of the live ones."""
    spec = OBJECTS[object_type]
    path = f"/crm/v3/objects/{object_type}"
    params: dict[str, Any] = {
        "limit": PAGE_WITH_HISTORY if spec["history"] else PAGE,
        "properties": ",".join(spec["properties"]),
        "archived": "true" if archived else "false",
    }
    if spec["history"]:
        params["propertiesWithHistory"] = ",".join(spec["history"])
    if spec["associations"]:
        params["associations"] = ",".join(spec["associations"])
    seen: set[str] = set()
    after: str | None = None
    while True:
        page = expect_object(client, client.get(path, {**params, **_after(after)}), path)
        yield from (r for r in expect_list(client, page, path, "results") if isinstance(r, dict))
        after = _next_after(page)
        if after is None:
            return
        if after in seen:
            raise client.response_error(
                f"{path}: HubSpot gave the paging cursor {after!r} twice: stopped rather than "
                "read the same records again."
            )
        seen.add(after)


def pipelines(client: HubSpotClient) -> list[dict[str, Any]]:
    """The account's deal pipelines, each with its stages."""
    path = "/crm/v3/pipelines/deals"
    page = expect_object(client, client.get(path), path)
    return [p for p in expect_list(client, page, path, "results") if isinstance(p, dict)]


def _after(after: str | None) -> dict[str, str]:
    return {"after": after} if after is not None else {}


def _next_after(page: dict[str, Any]) -> str | None:
    paging = page.get("paging")
    following = paging.get("next") if isinstance(paging, dict) else None
    after = following.get("after") if isinstance(following, dict) else None
    return str(after) if after not in (None, "") else None


def modified_property(object_type: str) -> str:
    return str(OBJECTS[object_type]["modified"])


def object_types() -> Sequence[str]:
    return tuple(OBJECTS)
