"""The webhook receiver: a Starlette app that authenticates, validates and lands deliveries.

A delivery is answered 2xx only after its line is written and fsync'ed in the vendor's landing
folder (see :mod:`ingestion.receiver.writer`); anything refused gets a 4xx (or 503) with a
short plain reason, is logged and is counted by reason in ``GET /stats``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ingestion.receiver.auth import Refusal, check_smartlead, check_token, check_twilio
from ingestion.receiver.settings import (
    RECEIPT_HEADERS,
    TOKEN_HEADER,
    VENDORS,
    ReceiverSettings,
    Vendor,
)
from ingestion.receiver.writer import LandingWriter, WriteFailed

log = logging.getLogger("cis.receiver")

RECEIPT_KEY = "_cis_receipt"
JSON_TYPES = ("application/json",)
FORM_TYPE = "application/x-www-form-urlencoded"
TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class Counters:
    """Accepted deliveries, bytes and refusals by reason, per vendor."""

    def __init__(self) -> None:
        self.started = time.time()
        self.accepted: Counter[str] = Counter()
        self.bytes: Counter[str] = Counter()
        self.rejected: dict[str, Counter[str]] = {name: Counter() for name in VENDORS}

    def snapshot(self, writers: dict[str, LandingWriter]) -> dict:
        """The counters as a JSON-ready dict (``GET /stats``)."""
        vendors = {}
        for name in VENDORS:
            writer = writers.get(name)
            vendors[name] = {
                "accepted": self.accepted[name],
                "bytes": self.bytes[name],
                "rejected": dict(sorted(self.rejected[name].items())),
                "writer": vars(writer.stats).copy() if writer else None,
            }
        return {
            "uptime_seconds": round(time.time() - self.started, 3),
            "accepted": sum(self.accepted.values()),
            "rejected": sum(sum(c.values()) for c in self.rejected.values()),
            "bytes": sum(self.bytes.values()),
            "vendors": vendors,
        }


def received_at() -> str:
    """Now in UTC, ISO-8601 with microseconds and ``Z``."""
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def dump_line(payload: dict) -> bytes:
    """One compact, UTF-8, ``\\n``-terminated JSON line.

    orjson first; the standard library (ASCII escapes) for what orjson refuses: integers beyond
    64 bits and lone surrogates, which the loader then rejects line by line with its reason.
    """
    try:
        return orjson.dumps(payload) + b"\n"
    except TypeError:
        text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
        return text.encode("ascii") + b"\n"


def _no_constants(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def parse_json_object(raw: bytes) -> dict:
    """The body as a JSON object, or a :class:`Refusal` (400) saying why not."""
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Refusal(400, "not_json", "body is not UTF-8 JSON") from exc
    if not isinstance(value, dict):
        raise Refusal(400, "not_object", f"JSON body is {type(value).__name__}, not an object")
    return value


def parse_form(raw: bytes) -> list[tuple[str, str]]:
    """A form-encoded body as (name, value) pairs, or a :class:`Refusal` (400)."""
    try:
        return parse_qsl(
            raw.decode("ascii"), keep_blank_values=True, strict_parsing=True, errors="strict"
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refusal(400, "not_form", "body is not a UTF-8 form (name=value&...)") from exc


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _check_content_type(vendor: Vendor, request: Request) -> None:
    media = _media_type(request)
    if vendor.body == "json" and not (media in JSON_TYPES or media.endswith("+json")):
        raise Refusal(415, "wrong_content_type", "expected Content-Type: application/json")
    if vendor.body == "form" and media != FORM_TYPE:
        raise Refusal(415, "wrong_content_type", f"expected Content-Type: {FORM_TYPE}")


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused (413) as soon as it is known to exceed ``limit`` bytes."""
    too_large = Refusal(413, "too_large", f"body larger than {limit} bytes")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    if size == 0:
        raise Refusal(400, "empty_body", "empty body")
    return b"".join(chunks)


def twilio_url(request: Request, public_base_url: str | None) -> str:
    """The URL Twilio signed: the public base URL (if set) + the path and query as received."""
    path = request.scope.get("raw_path") or request.scope["path"].encode("utf-8")
    path_text = path.decode("latin-1").split("?", 1)[0]
    query = request.scope.get("query_string", b"").decode("latin-1")
    if public_base_url:
        base = public_base_url.rstrip("/")
    else:
        host = request.headers.get("host") or request.url.netloc
        base = f"{request.url.scheme}://{host}"
    return base + path_text + (f"?{query}" if query else "")


def build_receipt(vendor: str, request: Request, verified: list[str]) -> dict:
    """The ``_cis_receipt`` object added to each landed line."""
    headers = {h: request.headers[h] for h in RECEIPT_HEADERS if h in request.headers}
    return {
        "received_at": received_at(),
        "vendor": vendor,
        "request_id": request.headers.get("x-request-id"),
        "headers": headers,
        "verified": verified,
    }


