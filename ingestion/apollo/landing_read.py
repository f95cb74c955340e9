"""Reading ``apollo/people`` landing files into Arrow batches, in parallel when there is much.

Checking, splitting and converting a person record is Python, one core's work; COPY into
PostgreSQL is not. So the unread part of each file is cut into chunks of whole lines (about
``CHUNK_BYTES``, line numbers counted while cutting) and, above ``PROCESSES_FROM_BYTES``, the
chunks are read by worker processes, two at a time, while this process hands the finished
batches to dlt in file and line order. Below it, one process reads them (a worker's start-up
would cost more than it saves). Either way the rows, their ids and the rejections are the same.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ingestion.apollo.batch import ArrowBatch, arrow_batch
from ingestion.apollo.records import PullMeta
from ingestion.landing import file_rejection, parse_line_fast
from ingestion.progress import FileSlice, head_hash
from ingestion.quarantine import Rejection

CHUNK_BYTES = 16 * 1024 * 1024
BATCH_RECORDS = 5_000  # records per Arrow batch: fewer, larger items cost dlt less per row
PROCESSES = 2  # this machine's cores
PROCESSES_FROM_BYTES = 64 * 1024 * 1024
AHEAD = 2 * PROCESSES  # chunks in flight: bounds memory while keeping the workers busy


@dataclass(frozen=True)
class Chunk:
    """Whole lines ``[start, end)`` of one file; the first is line ``first_line``."""

    path: Path
    relative: str
    start: int
    end: int
    first_line: int


@dataclass
class ChunkResult:
    batches: list[ArrowBatch] = field(default_factory=list)
    people: int = 0
    rejected: int = 0
    suppressed: int = 0
    fields_seen: set[str] = field(default_factory=set)


def plan(piece: FileSlice, root: Path, record_kind: str) -> tuple[list[Chunk], Rejection | None]:
    """The chunks of a slice, or the file's rejection when it is not JSON Lines at all.

    Sets the slice's ``end``, ``lines`` and hash, as reading it would. A last line without a
    newline that does not parse is taken as still being written: it is left for the next run.
    """
    size = piece.path.stat().st_size
    if piece.start == 0 and (rejection := file_rejection(piece.path, root, record_kind)):
        piece.end, piece.lines, piece.head_sha256 = size, 0, head_hash(piece.path, size)
        return [], rejection
    chunks = []
    line = piece.first_line
    with piece.path.open("rb") as handle:
        handle.seek(piece.start)
        position = piece.start
        while position < size:
            data = handle.read(min(CHUNK_BYTES, size - position))
            if not data:  # the file shrank since it was measured
                break
            cut = data.rfind(b"\n") + 1 if position + len(data) < size else len(data)
            if cut == 0:  # a single line longer than a chunk: take it whole
                rest = handle.readline()
                data, cut = data + rest, len(data) + len(rest)
            data = data[:cut]
            if not data.endswith(b"\n"):
                unfinished = data[data.rfind(b"\n") + 1 :]
                if isinstance(parse_line_fast(unfinished, "", 0, record_kind), Rejection):
                    data, cut = data[: len(data) - len(unfinished)], cut - len(unfinished)
            handle.seek(position + cut)
            if not data:
                break
            lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
            chunks.append(Chunk(piece.path, piece.relative, position, position + cut, line))
            position += cut
            line += lines
            if not data.endswith(b"\n"):
                break
    piece.end, piece.lines = position, line - 1
    piece.head_sha256 = head_hash(piece.path, position)
    return chunks, None


def read_chunk(
    chunk: Chunk, suppressed: frozenset[str], loaded_at: datetime, record_kind: str
) -> ChunkResult:
    """Every line of the chunk checked and split, as Arrow batches (a worker's whole job)."""
    from ingestion.apollo import LoadCounts, _envelope

    counts = LoadCounts()
    result = ChunkResult()
    envelopes: list[dict] = []
    with chunk.path.open("rb") as handle:
        handle.seek(chunk.start)
        data = handle.read(chunk.end - chunk.start)
    # Lines with their newline, as iterating the file gives them (the rejection of a broken line
    # words what the parser saw, newline included).
    lines = [line + b"\n" for line in data.split(b"\n")]
    last = lines.pop()
    if last != b"\n":
        lines.append(last[:-1])  # a last line without a newline
    for number, raw in enumerate(lines, start=chunk.first_line):
        item = parse_line_fast(raw, chunk.relative, number, record_kind)
        if item is None:
            continue
        if isinstance(item, Rejection):
            from ingestion.apollo.suppression import withhold_if_suppressed

            counts.rejected += 1
            envelopes.append({"rejection": withhold_if_suppressed(item, suppressed)})
        else:
            meta = PullMeta(
                f"landing:{chunk.relative}", None, "landing", chunk.relative, number, loaded_at
            )
            envelopes.append(_envelope(item.payload, meta, suppressed, counts, record_kind))
        if len(envelopes) >= BATCH_RECORDS:
            result.batches.append(arrow_batch(envelopes))
            envelopes = []
    if envelopes:
        result.batches.append(arrow_batch(envelopes))
    result.people, result.rejected, result.suppressed = (
        counts.people,
        counts.rejected,
        counts.suppressed,
    )
    result.fields_seen = counts.fields_seen
    return result


def read_chunks(
    chunks: Sequence[Chunk], suppressed: frozenset[str], loaded_at: datetime, record_kind: str
) -> Iterator[ChunkResult]:
    """Each chunk's result, in order; in worker processes above ``PROCESSES_FROM_BYTES``."""
    if sum(c.end - c.start for c in chunks) < PROCESSES_FROM_BYTES or len(chunks) < 2:
        for chunk in chunks:
            yield read_chunk(chunk, suppressed, loaded_at, record_kind)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(PROCESSES, mp_context=context) as pool:
        pending: deque[Future[ChunkResult]] = deque()
        waiting = iter(chunks)
        for chunk in waiting:
            pending.append(pool.submit(read_chunk, chunk, suppressed, loaded_at, record_kind))
            if len(pending) >= AHEAD:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
