"""Landing files of generated vendor events: ids, time formats and a streaming file writer.

Every id is a hash of the seed and the entity it names (never a counter shared across kinds),
so the same seed gives the same ids whatever else is generated.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

__all__ = [
    "EventWriter",
    "dumps",
    "hex_id",
    "iso_ms_offset",
    "iso_ms_z",
    "iso_s_offset",
    "iso_s_z",
    "iso_us_offset",
    "iso_us_z",
    "num_id",
    "uuid_text",
]


def _digest(seed: int, parts: tuple[object, ...], size: int) -> bytes:
    key = "|".join(str(p) for p in (seed, *parts)).encode()
    return hashlib.blake2b(key, digest_size=size).digest()


def uuid_text(seed: int, *parts: object) -> str:
    """A version-4-shaped UUID string derived from the seed and parts."""
    raw = bytearray(_digest(seed, parts, 16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def hex_id(seed: int, chars: int, *parts: object) -> str:
    """``chars`` lower-case hex digits derived from the seed and parts."""
    return _digest(seed, parts, (chars + 1) // 2).hex()[:chars]


def num_id(seed: int, low: int, span: int, *parts: object) -> int:
    """An integer in ``[low, low + span)`` derived from the seed and parts."""
    return low + int.from_bytes(_digest(seed, parts, 8), "big") % span


def b64_id(seed: int, *parts: object) -> str:
    """A base64 token (HeyReach conversation ids look like this)."""
    return base64.b64encode(uuid_text(seed, *parts).encode() + b"_010").decode()


def iso_ms_z(t: datetime) -> str:
    """``2025-09-02T14:03:12.406Z``."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def iso_us_z(t: datetime) -> str:
    """``2025-09-02T14:03:12.406118Z`` (the receiver's ``received_at``)."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_s_z(t: datetime) -> str:
    """``2025-09-02T14:03:12Z``."""
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms_offset(t: datetime) -> str:
    """``2025-09-02T14:03:12.406+00:00``."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+00:00"


def iso_us_offset(t: datetime) -> str:
    """``2025-09-02T14:05:48.772104+00:00``."""
    return t.astimezone(UTC).isoformat(timespec="microseconds")


def iso_s_offset(t: datetime) -> str:
    """``2025-09-03T16:22:40+00:00`` (or another offset when ``t`` is in another zone)."""
    return t.isoformat(timespec="seconds")


def dumps(obj: object) -> str:
    """One landing line (compact key order as built, UTF-8 kept)."""
    return json.dumps(obj, ensure_ascii=False)


class EventWriter:
    """Lines of one landing kind, in files of at most ``per_file`` lines, written as they come.

    A file is written under a hidden temporary name and renamed when full (or at ``close``) to
    ``<first event time, %Y-%m-%dT%H%M%SZ>-<tag>-<NNNN>.jsonl``: the earliest event time among
    its lines, so a name never claims a time after an event it holds (a *late* file, whose
    deliveries were retried, is named ``lag`` after its latest event instead).
    """

    def __init__(
        self, root: Path, kind: str, tag: str, per_file: int, lag: timedelta | None = None
    ) -> None:
        self.folder = Path(root) / kind
        self.kind = kind
        self.tag = tag
        self.per_file = per_file
        self.lag = lag
        self.number = 0
        self.lines = 0
        self.total = 0
        self.handle: IO[str] | None = None
        self.tmp: Path | None = None
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.written: list[str] = []

    def write(self, line: str, at: datetime) -> None:
        """Append one line for an event at ``at`` (UTC)."""
        if self.handle is None:
            self._open()
        assert self.handle is not None
        self.handle.write(line)
        self.handle.write("\n")
        self.lines += 1
        self.total += 1
        if self.first is None or at < self.first:
            self.first = at
        if self.last is None or at > self.last:
            self.last = at
        if self.lines >= self.per_file:
            self.close()

    def reserve(self, lines: int) -> None:
        """Start a new file unless ``lines`` more fit in the current one (so the versions of one
        record, written together, stay in one file and in order)."""
        if self.handle is not None and self.lines + lines > self.per_file:
            self.close()

    def _open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.number += 1
        self.tmp = self.folder / f".{self.tag}-{self.number:04d}.jsonl.tmp"
        # Closed in close(): one file stays open across many write() calls.
        self.handle = open(self.tmp, "w", encoding="utf-8", newline="\n", buffering=1 << 20)  # noqa: SIM115
        self.lines = 0
        self.first = self.last = None

    def close(self) -> None:
        """Finish the current file (rename it to its final name)."""
        if self.handle is None or self.tmp is None:
            return
        self.handle.close()
        self.handle = None
        assert self.first is not None and self.last is not None
        stamp = self.first if self.lag is None else self.last + self.lag
        name = f"{stamp.strftime('%Y-%m-%dT%H%M%SZ')}-{self.tag}-{self.number:04d}.jsonl"
        os.replace(self.tmp, self.folder / name)
        self.written.append(f"{self.kind}/{name}")
