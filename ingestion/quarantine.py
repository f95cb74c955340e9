"""Rejected input: every record a loader refuses is kept with its reason, never dropped."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

MAX_PAYLOAD_CHARS = 100_000


@dataclass(frozen=True)
class Rejection:
    """One refused record: what it was, where it came from and why."""

    record_kind: str
    reason: str
    source_file: str | None
    source_line: int | None
    payload: str | None

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
        if self.source_file is None and self.payload:
            key += "|" + hashlib.sha256(self.payload.encode()).hexdigest()
        payload = self.payload
        if payload is not None and len(payload) > MAX_PAYLOAD_CHARS:
            payload = payload[:MAX_PAYLOAD_CHARS]
        return {
            "rejection_id": hashlib.sha256(key.encode()).hexdigest(),
            "record_kind": self.record_kind,
            "reason": self.reason,
            "source_file": self.source_file,
            "source_line": self.source_line,
            "payload": payload,
            "rejected_at": rejected_at,
        }
