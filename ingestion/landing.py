"""Reading a landing folder: JSON Lines files, one vendor payload per line.

Every line becomes either a parsed object or a :class:`Rejection` naming the file and line, so
one bad line never stops a load and nothing is silently skipped.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from ingestion.quarantine import Rejection
from ingestion.values import MAX_DEPTH, line_may_hold_a_problem, value_problem

_SNIFF_LINES = 20


@dataclass(frozen=True)
class LandingLine:
    """One parsed payload and where it came from (``text``: the line as read, when kept)."""

    payload: dict
    source_file: str
    source_line: int
    text: str | None = None


# Standalone-CRM kinds live side by side in one folder, told apart by the file's name
# (``crm/meetings.csv``, ``crm/deals-2026-11.csv``): ``ingestion.crm``.
CSV_FOLDER = "crm"


def is_csv_kind(kind: str) -> bool:
    return kind.startswith(CSV_FOLDER + "/")


def csv_kind_of(name: str, kinds: Collection[str]) -> str | None:
    """The CRM kind a file in ``crm/`` is read as (its name starts with the kind's name)."""
    folded = name.lower()
    if not folded.endswith(".csv") or name.startswith("."):
        return None
    return next(
        (k for k in kinds if is_csv_kind(k) and folded.startswith(k.split("/", 1)[1])), None
    )


def landing_files(root: Path, kind: str) -> list[Path]:
    """The files of one payload kind, in name order: the ``*.jsonl`` files of its folder (e.g.
    ``apollo/people``), or for a CRM kind the ``crm/<name>*.csv`` files (any case:
    ``Meetings.CSV``)."""
    if is_csv_kind(kind):
        folder = root / CSV_FOLDER
        if not folder.is_dir():
            return []
        return sorted(
            p
            for p in folder.iterdir()
            if csv_kind_of(p.name, (kind,)) == kind and p.is_file() and not p.is_symlink()
        )
    folder = root / kind
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.glob("*.jsonl")
        if p.is_file() and not p.is_symlink() and not p.name.startswith(".")
    )


@dataclass(frozen=True)
class UnreadEntry:
    """A path under the landing root that no loader reads, and why."""

    path: str
    reason: str


def unread_entries(root: Path, kinds: Collection[str]) -> list[UnreadEntry]:
    """Every file or folder under ``root``, at any depth, that no loader of ``kinds`` reads.

    A loader reads the ``*.jsonl`` files directly inside its kind's folder (``apollo/people``),
    or a standalone-CRM kind's ``crm/<name>*.csv`` files. Everything else is listed: stray files at the root, folders of unknown kinds, files that are
    not ``.jsonl``, sub-folders of a kind folder, temporary files and symbolic links (never
    followed). Folders that only lead to a kind folder are not listed themselves.
    """
    csv_kinds = {k for k in kinds if is_csv_kind(k)}
    kinds = set(kinds) - csv_kinds  # kinds read from a folder of their own
    ancestors = {str(Path(*Path(k).parts[:n])) for k in kinds for n in range(1, len(Path(k).parts))}
    if csv_kinds:
        ancestors.add(CSV_FOLDER)
    found: list[UnreadEntry] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder).relative_to(root)
        here_text = here.as_posix()
        for name in sorted(dirs):
            relative = (here / name).as_posix()
            if (Path(folder) / name).is_symlink():
                found.append(UnreadEntry(relative + "/", "symbolic link to a folder, not followed"))
            elif relative not in kinds and relative not in ancestors:
                reason = (
                    "folder inside a payload folder (only its .jsonl files are read)"
                    if here_text in kinds
                    else "no loader for this folder"
                )
                found.append(UnreadEntry(relative + "/", reason))
        dirs[:] = [d for d in dirs if (here / d).as_posix() in kinds | ancestors]
        for name in sorted(files):
            relative = (here / name).as_posix()
            path = Path(folder) / name
            if here_text == CSV_FOLDER and csv_kinds:
                if path.is_symlink():
                    found.append(UnreadEntry(relative, "symbolic link, not followed"))
                elif name.startswith("."):
                    found.append(UnreadEntry(relative, "hidden or temporary file"))
                elif csv_kind_of(name, csv_kinds) is None:
                    names = ", ".join(sorted(k.split("/", 1)[1] + "*.csv" for k in csv_kinds))
                    found.append(UnreadEntry(relative, f"not a CRM file ({names})"))
            elif here_text not in kinds:
                found.append(UnreadEntry(relative, "no loader reads files here"))
            elif path.is_symlink():
                found.append(UnreadEntry(relative, "symbolic link, not followed"))
            elif name.startswith("."):
                found.append(UnreadEntry(relative, "hidden or temporary file"))
            elif not name.endswith(".jsonl"):
                found.append(UnreadEntry(relative, "not a .jsonl file"))
    return sorted(found, key=lambda e: e.path)


