"""Rejected input: every record a loader refuses is kept with its reason, never dropped."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

MAX_PAYLOAD_CHARS = 100_000
WITHHELD = "payload withheld: a deletion request covers this person"


@dataclass(frozen=True)
class Rejection:
    """One refused record: what it was, where it came from and why."""

    record_kind: str
    reason: str
    source_file: str | None
    source_line: int | None
    payload: str | None
    # A deletion request covers the person the payload names: the row keeps the reason, not
    # the payload (its key stays what it would have been, so a re-read replaces nothing).
    withheld: bool = False

    def describe(self) -> str:
        where = self.source_file or "api"
        if self.source_line is not None:
            where += f":{self.source_line}"
        return f"{where}: {self.reason}"

    def to_row(self, rejected_at: datetime) -> dict[str, object]:
        """The row for a source's ``rejected_records`` table (key stable across re-runs)."""
        key = "|".join(
            str(p) for p in (self.record_kind, self.source_file, self.source_line, self.reason)
        )
        if self.payload:
            # Two landing folders can hold files of the same name: what the line said keeps
            # their rejections apart, while re-reading the same file gives the same key.
            key += "|" + hashlib.sha256(self.payload.encode("utf-8", "replace")).hexdigest()
        payload = self.payload
        if payload is not None:
            payload = storable_text(payload[:MAX_PAYLOAD_CHARS])
        reason = self.reason
        if self.withheld:
            payload, reason = None, f"{reason} ({WITHHELD})"
        return {
            "rejection_id": hashlib.sha256(key.encode()).hexdigest(),
            "record_kind": self.record_kind,
            "reason": storable_text(reason),
            "source_file": self.source_file,
            "source_line": self.source_line,
            "payload": payload,
            "rejected_at": rejected_at,
        }


def storable_text(text: str) -> str:
    """``text`` as PostgreSQL can keep it: NUL and lone surrogates escaped, nothing dropped."""
    return text.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")
