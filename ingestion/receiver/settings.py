"""Receiver settings: the vendors it serves, limits, rotation, and the secrets (through dlt)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

FsyncMode = Literal["group", "each", "off"]

DEFAULT_MAX_BODY_BYTES = 1 << 20  # 1 MiB
DEFAULT_ROTATE_BYTES = 64 << 20  # 64 MiB
DEFAULT_ROTATE_SECONDS = 60.0
TOKEN_HEADER = "x-cis-token"
# Headers copied into each line's _cis_receipt; never an auth header or a signature.
RECEIPT_HEADERS = ("x-request-id", "x-webhook-level", "content-type", "user-agent")


@dataclass(frozen=True)
class Vendor:
    """One webhook sender: where its deliveries land and how it authenticates.

    ``auth`` is ``"smartlead"`` (``secret_key`` in the body, optional HMAC header),
    ``"twilio"`` (``X-Twilio-Signature``) or ``"token"`` (a secret in the path or a header).
    """

    name: str
    kind: str  # landing folder, relative to the landing root (DESIGN.md layout)
    body: Literal["json", "form"]
    auth: Literal["smartlead", "twilio", "token"]
    secret_field: str  # dlt secrets path, e.g. sources.smartlead.webhook_secret


VENDORS: dict[str, Vendor] = {
    v.name: v
    for v in (
        Vendor(
            "smartlead",
            "smartlead/webhooks",
            "json",
            "smartlead",
            "sources.smartlead.webhook_secret",
        ),
        Vendor(
            "salesforge", "salesforge/webhooks", "json", "token", "sources.salesforge.webhook_token"
        ),
        Vendor("heyreach", "linkedin/events", "json", "token", "sources.heyreach.webhook_token"),
        Vendor("twilio", "sms/events", "form", "twilio", "sources.twilio.auth_token"),
    )
}


@dataclass(frozen=True)
class ReceiverSettings:
    """Everything the receiver needs; secrets are kept out of ``repr``.

    Parameters
    ----------
    landing_dir
        Landing root; each vendor writes to ``landing_dir / vendor.kind``.
    secrets
        Vendor name to its secret (Smartlead secret, Twilio auth token, URL/header token).
        A vendor missing here refuses every delivery with 503.
    max_body_bytes
        Largest body accepted (413 above it).
    rotate_bytes, rotate_seconds
        A landing file is closed and published once it holds this many bytes or is this old.
    public_base_url
        The scheme and host the vendors call (``https://hooks.example.com``), used for
        Twilio's signature when the receiver sits behind a reverse proxy. Without it the URL
        the request arrived on is used.
    fsync
        ``group`` (default: one fsync per batch of lines that arrived together), ``each``
        (one per delivery) or ``off`` (no fsync, not durable); the last two exist for the
        benchmark's references.
    """

    landing_dir: Path
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    rotate_bytes: int = DEFAULT_ROTATE_BYTES
    rotate_seconds: float = DEFAULT_ROTATE_SECONDS
    public_base_url: str | None = None
    fsync: FsyncMode = "group"

    def secret(self, vendor: str) -> str | None:
        """The vendor's configured secret, or None when it has none (empty counts as none)."""
        value = self.secrets.get(vendor)
        return value or None


def read_secrets() -> dict[str, str]:
    """Each vendor's secret from dlt's providers (environment, ``.dlt/secrets.toml``, ...).

    The names are dlt's: ``sources.smartlead.webhook_secret`` is read from the environment
    variable ``SOURCES__SMARTLEAD__WEBHOOK_SECRET`` or from ``[sources.smartlead]
    webhook_secret`` in ``.dlt/secrets.toml``.

    Returns
    -------
    dict[str, str]
        Vendor name to secret, only for vendors that have a non-empty one.
    """
    import dlt

    found: dict[str, str] = {}
    for vendor in VENDORS.values():
        value = dlt.secrets.get(vendor.secret_field)
        if value is not None and str(value).strip():
            found[vendor.name] = str(value).strip()
    return found


def read_public_base_url() -> str | None:
    """``receiver.public_base_url`` from dlt config (env ``RECEIVER__PUBLIC_BASE_URL``)."""
    import dlt

    value = dlt.config.get("receiver.public_base_url")
    return str(value).rstrip("/") if value else None


def load_settings(landing_dir: Path, **overrides: object) -> ReceiverSettings:
    """Settings with secrets and the public URL read through dlt, then ``overrides`` applied.

    Parameters
    ----------
    landing_dir
        Landing root the receiver writes to.
    **overrides
        Any other :class:`ReceiverSettings` field; ``None`` values are ignored.

    Returns
    -------
    ReceiverSettings
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    if "public_base_url" in given:
        given["public_base_url"] = str(given["public_base_url"]).rstrip("/")
    else:
        given["public_base_url"] = read_public_base_url()
    given.setdefault("secrets", read_secrets())
    return ReceiverSettings(landing_dir=Path(landing_dir), **given)  # type: ignore[arg-type]
