"""Standalone-CRM CSV files as landing lines: each row a payload of its named cells, or a
Rejection with its reason.

A file is read from where the last completed load stopped (``ingestion.progress``), its header
always from the top, so rows appended to an export load on the next run. A record may span
lines (a quoted note with line breaks): it ends where its quotes balance, and keeps the number
of the line it starts on. Comma, semicolon and tab separated files are read (the header decides).
Times, numbers and yes/no cells are checked and written in one form (ISO 8601 UTC, plain
decimals, true/false); a cell that is not what its column holds refuses its row.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import orjson

from ingestion.apollo.records import parse_timestamp
from ingestion.crm.columns import FILES, Column, CsvFile, Holds, header_name
from ingestion.landing import LandingLine
from ingestion.progress import FileSlice, head_hash
from ingestion.quarantine import Rejection

_BOM = b"\xef\xbb\xbf"
_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
_DECIMAL = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)$")
_YES = {"true", "yes", "y", "1"}
_NO = {"false", "no", "n", "0"}
_STATUS = {"open": "open", "won": "won", "closedwon": "won", "lost": "lost", "closedlost": "lost"}


class CellProblem(ValueError):
    """A cell that is not what its column holds."""


def read_csv_slice(
    piece: FileSlice, root: Path, record_kind: str
) -> Iterator[LandingLine | Rejection]:
    """Each unread record of a CRM file as a LandingLine or a Rejection; sets the slice's
    ``end``, ``lines`` and hash (as ``ingestion.progress.read_slice`` does for JSON Lines)."""
    spec = FILES[piece.kind]
    size = piece.path.stat().st_size
    with piece.path.open("rb") as handle:
        header_raw = handle.readline()
        header_problem, header = _header(header_raw, spec)
        if header_problem is not None:
            piece.end, piece.lines = size, 0
            piece.head_sha256 = head_hash(piece.path, size, whole=True)
            if piece.start == 0:
                sample = header_raw[:2000].decode("utf-8", "replace").rstrip("\r\n")
                yield Rejection(record_kind, header_problem, piece.relative, 1, sample)
            return
        delimiter, names = header
        start, number = (
            (piece.start, piece.first_line - 1) if piece.start > 0 else (len(header_raw), 1)
        )
        handle.seek(start)
        position = start
        pending: list[bytes] = []
        inside = False  # within a quoted cell that goes on past the line read so far
        quote, separator = b'"', delimiter.encode()
        for raw in handle:
            pending.append(raw)
            if inside or quote in raw:
                inside = _inside_quotes(raw, separator, inside)
            if inside:
                continue  # a quoted cell goes on on the next line (or is still being written)
            record = b"".join(pending)
            first = number + 1
            item = _row(record, names, delimiter, spec, piece.relative, first, record_kind)
            pending = []
            if not raw.endswith(b"\n"):
                # The last row, with no line end yet: loaded, but read again next run (its row
                # replaced), so a row caught half written is stored whole once it is finished.
                if item is not None:
                    yield item
                break
            number = first + record.count(b"\n") - 1
            position += len(record)
            if item is not None:
                yield item
        if pending:
            # Read again next time (it may still be being written), but said now: a cell whose
            # quote is never closed would otherwise hold the rest of the file back unseen.
            shown = b"".join(pending)[:2000].decode("utf-8", "replace")
            reason = "a quoted cell is not closed by the end of the file (read again next run)"
            yield Rejection(record_kind, reason, piece.relative, number + 1, shown)
    piece.end = position
    piece.lines = number
    piece.head_sha256 = head_hash(piece.path, piece.end, whole=True)


def _inside_quotes(raw: bytes, separator: bytes, inside: bool) -> bool:
    """Whether a quoted cell is still open at the end of ``raw``, as the csv module reads it: a
    quote opens a cell only at the cell's start, and ``""`` inside one is a quote (a stray
    ``"`` in an unquoted cell, ``12" screen``, is text)."""
    at_start = not inside
    i, n = 0, len(raw)
    while i < n:
        byte = raw[i : i + 1]
        if inside:
            if byte == b'"':
                if raw[i + 1 : i + 2] == b'"':
                    i += 2
                    continue
                inside = False
        elif byte == b'"' and at_start:
            inside = True
        at_start = not inside and byte in (separator, b"\n", b"\r")
        i += 1
    return inside


def _header(raw: bytes, spec: CsvFile) -> tuple[str | None, tuple[str, list[str]]]:
    """The file's separator and column names, or the reason the file cannot be read."""
    if not raw.strip():
        return "empty file: no header row", (",", [])
    if b"\x00" in raw:
        return "file is binary (NUL bytes in its first line), not a CSV file", (",", [])
    try:
        text = raw.removeprefix(_BOM).decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        return "header is not UTF-8 text (save the file as CSV UTF-8)", (",", [])
    if "\r" in text:
        return (
            "lines end in a carriage return alone (an old Mac CSV): save the file as CSV UTF-8",
            (",", []),
        )
    delimiter = max((",", ";", "\t"), key=text.count)
    try:
        cells = next(csv.reader([text], delimiter=delimiter, strict=True))
    except csv.Error as exc:
        return f"header is not a CSV row ({exc})", (delimiter, [])
    names = [header_name(cell) for cell in cells]
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if repeated:
        return f"header names {', '.join(repeated)} more than once", (delimiter, names)
    missing = [name for name in spec.required if name not in names]
    if missing:
        return (
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(crm/{spec.stem}*.csv needs {', '.join(spec.required)}; docs/crm.md)",
            (delimiter, names),
        )
    return None, (delimiter, names)


