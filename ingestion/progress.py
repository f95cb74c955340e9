"""What ``ingest landing`` has already loaded: each landing file, and how far into it.

A load reads each ``*.jsonl`` file of a kind from where the last completed load stopped, so a
second run loads only what is new (whole new files, or lines appended to a file), a crash
mid-load loads the same lines again (their raw keys make that a no-op), and nothing is read
twice into the marts. A file is known by its path under the landing root and the hash of its
first bytes: a file rewritten with other content under the same name is read from the start.

The progress lives in ``raw_landing.file_progress`` (owned by the loader, like the raw tables)
and is written after the load of those lines has completed, under the dataset's load lock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ingestion.landing import (
    LandingLine,
    file_rejection,
    is_csv_kind,
    landing_files,
    parse_line_fast,
)
from ingestion.quarantine import Rejection

SCHEMA = "raw_landing"
HEAD_BYTES = 65_536
TAIL_BYTES = 4_096
_DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {SCHEMA}.file_progress (
    kind text not null,
    path text not null,
    bytes_loaded bigint not null,
    lines_loaded bigint not null,
    head_sha256 text not null,
    updated_at timestamptz not null default now(),
    primary key (kind, path)
);
"""


@dataclass(frozen=True)
class FileProgress:
    """How far into one landing file the completed loads have read."""

    kind: str
    path: str  # relative to the landing root
    bytes_loaded: int
    lines_loaded: int
    head_sha256: str


@dataclass
class FileSlice:
    """The unread part of one landing file; ``end``/``lines`` are set once it has been read."""

    kind: str
    path: Path
    relative: str
    start: int
    first_line: int
    head_sha256: str
    # Whether rows already stored for these lines (``_source_line >= first_line``) can only be
    # a crashed run's, whose progress was never recorded: true unless the file was rewritten.
    replaces: bool = True
    end: int = 0
    lines: int = 0

    def progress(self) -> FileProgress:
        return FileProgress(self.kind, self.relative, self.end, self.lines, self.head_sha256)


def head_hash(path: Path, size: int, whole: bool = False) -> str:
    """sha256 of the first ``HEAD_BYTES`` of the first ``size`` bytes of ``path`` and of the
    ``TAIL_BYTES`` before ``size``: a file rewritten at its start or where the last read
    stopped is told from one that only grew. ``whole``: of all ``size`` bytes, for exports
    written again in full (a CRM's CSV, where a row in the middle may change)."""
    with path.open("rb") as handle:
        if whole:
            digest = hashlib.sha256()
            left = size
            while left > 0:
                chunk = handle.read(min(left, 1 << 20))
                if not chunk:
                    break
                digest.update(chunk)
                left -= len(chunk)
            return digest.hexdigest()
        digest = hashlib.sha256(handle.read(min(size, HEAD_BYTES)))
        if size > HEAD_BYTES:
            start = max(HEAD_BYTES, size - TAIL_BYTES)
            handle.seek(start)
            digest.update(handle.read(size - start))
    return digest.hexdigest()


def unread_slices(
    root: Path, kind: str, known: dict[str, FileProgress], reload: bool = False
) -> list[FileSlice]:
    """The part of each file of ``kind`` that no completed load has read (files in name order).

    ``reload`` reads every file from the start (raw keys keep a re-read from storing twice).
    """
    slices = []
    for path in landing_files(root, kind):
        relative = path.relative_to(root).as_posix()
        size = path.stat().st_size
        done = None if reload else known.get(relative)
        if done is not None and done.bytes_loaded <= size:
            same_file = (
                head_hash(path, done.bytes_loaded, whole=is_csv_kind(kind)) == done.head_sha256
            )
            if same_file and done.bytes_loaded == size:
                continue
            if same_file:
                slices.append(
                    FileSlice(kind, path, relative, done.bytes_loaded, done.lines_loaded + 1, "")
                )
                continue
        if done is not None:
            # Rewritten under the same name (other first bytes, or shorter than what was read):
            # its earlier rows are real records, kept; the new content is read from the start.
            slices.append(FileSlice(kind, path, relative, 0, 1, "", replaces=False))
            continue
        slices.append(FileSlice(kind, path, relative, 0, 1, ""))
    return slices


