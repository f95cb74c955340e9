"""HTTP for every API source: retries, ``Retry-After``, back-off, pacing and clear errors.

One client for Apollo, Smartlead and Salesforge (and the CRM sources after them). The retry
loop is tenacity's (a maintained library, already what dlt retries with); what is specific to
HTTP APIs lives here once:

- a connection error, a timeout, a 5xx or a body that is not JSON is retried with exponential
  back-off (``backoff_base * 2**attempt``, capped);
- a 429 waits what ``Retry-After`` says (seconds or an HTTP date), else backs off;
- 401/403 stop at once with the vendor's hint on where the key is configured; another 4xx stops
  with the start of the vendor's answer;
- a vendor may look at every response first (``inspect``: Apollo's daily quota turns a 429 into a
  stop) and pace itself after a success (``pace``: slow down before a window runs out).

Sleeping and the clock are injected so tests do not wait for real windows.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

REQUEST_TIMEOUT_SECONDS = 60.0


class ApiError(RuntimeError):
    """A vendor API refused or failed; the message says what to do next."""


class ApiAuthError(ApiError):
    """The key is missing, wrong or lacks access."""


class ApiResponseError(ApiError):
    """The vendor answered something the client cannot use."""


@dataclass
class HttpStats:
    """What one run's requests did, for the CLI's summary."""

    requests: int = 0
    retries: int = 0
    throttled_sleeps: float = 0.0
    rate_limits_left: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    timeout: float = REQUEST_TIMEOUT_SECONDS
    longest_wait: float = 600.0  # a Retry-After beyond this stops the run instead


DEFAULT_POLICY = RetryPolicy()


class _Transient(Exception):
    """One attempt failed in a way worth another try; ``wait`` overrides the back-off."""

    def __init__(self, message: str, wait: float | None = None, unusable: bool = False) -> None:
        super().__init__(message)
        self.wait = wait
        self.unusable = unusable  # the vendor answered, with something the client cannot use


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


def int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class ApiClient:
    """A small JSON-over-HTTP client for one vendor.

    Parameters
    ----------
    vendor:
        Names the vendor in every error ("Smartlead answered 500 ...").
    base_url:
        The vendor's API root, or a local server that speaks the same shapes.
    auth_hint:
        Where the key is configured, said when the vendor answers 401/403.
    headers, params:
        Sent with every request (how each vendor takes its key differs: a header, the
        ``Authorization`` header, an ``api_key`` query parameter).
    inspect:
        Called with every response before it is judged; may raise to stop the run.
    pace:
        Called with every successful response (slow down before a window runs out).
    """

    error: type[ApiError] = ApiError
    auth_error: type[ApiError] = ApiAuthError
    response_error: type[ApiError] = ApiResponseError

    def __init__(
        self,
        vendor: str,
        base_url: str,
        *,
        auth_hint: str,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        stats: HttpStats | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
        policy: RetryPolicy = DEFAULT_POLICY,
        inspect: Callable[[requests.Response, str], None] | None = None,
        pace: Callable[[requests.Response], None] | None = None,
    ) -> None:
        self.vendor = vendor
        self.base_url = base_url.rstrip("/")
        self.stats = stats if stats is not None else HttpStats()
        self.auth_hint = auth_hint
        self.policy = policy
        self._sleep = sleep
        self._clock = clock
        self._params = dict(params or {})
        self._inspect = inspect
        self._pace = pace
        self._session = session or requests.Session()
        self._session.headers.update({"Cache-Control": "no-cache", **dict(headers or {})})

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``path`` and return the decoded JSON (object or list), retrying what can be."""
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        return self.request("POST", path, body=body)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        retrying = Retrying(
            stop=stop_after_attempt(self.policy.max_retries + 1),
            wait=self._wait_for,
            retry=retry_if_exception_type(_Transient),
            sleep=self._wait,
            before_sleep=self._count_retry,
            reraise=True,
        )
        try:
            return retrying(self._attempt, method, path, params, body)
        except _Transient as exc:
            error = self.response_error if exc.unusable else self.error
            raise error(f"{path}: {exc} (gave up after {self.policy.max_retries} retries)") from exc

    def wait(self, seconds: float) -> None:
        """Sleep, counted in the run's throttled seconds (pacing uses it too)."""
        self._wait(seconds)

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
    ) -> Any:
        url = self.base_url + path
        self.stats.requests += 1
        try:
            response = self._session.request(
                method,
                url,
                params={**self._params, **dict(params or {})} or None,
                json=dict(body) if body is not None else None,
                timeout=self.policy.timeout,
            )
        except (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
        ) as exc:
            # The exception's text holds the URL with its query, and some vendors take the key
            # there (Smartlead's api_key): only the kind of failure and the path are said.
            raise _Transient(
                f"cannot reach {self.vendor} at {self.base_url}{path} ({type(exc).__name__})"
            ) from None
        if self._inspect is not None:
            self._inspect(response, path)
        payload = self._judge(response, path)
        if self._pace is not None:
            self._pace(response)
        return payload

    def _judge(self, response: requests.Response, path: str) -> Any:
        status = response.status_code
        if status in (401, 403):
            raise self.auth_error(
                f"{self.vendor} answered {status} on {path}: the API key is missing, wrong or "
                f"lacks access to this endpoint. Check {self.auth_hint}; nothing was loaded."
            )
        if status == 429:
            wait = self.rate_limit_wait(response)
            if wait is not None and wait > self.policy.longest_wait:
                # Waiting hours would hold the dataset's lock (and every load) that long.
                raise self.error(
                    f"{path}: {self.vendor} asks to wait {wait:.0f} s before the next request "
                    f"(429, Retry-After), longer than {self.policy.longest_wait:.0f} s: nothing "
                    "of this run was loaded; run it again later."
                )
            raise _Transient(f"still rate limited (429) by {self.vendor}", wait)
        if status >= 500:
            raise _Transient(f"{self.vendor} kept failing ({status})")
        if status >= 400:
            raise self.response_error(
                f"{path}: {self.vendor} answered {status}: {response.text[:300]}"
            )
        try:
            return response.json()
        except (json.JSONDecodeError, ValueError) as exc:
            raise _Transient(
                f"{self.vendor} returned a body that is not JSON (starts {response.text[:120]!r})",
                unusable=True,
            ) from exc

    def rate_limit_wait(self, response: requests.Response) -> float | None:
        """Seconds to wait before retrying a 429 (None: the usual back-off); a vendor whose
        limit headers say more than ``Retry-After`` overrides this."""
        return retry_after_seconds(response.headers.get("retry-after"), self._clock())

    def _wait_for(self, state: RetryCallState) -> float:
        outcome = state.outcome
        failure = outcome.exception() if outcome is not None else None
        if isinstance(failure, _Transient) and failure.wait is not None:
            return failure.wait
        attempt = state.attempt_number - 1
        return min(self.policy.backoff_base * (2**attempt), self.policy.backoff_max)

    def _count_retry(self, _state: RetryCallState) -> None:
        self.stats.retries += 1

    def _wait(self, seconds: float) -> None:
        self.stats.throttled_sleeps += seconds
        self._sleep(seconds)


def expect_object(client: ApiClient, payload: Any, path: str) -> dict[str, Any]:
    """``payload`` if it is a JSON object, else the vendor's response error."""
    if not isinstance(payload, dict):
        raise client.response_error(
            f"{path}: expected a JSON object from {client.vendor}, got {type(payload).__name__}"
        )
    return payload


def expect_list(client: ApiClient, payload: Any, path: str, key: str | None = None) -> list:
    """``payload`` (or ``payload[key]``) if it is a JSON list, else the response error (an
    answer without the key is not read as "no data": it is said)."""
    found = payload.get(key) if key is not None and isinstance(payload, dict) else payload
    if not isinstance(found, list):
        where = f"{path}" + (f" ({key})" if key else "")
        raise client.response_error(
            f"{where}: expected a JSON list from {client.vendor}, got {type(found).__name__}"
        )
    return found