def read_jsonl(path: Path, root: Path, record_kind: str) -> Iterator[LandingLine | Rejection]:
    """Yield each line of ``path`` as a LandingLine or a Rejection, streaming the file.

    The first lines decide about the file as a whole only when it is not JSON Lines text at all
    (NUL bytes: a binary file; or none of them is a JSON object: a CSV or a legacy export); the
    file then gives one file-level rejection. Otherwise each line stands on its own: a line
    that is not UTF-8, not JSON, not an object, or holds a value the warehouse cannot store
    (:func:`ingestion.values.value_problem`) is rejected alone, with its line number.
    """
    relative = str(path.relative_to(root))
    rejection = file_rejection(path, root, record_kind)
    if rejection is not None:
        yield rejection
        return
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            item = parse_line(raw, relative, number, record_kind)
            if item is not None:  # blank lines carry nothing
                yield item


def file_rejection(path: Path, root: Path, record_kind: str) -> Rejection | None:
    """The rejection of ``path`` as a whole when it is not JSON Lines text at all, else None."""
    with path.open("rb") as handle:
        head = list(itertools.islice(handle, _SNIFF_LINES))
    problem = _file_problem(head)
    if problem is None:
        return None
    sample = b"".join(head)[:2000].decode("utf-8", "replace")
    return Rejection(record_kind, problem, str(path.relative_to(root)), None, sample)


_BOM = b"\xef\xbb\xbf"


def _file_problem(head: list[bytes]) -> str | None:
    """A reason to refuse the file as a whole: it is not text at all, or not JSON Lines."""
    if any(b"\x00" in raw for raw in head):
        return "file is binary (NUL bytes in its first lines), not JSON Lines text"
    lines = [raw.removeprefix(_BOM).decode("utf-8", "replace") for raw in head]
    if any(line.strip() for line in lines) and not _any_object(lines):
        return f"file is not JSON Lines: none of its first {len(head)} lines is a JSON object"
    return None


def _reject_constant(name: str) -> object:
    raise ValueError(f"non-finite number {name} (JSON has no NaN or Infinity)")


_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGITS = b"0" * 19  # the fewest digits of an integer beyond the 64-bit range


def parse_line_fast(
    raw: bytes, relative: str, number: int, record_kind: str
) -> LandingLine | Rejection | None:
    """:func:`parse_line` for the common case at orjson's speed, keeping the line's text.

    orjson refuses what the warehouse cannot store as JSON text (invalid UTF-8, lone
    surrogates, NaN, numbers that overflow to infinity); NUL escapes, deep nesting, long
    numbers and a BOM are left to :func:`parse_line`, which also words every rejection.
    """
    if raw.startswith(_BOM) or b"\\u0000" in raw or raw.count(b"{") + raw.count(b"[") > MAX_DEPTH:
        return parse_line(raw, relative, number, record_kind)
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return parse_line(raw, relative, number, record_kind)
    if not isinstance(payload, dict):
        return parse_line(raw, relative, number, record_kind)
    if _LONG_DIGITS in raw.translate(_DIGITS_AS_ZERO):
        # orjson reads an integer beyond 64 bits as a float (or an unsigned one) without a word:
        # any run of 19 digits sends the line to the standard library, which decides. Rare.
        return parse_line(raw, relative, number, record_kind)
    return LandingLine(payload, relative, number, raw.decode("utf-8").rstrip("\r\n"))


def parse_line(
    raw: bytes, relative: str, number: int, record_kind: str
) -> LandingLine | Rejection | None:
    """One line as a payload or as a Rejection with its reason; None for a blank line."""
    raw = raw.removeprefix(_BOM)  # a byte-order mark (line 1, or files joined together)
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        reason = f"line is not UTF-8 text ({exc.reason} at byte {exc.start + 1})"
        return Rejection(record_kind, reason, relative, number, text)
    if not line.strip():
        return None
    text = line.rstrip("\r\n")
    try:
        payload = json.loads(line, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        reason = f"not valid JSON ({exc.msg.removesuffix(' at')} at column {exc.colno})"
        return Rejection(record_kind, reason, relative, number, text)
    except RecursionError:
        return Rejection(record_kind, "JSON nested too deeply to read", relative, number, text)
    except ValueError as exc:  # NaN / Infinity, or a number the parser cannot convert
        return Rejection(record_kind, f"not valid JSON ({exc})", relative, number, text)
    if not isinstance(payload, dict):
        reason = f"expected a JSON object, got {type(payload).__name__}"
        return Rejection(record_kind, reason, relative, number, text)
    if line_may_hold_a_problem(line) and (problem := value_problem(payload)):
        return Rejection(record_kind, problem, relative, number, text)
    return LandingLine(payload, relative, number)


def _any_object(lines: list[str]) -> bool:
    for line in lines:
        stripped = line.strip()
        if not stripped.startswith("{"):
            continue
        try:
            if isinstance(json.loads(stripped), dict):
                return True
        except (ValueError, RecursionError):
            continue
    return False
