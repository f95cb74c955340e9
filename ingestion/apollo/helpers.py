"""HTTP for Apollo: authentication, rate-limit pacing, retries and clear errors."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from ingestion.apollo import settings


class ApolloError(RuntimeError):
    """Apollo refused or failed; the message says what to do next."""


class ApolloAuthError(ApolloError):
    pass


class ApolloQuotaExhausted(ApolloError):
    pass


class ApolloResponseError(ApolloError):
    pass


@dataclass
class ApolloStats:
    """What one run did, for the CLI's summary."""

    requests: int = 0
    retries: int = 0
    throttled_sleeps: float = 0.0
    search_pages: int = 0
    search_slices: int = 0
    people_found: int = 0
    enrichments_requested: int = 0
    enrichments_avoided: int = 0
    enriched: int = 0
    organizations_enriched: int = 0
    not_matched: int = 0
    rate_limits_left: dict[str, int] = field(default_factory=dict)


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds to wait: a number of seconds or an HTTP date (RFC 9110)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - now, 0.0)


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class ApolloClient:
    """A small Apollo REST client.

    Parameters
    ----------
    api_key:
        Sent as the ``x-api-key`` header.
    base_url:
        ``https://api.apollo.io`` or a local server that speaks the same shapes.
    sleep:
        Injected so tests do not wait for real windows.
    """

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
        self.base_url = base_url.rstrip("/")
        self.stats = stats or ApolloStats()
        self._sleep = sleep
        self._clock = clock
        self._session = session or requests.Session()
        self._session.headers.update(
            {"x-api-key": api_key, "Content-Type": "application/json", "Cache-Control": "no-cache"}
        )
        self._max_retries = max_retries
        self._backoff_base = backoff_base

    def post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST ``body`` and return the decoded JSON object, retrying what can be retried."""
        url = self.base_url + path
        for attempt in range(self._max_retries + 1):
            self.stats.requests += 1
            try:
                response = self._session.post(
                    url, json=dict(body), timeout=settings.REQUEST_TIMEOUT_SECONDS
                )
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                if attempt == self._max_retries:
                    raise ApolloError(f"cannot reach Apollo at {url}: {exc}") from exc
                self._backoff(attempt)
                continue
            outcome = self._handle(response, path, attempt)
            if outcome is not None:
                self._pace(response.headers)
                return outcome
        raise ApolloError(f"{path}: gave up after {self._max_retries} retries")

    def _handle(self, response: requests.Response, path: str, attempt: int) -> dict | None:
        status = response.status_code
        last = attempt == self._max_retries
        if status in (401, 403):
            raise ApolloAuthError(
                f"Apollo answered {status} on {path}: the API key is missing, wrong or lacks "
                "access to this endpoint (a master API key is needed for people enrichment). "
                "Check sources.apollo.api_key; nothing was loaded."
            )
        if status == 429:
            if _int_header(response.headers, settings.RATE_LIMIT_HEADERS["daily"]) == 0:
                raise self._daily_exhausted(path)
            if last:
                raise ApolloError(f"{path}: still rate limited (429) after {attempt} retries")
            retry_after = retry_after_seconds(response.headers.get("retry-after"), self._clock())
            self.stats.retries += 1
            self._wait(retry_after if retry_after is not None else self._delay(attempt))
            return None
        if status >= 500:
            if last:
                raise ApolloError(f"{path}: Apollo kept failing ({status}) after {attempt} retries")
            self._backoff(attempt)
            return None
        if status >= 400:
            raise ApolloResponseError(f"{path}: Apollo answered {status}: {response.text[:300]}")
        try:
            payload = response.json()
        except (json.JSONDecodeError, ValueError) as exc:
            if last:
                raise ApolloResponseError(
                    f"{path}: Apollo returned a body that is not JSON after {attempt} retries "
                    f"(starts {response.text[:120]!r})"
                ) from exc
            self._backoff(attempt)
            return None
        if not isinstance(payload, dict):
            raise ApolloResponseError(
                f"{path}: expected a JSON object, got {type(payload).__name__}"
            )
        return payload

    def _daily_exhausted(self, path: str) -> ApolloQuotaExhausted:
        return ApolloQuotaExhausted(
            f"Apollo's daily request limit is used up ({path}). Nothing from this run was "
            "loaded; run the pull again after the daily window resets (or raise the plan's "
            "limit). People already in the pool will not be enriched again."
        )

    def _delay(self, attempt: int) -> float:
        return min(self._backoff_base * (2**attempt), settings.BACKOFF_MAX_SECONDS)

    def _backoff(self, attempt: int) -> None:
        self.stats.retries += 1
        self._wait(self._delay(attempt))

    def _wait(self, seconds: float) -> None:
        self.stats.throttled_sleeps += seconds
        self._sleep(seconds)

    def _pace(self, headers: Mapping[str, str]) -> None:
        """Slow down before a fixed window runs out, instead of hitting 429."""
        for window, header in settings.RATE_LIMIT_HEADERS.items():
            left = _int_header(headers, header)
            if left is None:
                continue
            self.stats.rate_limits_left[window] = left
            if window == "daily":
                continue  # a daily window cannot be waited out inside one run
            if left <= settings.SLOW_DOWN_WHEN_LEFT:
                self._wait(settings.WINDOW_SECONDS[window] / max(left + 1, 1))


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
