"""Reading a landing folder: JSON Lines files, one vendor payload per line.

Every line becomes either a parsed object or a :class:`Rejection` naming the file and line, so
one bad line never stops a load and nothing is silently skipped.
"""

from __future__ import annotations

import itertools
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
        try:
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        except ValueError:
            pass  # digits that are no date (12345678-export.jsonl): the file's time then
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


def landing_files(root: Path, kind: str) -> list[Path]:
    """The ``*.jsonl`` files of one payload kind (e.g. ``apollo/people``), in name order."""
    folder = root / kind
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.jsonl") if p.is_file())


def read_jsonl(path: Path, root: Path, record_kind: str) -> Iterator[LandingLine | Rejection]:
    """Yield each line of ``path`` as a LandingLine or a Rejection, streaming the file.

    The first lines decide about the file as a whole: when one of them is not UTF-8 (a legacy
    export) or none is a JSON object (CSV, binary), the file gives a single file-level rejection
    instead of one per line. Past them, each line stands on its own.
    """
    relative = str(path.relative_to(root))
    with path.open("rb") as handle:
        head = list(itertools.islice(handle, _SNIFF_LINES))
    problem = _file_problem(head)
    if problem:
        sample = b"".join(head)[:2000].decode("utf-8", "replace")
        yield Rejection(record_kind, problem, relative, None, sample)
        return
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            item = _parse_line(raw, relative, number, record_kind)
            if item is not None:  # blank lines carry nothing
                yield item


def _file_problem(head: list[bytes]) -> str | None:
    try:
        lines = [raw.decode("utf-8") for raw in head]
    except UnicodeDecodeError as exc:
        return f"file is not UTF-8 text ({exc.reason})"
    if any(line.strip() for line in lines) and not _any_object(lines):
        return "file is not JSON Lines: no line is a JSON object"
    return None


def _parse_line(
    raw: bytes, relative: str, number: int, record_kind: str
) -> LandingLine | Rejection | None:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = raw.decode("utf-8", "replace")
        return Rejection(
            record_kind, f"line is not UTF-8 text ({exc.reason})", relative, number, text
        )
    if not line.strip():
        return None
    try:
        payload = json.loads(line)
    except json.JSONDecodeError as exc:
        reason = f"not valid JSON ({exc.msg} at column {exc.colno})"
        return Rejection(record_kind, reason, relative, number, line.rstrip("\r\n"))
    if not isinstance(payload, dict):
        reason = f"expected a JSON object, got {type(payload).__name__}"
        return Rejection(record_kind, reason, relative, number, line.rstrip("\r\n"))
    return LandingLine(payload, relative, number)


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