async def authenticate_and_parse(
    vendor: Vendor, request: Request, settings: ReceiverSettings
) -> tuple[dict, list[str]]:
    """Run every check of one delivery; the payload to store and what was verified.

    Raises
    ------
    Refusal
        The first check that failed.
    """
    secret = settings.secret(vendor.name)
    if secret is None:
        raise Refusal(503, "not_configured", f"no {vendor.name} secret is configured")
    verified: list[str] = []
    if vendor.auth == "token":
        path_token = request.path_params.get("token")
        header_token = request.headers.get(TOKEN_HEADER)
        if refusal := check_token(path_token, header_token, secret):
            raise refusal
        verified = (["path_token"] if path_token is not None else []) + (
            ["x-cis-token"] if header_token is not None else []
        )
    _check_content_type(vendor, request)
    raw = await read_body(request, settings.max_body_bytes)
    if vendor.body == "form":
        fields = parse_form(raw)
        url = twilio_url(request, settings.public_base_url)
        signature = request.headers.get("x-twilio-signature")
        if refusal := check_twilio(signature, secret, url, fields):
            raise refusal
        names = [name for name, _ in fields]
        if len(set(names)) != len(names):
            raise Refusal(400, "repeated_field", "a form field is repeated")
        payload: dict = dict(fields)
        verified = ["x-twilio-signature"]
    else:
        payload = parse_json_object(raw)
        if vendor.auth == "smartlead":
            signature = request.headers.get("x-smartlead-signature")
            if refusal := check_smartlead(payload, raw, signature, secret):
                raise refusal
            verified = (["secret_key"] if "secret_key" in payload else []) + (
                ["x-smartlead-signature"] if signature is not None else []
            )
            payload = {k: v for k, v in payload.items() if k != "secret_key"}
    if RECEIPT_KEY in payload:
        raise Refusal(400, "reserved_key", f"body already has a {RECEIPT_KEY} key")
    return payload, verified


def _endpoint(
    vendor: Vendor,
    settings: ReceiverSettings,
    writers: dict[str, LandingWriter],
    counters: Counters,
) -> Callable[[Request], Awaitable[Response]]:
    async def receive(request: Request) -> Response:
        try:
            payload, verified = await authenticate_and_parse(vendor, request, settings)
            payload[RECEIPT_KEY] = build_receipt(vendor.name, request, verified)
            line = dump_line(payload)
            try:
                await writers[vendor.name].append(line)
            except WriteFailed as exc:
                raise Refusal(503, "write_failed", "could not store the delivery") from exc
        except Refusal as refusal:
            counters.rejected[vendor.name][refusal.code] += 1
            client = request.client.host if request.client else "-"
            log.warning(
                "refused %s delivery from %s: %d %s (%s)",
                vendor.name,
                client,
                refusal.status,
                refusal.code,
                refusal.reason,
            )
            return PlainTextResponse(refusal.reason + "\n", status_code=refusal.status)
        counters.accepted[vendor.name] += 1
        counters.bytes[vendor.name] += len(line)
        if vendor.body == "form":
            return Response(TWIML_EMPTY, media_type="text/xml")
        return PlainTextResponse("ok\n")

    return receive


def create_app(settings: ReceiverSettings) -> Starlette:
    """The receiver as an ASGI app.

    Routes: ``POST /webhooks/{smartlead,salesforge,heyreach,twilio}`` (and
    ``/webhooks/{salesforge,heyreach}/{token}``), ``GET /health`` and ``GET /stats``.
    Start-up recovers orphan ``.open`` files and starts one writer per vendor; shutdown
    publishes the open files.

    Parameters
    ----------
    settings
        See :class:`~ingestion.receiver.settings.ReceiverSettings`.

    Returns
    -------
    Starlette
    """
    writers: dict[str, LandingWriter] = {}
    counters = Counters()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for vendor in VENDORS.values():
            writer = LandingWriter(
                settings.landing_dir / vendor.kind,
                settings.rotate_bytes,
                settings.rotate_seconds,
                settings.fsync,
            )
            await writer.start()
            writers[vendor.name] = writer
        missing = [name for name in VENDORS if settings.secret(name) is None]
        if missing:
            log.warning("no secret configured for %s: refusing their deliveries", missing)
        try:
            yield
        finally:
            for writer in writers.values():
                await writer.close()

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def stats(request: Request) -> Response:
        return JSONResponse(counters.snapshot(writers))

    routes = [Route("/health", health, methods=["GET"]), Route("/stats", stats, methods=["GET"])]
    for vendor in VENDORS.values():
        endpoint = _endpoint(vendor, settings, writers, counters)
        routes.append(Route(f"/webhooks/{vendor.name}", endpoint, methods=["POST"]))
        if vendor.auth == "token":
            routes.append(Route(f"/webhooks/{vendor.name}/{{token}}", endpoint, methods=["POST"]))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.counters = counters
    app.state.writers = writers
    return app


def serve(settings: ReceiverSettings, host: str, port: int, log_level: str = "info") -> None:
    """Run the receiver on uvicorn until interrupted (SIGINT/SIGTERM publish open files).

    The access log is off: a Salesforge or HeyReach URL carries its token in the path.
    """
    import uvicorn

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        access_log=False,
        log_level=log_level,
        server_header=False,
        timeout_graceful_shutdown=10,
    )
