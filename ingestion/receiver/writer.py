"""Group-commit appender for one landing folder: rotation by size and age, and recovery.

Requests hand a complete line to :meth:`LandingWriter.append` and wait. The writer task takes
every line that arrived together, writes them with one ``write``, calls ``fsync`` once (in a
thread, so the event loop keeps accepting) and only then releases the waiting requests.

The file being written is hidden from ``ingest landing``: ``.<UTC>-<pid>-<seq>.jsonl.open``.
Rotation fsyncs it, renames it to ``<UTC>-<pid>-<seq>.jsonl`` and fsyncs the folder. The
writer holds an exclusive ``flock`` on its open file, so start-up recovery
(:func:`recover_folder`) finishes only the ``.open`` files no live process holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ingestion.receiver.settings import FsyncMode

log = logging.getLogger("cis.receiver")

OPEN_SUFFIX = ".open"
FRAGMENT_SUFFIX = ".fragment"
FILE_MODE = 0o640


class WriteFailed(Exception):
    """The batch holding a line could not be written or fsync'ed (nothing was acknowledged)."""


@dataclass
class WriterStats:
    """Counters of one writer, read by ``GET /stats``."""

    lines: int = 0
    bytes: int = 0
    fsyncs: int = 0
    batches: int = 0
    largest_batch: int = 0
    files_published: int = 0
    write_errors: int = 0


@dataclass(frozen=True)
class RecoveredFile:
    """What start-up recovery did with one orphan ``.open`` file."""

    published: Path | None  # the .jsonl it became (None: it held no complete line)
    lines_kept: int
    fragment: Path | None  # where an incomplete or unreadable tail went
    fragment_bytes: int


def final_name(open_name: str) -> str:
    """``.20261201T015500Z-12-000001.jsonl.open`` -> ``20261201T015500Z-12-000001.jsonl``."""
    return open_name.removeprefix(".").removesuffix(OPEN_SUFFIX)


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _free_name(folder: Path, name: str) -> str:
    """``name``, or ``name`` with a ``-<n>`` before ``.jsonl`` if that is taken."""
    if not (folder / name).exists():
        return name
    stem = name.removesuffix(".jsonl")
    n = 1
    while (folder / f"{stem}-{n}.jsonl").exists():
        n += 1
    return f"{stem}-{n}.jsonl"


class _OpenFile:
    def __init__(self, folder: Path, seq: int) -> None:
        stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
        while True:
            name = f".{stamp}-{os.getpid()}-{seq:06d}.jsonl{OPEN_SUFFIX}"
            if not (folder / final_name(name)).exists():
                try:
                    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC
                    self.fd = os.open(folder / name, flags, FILE_MODE)
                    break
                except FileExistsError:
                    pass
            seq += 1
        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.seq = seq
        self.path = folder / name
        self.size = 0
        self.opened = time.monotonic()
        fsync_dir(folder)  # the new directory entry is durable before any line is acknowledged


