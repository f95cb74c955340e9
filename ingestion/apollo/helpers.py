"""Apollo over HTTP: its key, its quota and its pacing on the shared client (``ingestion.http``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from ingestion.apollo import settings
from ingestion.http import (
    ApiAuthError,
    ApiClient,
    ApiError,
    ApiResponseError,
    HttpStats,
    RetryPolicy,
    expect_object,
    int_header,
    retry_after_seconds,
)

__all__ = ["ApolloClient", "ApolloError", "ApolloStats", "retry_after_seconds"]


class ApolloError(ApiError):
    """Apollo refused or failed; the message says what to do next."""


class ApolloAuthError(ApolloError, ApiAuthError):
    pass


class ApolloQuotaExhausted(ApolloError):
    pass


class ApolloResponseError(ApolloError, ApiResponseError):
    pass


@dataclass
class ApolloStats(HttpStats):
    """What one run did, for the CLI's summary."""

    search_pages: int = 0
    search_slices: int = 0
    people_found: int = 0
    enrichments_requested: int = 0
    enrichments_avoided: int = 0
    enriched: int = 0
    organizations_enriched: int = 0
    not_matched: int = 0


class ApolloClient(ApiClient):
    """Apollo's REST API: ``x-api-key`` header, a daily quota that stops the run, and pacing on
    the ``x-*-requests-left`` headers.

    Parameters
    ----------
    api_key:
        Sent as the ``x-api-key`` header.
    base_url:
        ``https://api.apollo.io`` or a local server that speaks the same shapes.
    sleep:
        Injected so tests do not wait for real windows.
    """

    error = ApolloError
    auth_error = ApolloAuthError
    response_error = ApolloResponseError
    stats: ApolloStats

    def __init__(
        self,
        api_key: str,
        base_url: str = settings.DEFAULT_BASE_URL,
        *,
        stats: ApolloStats | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
        max_retries: int = settings.MAX_RETRIES,
        backoff_base: float = settings.BACKOFF_BASE_SECONDS,
    ) -> None:
        if not api_key:
            raise ApolloAuthError(
                "No Apollo API key: set sources.apollo.api_key in .dlt/secrets.toml "
                "or the SOURCES__APOLLO__API_KEY environment variable."
            )
        super().__init__(
            "Apollo",
            base_url,
            auth_hint="sources.apollo.api_key (a master API key is needed for people enrichment)",
            headers={"x-api-key": api_key, "Content-Type": "application/json"},
            stats=stats if stats is not None else ApolloStats(),
            sleep=sleep,
            clock=clock,
            session=session,
            policy=RetryPolicy(
                max_retries=max_retries,
                backoff_base=backoff_base,
                backoff_max=settings.BACKOFF_MAX_SECONDS,
                timeout=settings.REQUEST_TIMEOUT_SECONDS,
            ),
            inspect=self._quota,
            pace=self._slow_down,
        )

    def post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST ``body`` and return the decoded JSON object, retrying what can be retried."""
        return expect_object(self, super().post(path, body), path)

    def _quota(self, response: requests.Response, path: str) -> None:
        daily = int_header(response.headers, settings.RATE_LIMIT_HEADERS["daily"])
        if response.status_code == 429 and daily == 0:
            raise ApolloQuotaExhausted(
                f"Apollo's daily request limit is used up ({path}). Nothing from this run was "
                "loaded; run the pull again after the daily window resets (or raise the plan's "
                "limit). People already in the pool will not be enriched again."
            )

    def _slow_down(self, response: requests.Response) -> None:
        """Slow down before a fixed window runs out, instead of hitting 429."""
        for window, header in settings.RATE_LIMIT_HEADERS.items():
            left = int_header(response.headers, header)
            if left is None:
                continue
            self.stats.rate_limits_left[window] = left
            if window == "daily":
                continue  # a daily window cannot be waited out inside one run
            if left <= settings.SLOW_DOWN_WHEN_LEFT:
                self.wait(settings.WINDOW_SECONDS[window] / max(left + 1, 1))


def search_pages(
    client: ApolloClient, query: Mapping[str, Any], max_pages: int = settings.MAX_PAGES
) -> Iterator[dict[str, Any]]:
    """Yield search pages until the last page, the 500-page cap or an empty page."""
    page = 1
    while page <= max_pages:
        body = {**query, "page": page, "per_page": settings.PER_PAGE}
        data = client.post(settings.SEARCH_PATH, body)
        client.stats.search_pages += 1
        people = data.get("people") or []
        yield data
        total_pages = page_count(data)
        if not people or page >= total_pages:
            return
        page += 1


def page_count(data: Mapping[str, Any]) -> int:
    """``pagination.total_pages`` when present, else ceil(total_entries / 100), capped at 500."""
    pagination = data.get("pagination") or {}
    if pagination.get("total_pages") is not None:
        return min(int(pagination["total_pages"]), settings.MAX_PAGES)
    total = int(data.get("total_entries") or 0)
    return min(-(-total // settings.PER_PAGE), settings.MAX_PAGES)


def total_entries(data: Mapping[str, Any]) -> int:
    pagination = data.get("pagination") or {}
    return int(pagination.get("total_entries") or data.get("total_entries") or 0)


def bulk_match(client: ApolloClient, person_ids: list[str]) -> list[dict[str, Any]]:
    """Enrich up to 10 people by Apollo id; return the person objects that matched."""
    body = {
        "details": [{"id": person_id} for person_id in person_ids],
        "reveal_personal_emails": False,
    }
    data = client.post(settings.BULK_MATCH_PATH, body)
    matches = [m for m in (data.get("matches") or []) if isinstance(m, dict)]
    client.stats.enriched += len(matches)
    client.stats.not_matched += len(person_ids) - len(matches)
    return matches


def bulk_enrich_organizations(client: ApolloClient, domains: list[str]) -> list[dict[str, Any]]:
    """Enrich up to 10 organizations by domain; return the organization objects found."""
    data = client.post(settings.ORGANIZATION_BULK_ENRICH_PATH, {"domains": domains})
    found = [o for o in (data.get("organizations") or []) if isinstance(o, dict)]
    client.stats.organizations_enriched += len(found)
    return found