def _row(
    record: bytes,
    names: list[str],
    delimiter: str,
    spec: CsvFile,
    relative: str,
    number: int,
    record_kind: str,
) -> LandingLine | Rejection | None:
    try:
        text = record.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        shown = record.decode("utf-8", "replace").rstrip("\r\n")
        reason = f"row is not UTF-8 text ({exc.reason} at byte {exc.start + 1})"
        return Rejection(record_kind, reason, relative, number, shown)
    if not text.strip():
        return None
    if "\x00" in text:
        return Rejection(record_kind, "row holds a NUL character", relative, number, text)
    try:
        cells = next(csv.reader([text], delimiter=delimiter, strict=True))
    except csv.Error as exc:
        return Rejection(record_kind, f"not a CSV row ({exc})", relative, number, text)
    if len(cells) > len(names):
        reason = f"row has {len(cells)} cells, the header {len(names)} columns"
        return Rejection(record_kind, reason, relative, number, text)
    try:
        payload = _payload(cells, names, spec)
    except CellProblem as exc:
        return Rejection(record_kind, str(exc), relative, number, text)
    return LandingLine(payload, relative, number, orjson.dumps(payload).decode("utf-8"))


def _payload(cells: list[str], names: list[str], spec: CsvFile) -> dict[str, str]:
    """The row's filled-in cells by column name, each checked and written in one form."""
    payload: dict[str, str] = {}
    for index, cell in enumerate(cells):
        value = cell.strip()
        name = names[index] or f"column_{index + 1}"
        if not value:
            continue
        column = spec.column(name)
        payload[name] = _checked(value, column) if column is not None else value
    empty = [name for name in spec.required if name not in payload]
    if empty:
        raise CellProblem(f"{', '.join(empty)} {'is' if len(empty) == 1 else 'are'} empty")
    if spec.contact_groups and not any(
        all(name in payload for name in group) for group in spec.contact_groups
    ):
        raise CellProblem(
            "no contact: fill in contact_email, contact_linkedin_url, or contact_last_name "
            "with company_domain"
        )
    return payload


def _checked(value: str, column: Column) -> str:
    shown = value if len(value) <= 40 else value[:40] + "..."
    if column.holds is Holds.TIME:
        parsed = parse_timestamp(value)
        if parsed is None:
            raise CellProblem(
                f"{column.name} is not a time ({shown!r}): write ISO 8601, "
                "2026-11-03 or 2026-11-03 14:30"
            )
        return parsed.astimezone(UTC).isoformat()
    if column.holds in (Holds.NUMBER, Holds.WHOLE_NUMBER):
        plain = value.replace(",", "") if _THOUSANDS.match(value) else value
        whole = column.holds is Holds.WHOLE_NUMBER
        if not _DECIMAL.match(plain) or (whole and not plain.lstrip("-").isdigit()):
            raise CellProblem(f"{column.name} is not a {column.holds.value} ({shown!r})")
        return plain
    if column.holds is Holds.YES_NO:
        folded = value.lower()
        if folded in _YES | _NO:
            return "true" if folded in _YES else "false"
        raise CellProblem(f"{column.name} is not yes or no ({shown!r})")
    if column.holds is Holds.DEAL_STATUS:
        status = _STATUS.get(re.sub(r"[^a-z]", "", value.lower()))
        if status is None:
            raise CellProblem(f"{column.name} is not open, won or lost ({shown!r})")
        return status
    return value