class LandingWriter:
    """One appender per landing folder (one vendor), with group commit.

    Parameters
    ----------
    folder
        The vendor's landing folder (created on the first write).
    rotate_bytes, rotate_seconds
        Publish the open file once it holds this many bytes or is this many seconds old.
    fsync
        ``group``, ``each`` or ``off`` (see :class:`~ingestion.receiver.settings.ReceiverSettings`).
    """

    def __init__(
        self,
        folder: Path,
        rotate_bytes: int,
        rotate_seconds: float,
        fsync: FsyncMode = "group",
    ) -> None:
        self.folder = folder
        self.rotate_bytes = rotate_bytes
        self.rotate_seconds = rotate_seconds
        self.fsync = fsync
        self.stats = WriterStats()
        self.recovered: list[RecoveredFile] = []
        self._pending: list[tuple[bytes, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._file: _OpenFile | None = None
        self._seq = 0
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Finish the orphan ``.open`` files of the folder, then start the writer task."""
        if self.folder.is_dir():
            self.recovered = await asyncio.to_thread(recover_folder, self.folder)
        self._task = asyncio.create_task(self._run(), name=f"writer {self.folder}")

    async def append(self, line: bytes) -> None:
        """Write one ``\\n``-terminated line; returns once it is on disk (fsync'ed).

        Raises
        ------
        WriteFailed
            When the write or the fsync failed; the line must not be acknowledged.
        """
        if self._closing or self._task is None:
            raise WriteFailed("the writer is not running")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((line, future))
        self._wake.set()
        await future

    async def close(self) -> None:
        """Write what is pending, then publish the open file."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        await asyncio.to_thread(self._publish)

    async def _run(self) -> None:
        while True:
            if not self._pending and not self._closing:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._seconds_to_rotation())
            self._wake.clear()
            if self._file is not None and self._age() >= self.rotate_seconds:
                await asyncio.to_thread(self._publish)
            batch, self._pending = self._pending, []
            if not batch:
                if self._closing:
                    return
                continue
            groups = [[item] for item in batch] if self.fsync == "each" else [batch]
            for group in groups:
                await self._commit(group)

    async def _commit(self, group: list[tuple[bytes, asyncio.Future[None]]]) -> None:
        data = b"".join(line for line, _ in group)
        try:
            await asyncio.to_thread(self._write, data)
        except Exception as exc:
            self.stats.write_errors += 1
            log.error("could not write %d lines to %s: %s", len(group), self.folder, exc)
            await asyncio.to_thread(self._abandon)
            for _, future in group:
                if not future.done():
                    future.set_exception(WriteFailed(str(exc)))
            return
        self.stats.lines += len(group)
        self.stats.bytes += len(data)
        self.stats.batches += 1
        self.stats.largest_batch = max(self.stats.largest_batch, len(group))
        for _, future in group:
            if not future.done():
                future.set_result(None)

    def _seconds_to_rotation(self) -> float | None:
        if self._file is None:
            return None
        return max(0.0, self.rotate_seconds - self._age())

    def _age(self) -> float:
        return time.monotonic() - self._file.opened if self._file else 0.0

    def _write(self, data: bytes) -> None:
        if self._file is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._file = _OpenFile(self.folder, self._seq)
            self._seq = self._file.seq + 1
        _write_all(self._file.fd, data)
        if self.fsync != "off":
            os.fsync(self._file.fd)
            self.stats.fsyncs += 1
        self._file.size += len(data)
        if self._file.size >= self.rotate_bytes:
            self._publish()

    def _publish(self) -> None:
        """fsync the open file, rename it to its ``.jsonl`` name, fsync the folder."""
        current, self._file = self._file, None
        if current is None:
            return
        try:
            os.fsync(current.fd)
            target = self.folder / _free_name(self.folder, final_name(current.path.name))
            os.rename(current.path, target)
            fsync_dir(self.folder)
            self.stats.files_published += 1
        finally:
            os.close(current.fd)

    def _abandon(self) -> None:
        """After a failed write: close the file and let recovery keep its complete lines."""
        current, self._file = self._file, None
        if current is None:
            return
        os.close(current.fd)  # releases the lock
        try:
            recover_file(current.path)
        except OSError as exc:  # the next start-up recovers it
            log.error("could not finish %s after a failed write: %s", current.path, exc)


def _is_object_line(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):
        return False


def recover_file(path: Path) -> RecoveredFile | None:
    """Finish one orphan ``.open`` file, unless a live writer holds its lock (then None).

    Every complete line that parses as a JSON object is kept; an incomplete last line (never
    acknowledged: a line is acknowledged only after it and its newline were fsync'ed) and any
    unreadable line go to ``<name>.jsonl.fragment`` beside it, written and fsync'ed first.
    The rest is renamed to ``<name>.jsonl`` (or removed when nothing is left).

    Parameters
    ----------
    path
        A ``.<name>.jsonl.open`` file.

    Returns
    -------
    RecoveredFile or None
    """
    folder = path.parent
    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # a running receiver is writing it
        with open(fd, "rb", closefd=False) as handle:
            data = handle.read()
        end = data.rfind(b"\n") + 1
        kept: list[bytes] = []
        bad: list[bytes] = []
        for line in data[:end].splitlines(keepends=True):
            (kept if _is_object_line(line) else bad).append(line)
        if data[end:]:
            bad.append(data[end:])
        name = _free_name(folder, final_name(path.name))
        fragment: Path | None = None
        fragment_bytes = sum(len(b) for b in bad)
        if bad:
            fragment = folder / (name + FRAGMENT_SUFFIX)
            n = 1
            while fragment.exists():
                fragment = folder / f"{name}{FRAGMENT_SUFFIX}.{n}"
                n += 1
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
            out = os.open(fragment, flags, FILE_MODE)
            try:
                _write_all(out, b"".join(bad))
                os.fsync(out)
            finally:
                os.close(out)
        body = b"".join(kept)
        published: Path | None = folder / name if kept else None
        if published is not None and not data.startswith(body):
            # An unreadable line in the middle: write the kept lines to the final name first
            # (a crash before the unlink below leaves duplicates, never a loss).
            out = os.open(published, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
            try:
                _write_all(out, body)
                os.fsync(out)
            finally:
                os.close(out)
            path.unlink()
        elif published is not None:
            os.ftruncate(fd, len(body))
            os.fsync(fd)
            os.rename(path, published)
        else:
            path.unlink()
        fsync_dir(folder)
        return RecoveredFile(published, len(kept), fragment, fragment_bytes)
    finally:
        os.close(fd)


def recover_folder(folder: Path) -> list[RecoveredFile]:
    """Finish every orphan ``.*.jsonl.open`` file in ``folder`` (see :func:`recover_file`).

    Returns
    -------
    list[RecoveredFile]
        One entry per file finished; files a live writer holds are left alone.
    """
    done: list[RecoveredFile] = []
    for path in sorted(folder.glob(f".*.jsonl{OPEN_SUFFIX}")):
        if not path.is_file() or path.is_symlink():
            continue
        result = recover_file(path)
        if result is None:
            continue
        done.append(result)
        log.warning(
            "recovered %s: %d complete lines%s",
            path.name,
            result.lines_kept,
            f", {result.fragment_bytes} bytes of an incomplete tail moved to {result.fragment.name}"
            if result.fragment
            else "",
        )
    return done
