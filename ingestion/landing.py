"""Reading a landing folder: JSON Lines files, one vendor payload per line.

Every line becomes either a parsed object or a :class:`Rejection` naming the file and line, so
one bad line never stops a load and nothing is silently skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ingestion.quarantine import Rejection

_PULL_TIME = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z?)?")
_SNIFF_LINES = 20


@dataclass(frozen=True)
class LandingLine:
    """One parsed payload and where it came from."""

    payload: dict
    source_file: str
    source_line: int


def pulled_at_for(path: Path) -> datetime:
    """When a landing file was pulled: a leading ``YYYY-MM-DD[THHMMSSZ]`` in its name, else mtime."""
    match = _PULL_TIME.match(path.name)
    if match:
        year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


def landing_files(root: Path, kind: str) -> list[Path]:
    """The ``*.jsonl`` files of one payload kind (e.g. ``apollo/people``), in name order."""
    folder = root / kind
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.jsonl") if p.is_file())


def read_jsonl(path: Path, root: Path, record_kind: str) -> Iterator[LandingLine | Rejection]:
    """Yield each line of ``path`` as a LandingLine or a Rejection.

    A file in which no line is a JSON object (CSV, binary, an export in the wrong format) gives a
    single file-level rejection instead of one per line.
    """
    relative = str(path.relative_to(root))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        yield Rejection(
            record_kind,
            f"file is not UTF-8 text ({exc.reason})",
            relative,
            None,
            path.read_bytes()[:2000].decode("utf-8", "replace"),
        )
        return
    lines = text.splitlines()
    if lines and not _any_object(lines[:_SNIFF_LINES]) and not _any_object(lines):
        yield Rejection(
            record_kind,
            "file is not JSON Lines: no line is a JSON object",
            relative,
            None,
            text[:2000],
        )
        return
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            payload = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Rejection(
                record_kind,
                f"not valid JSON ({exc.msg} at column {exc.colno})",
                relative,
                number,
                line,
            )
            continue
        if not isinstance(payload, dict):
            yield Rejection(
                record_kind,
                f"expected a JSON object, got {type(payload).__name__}",
                relative,
                number,
                line,
            )
            continue
        yield LandingLine(payload, relative, number)


def _any_object(lines: list[str]) -> bool:
    for line in lines:
        stripped = line.strip()
        if not stripped.startswith("{"):
            continue
        try:
            if isinstance(json.loads(stripped), dict):
                return True
        except json.JSONDecodeError:
            continue
    return False
