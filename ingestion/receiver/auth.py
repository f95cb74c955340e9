"""Per-vendor authentication checks: pure functions, constant-time comparisons.

Each check returns ``None`` when the delivery is authentic, or a :class:`Refusal` with a short
reason that never contains the secret or the value the sender gave.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass
class Refusal(Exception):
    """Why a delivery is refused: HTTP status, a counter key and a short plain reason."""

    status: int
    code: str
    reason: str


def _same(given: str | bytes, expected: str | bytes) -> bool:
    given_b = given.encode("utf-8") if isinstance(given, str) else given
    expected_b = expected.encode("utf-8") if isinstance(expected, str) else expected
    return hmac.compare_digest(given_b, expected_b)


def smartlead_signature(secret: str, raw_body: bytes) -> str:
    """The ``X-Smartlead-Signature`` value for a body: ``sha256=<hex HMAC-SHA256>``.

    Parameters
    ----------
    secret
        The webhook secret configured in Smartlead.
    raw_body
        The request body exactly as received.

    Returns
    -------
    str
    """
    digest = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def check_smartlead(
    body: dict, raw_body: bytes, signature: str | None, secret: str
) -> Refusal | None:
    """Smartlead: ``secret_key`` in the body, and the HMAC header when the request has one.

    A body without ``secret_key`` (Smartlead's newer ``event``/``lead{}`` dialect) is accepted
    only with a valid ``X-Smartlead-Signature``; with neither, it is refused.

    Parameters
    ----------
    body
        The parsed JSON body.
    raw_body
        The body bytes the signature covers.
    signature
        The ``X-Smartlead-Signature`` header, or None when absent.
    secret
        The configured webhook secret.

    Returns
    -------
    Refusal or None
    """
    given = body.get("secret_key")
    if given is None and signature is None:
        return Refusal(401, "missing_secret", "no secret_key in the body and no signature")
    if given is not None and (not isinstance(given, str) or not _same(given, secret)):
        return Refusal(401, "wrong_secret", "secret_key does not match")
    if signature is not None:
        expected = smartlead_signature(secret, raw_body)
        if not _same(signature.strip().lower(), expected):
            return Refusal(401, "bad_signature", "X-Smartlead-Signature does not match the body")
    return None


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """Twilio's ``X-Twilio-Signature`` for a POST: Base64(HMAC-SHA1(token, url + params)).

    The signed string is the full URL Twilio called (scheme, host, path and query string)
    followed by every POST parameter sorted by name, each written as its name then its value,
    with no separators (a repeated name contributes each of its values, in sorted order).

    Parameters
    ----------
    auth_token
        The account's auth token.
    url
        The public URL Twilio posted to.
    params
        The decoded form fields as (name, value) pairs.

    Returns
    -------
    str
    """
    parts = [url]
    parts.extend(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode("utf-8"), "".join(parts).encode("utf-8"), hashlib.sha1)
    return base64.b64encode(digest.digest()).decode("ascii")


def check_twilio(
    signature: str | None, auth_token: str, url: str, params: Iterable[tuple[str, str]]
) -> Refusal | None:
    """Twilio: the ``X-Twilio-Signature`` header must match :func:`twilio_signature`.

    Returns
    -------
    Refusal or None
    """
    if not signature:
        return Refusal(401, "missing_signature", "no X-Twilio-Signature header")
    if not _same(signature.strip(), twilio_signature(auth_token, url, params)):
        return Refusal(401, "bad_signature", "X-Twilio-Signature does not match")
    return None


def check_token(path_token: str | None, header_token: str | None, expected: str) -> Refusal | None:
    """Salesforge and HeyReach: a secret token in the URL path or the ``X-CIS-Token`` header.

    When both are given, both must match.

    Returns
    -------
    Refusal or None
    """
    given = [t for t in (path_token, header_token) if t is not None]
    if not given:
        return Refusal(401, "missing_token", "no token in the path or the X-CIS-Token header")
    if not all(_same(t, expected) for t in given):
        return Refusal(401, "wrong_token", "token does not match")
    return None