def read_slice(piece: FileSlice, root: Path, record_kind: str) -> Iterator[LandingLine | Rejection]:
    """Each line of the slice as a LandingLine (with its text) or a Rejection; sets ``end``,
    ``lines`` and the hash.

    A slice that starts at byte 0 is first checked as a whole file (``read_jsonl``'s rules).
    A standalone-CRM CSV file is read by ``ingestion.crm.csv_rows``.
    """
    if is_csv_kind(piece.kind):
        from ingestion.crm.csv_rows import read_csv_slice  # it reads slices of this module

        yield from read_csv_slice(piece, root, record_kind)
        return
    if piece.start == 0:
        rejection = file_rejection(piece.path, root, record_kind)
        if rejection is not None:
            piece.end = piece.path.stat().st_size
            piece.lines = 0
            piece.head_sha256 = head_hash(piece.path, piece.end)
            yield rejection
            return
    number = piece.first_line - 1
    with piece.path.open("rb") as handle:
        handle.seek(piece.start)
        position = piece.start
        for raw in handle:
            item = parse_line_fast(raw, piece.relative, number + 1, record_kind)
            if not raw.endswith(b"\n") and isinstance(item, Rejection):
                break  # a last line still being written: read once it is complete
            number += 1
            position += len(raw)
            if item is not None:
                yield item
    piece.end = position
    piece.lines = number
    piece.head_sha256 = head_hash(piece.path, piece.end)


def clear_unrecorded(cur, table: str, slices: Iterable[FileSlice]) -> int:
    """Delete the rows ``table`` holds for lines the slices are about to read again.

    Recorded progress covers every line before a slice's ``first_line``; a row at or after it
    can only come from a load whose progress was not recorded (a crash between the two), or
    from an earlier read of a file now read again in full (``reload``). Deleting them first
    makes the read that follows store each line exactly once.
    """
    cur.execute("select to_regclass(%s)", (table,))
    if cur.fetchone()[0] is None:
        return 0
    name = table.split(".")[1]
    cur.execute(
        f'create index if not exists "{name}_source_line" on {table} (_source_file, _source_line)'
    )
    removed = 0
    for piece in slices:
        if piece.replaces:
            cur.execute(
                f"delete from {table} where _source_file = %s and _source_line >= %s",
                (piece.relative, piece.first_line),
            )
            removed += cur.rowcount
    return removed


def drop_reread_rows(
    cur, table: str, key: Sequence[str], slices: Iterable[FileSlice], load_ids: Sequence[str]
) -> int:
    """After a load: the rows it wrote for files read again without replacing (a rewritten
    file, whose earlier rows are kept) whose ``key`` an earlier row of the same file has.

    A rewritten file that repeats a line at the same place, or a crash between such a load and
    its progress, would otherwise store that line twice; the earlier copy stays.
    """
    files = sorted({piece.relative for piece in slices if not piece.replaces})
    if not files or not load_ids:
        return 0
    cur.execute("select to_regclass(%s)", (table,))
    if cur.fetchone()[0] is None:
        return 0
    keys = ", ".join(f'"{column}"' for column in key)
    cur.execute(
        f"""
        delete from {table} as fresh
        using (
            select ctid, row_number() over (partition by {keys} order by _dlt_load_id, ctid) as n
            from {table}
            where _source_file = any(%(files)s)
        ) as copies
        where fresh.ctid = copies.ctid and copies.n > 1 and fresh._dlt_load_id = any(%(ids)s)
        """,
        {"files": files, "ids": list(load_ids)},
    )
    return cur.rowcount


def ensure_table(cur) -> None:
    cur.execute(_DDL)


def read_progress(cur, kinds: Iterable[str]) -> dict[str, FileProgress]:
    """The recorded progress of every file of ``kinds``, by path (empty before the first load)."""
    cur.execute("select to_regclass(%s)", (f"{SCHEMA}.file_progress",))
    if cur.fetchone()[0] is None:
        return {}
    cur.execute(
        f"select kind, path, bytes_loaded, lines_loaded, head_sha256 from {SCHEMA}.file_progress "
        "where kind = any(%s)",
        (list(kinds),),
    )
    return {row[1]: FileProgress(*row) for row in cur.fetchall()}


def record_progress(cur, done: Iterable[FileProgress]) -> None:
    """Remember how far the completed load read each file."""
    rows = [(p.kind, p.path, p.bytes_loaded, p.lines_loaded, p.head_sha256) for p in done]
    if not rows:
        return
    ensure_table(cur)
    cur.executemany(
        f"insert into {SCHEMA}.file_progress as f (kind, path, bytes_loaded, lines_loaded, "
        "head_sha256) values (%s, %s, %s, %s, %s) on conflict (kind, path) do update set "
        "bytes_loaded = excluded.bytes_loaded, lines_loaded = excluded.lines_loaded, "
        "head_sha256 = excluded.head_sha256, updated_at = now()",
        rows,
    )
