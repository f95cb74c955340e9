"""Vendor events from landing files into raw tables, on dlt's Arrow/COPY path.

Every vendor payload kind that is an event stream (webhook deliveries, statistics rows, campaign
and sequence snapshots) loads the same way: each line becomes one row of a few typed columns the
marts join and filter on, plus the whole vendor body as ``payload`` (jsonb: unknown fields are
kept), built into Arrow tables and loaded by dlt with ``COPY`` (``loader_file_format="csv"``).
What differs per vendor is small and lives in the vendor's package: how to read an event's key,
name, campaign, lead and time (:class:`EventKind`'s ``describe``).

Raw rows are keyed by ``delivery_id``, the hash of where the line was read and what it said
(or, for snapshots, of the natural id and what it said), and appended with one COPY per table:
``ingestion.progress`` makes each line read once (a crashed run's rows for lines read again are
deleted first, under the load lock). ``event_key`` is the event's own identity (a vendor id, or a
hash of the fields the contracts name), so a duplicate delivery is two rows with one key and
is recognised downstream. A line that cannot be read, or whose event time is not a time, goes
to the dataset's ``rejected_records`` with its file, line and reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
import orjson
import pyarrow as pa
from dlt.sources import DltResource

from cis.privacy import identity_hashes
from ingestion.apollo.suppression import withhold_if_suppressed
from ingestion.landing import LandingLine
from ingestion.progress import FileSlice, read_slice
from ingestion.quarantine import Rejection

BATCH_ROWS = 20_000
RECEIPT_KEY = "_cis_receipt"  # added by the webhook receiver (docs/receiver.md)
SCHEMA = pa.schema(
    [
        ("delivery_id", pa.string()),
        ("event_key", pa.string()),
        ("event_name", pa.string()),
        ("campaign_id", pa.string()),
        ("lead_email", pa.string()),
        ("lead_linkedin_url", pa.string()),
        ("lead_phone", pa.string()),
        ("occurred_at", pa.timestamp("us", tz="UTC")),
        ("occurred_at_text", pa.string()),
        ("received_at", pa.timestamp("us", tz="UTC")),
        ("request_id", pa.string()),
        ("payload", pa.string()),
        ("receipt", pa.string()),
        ("_source_file", pa.string()),
        ("_source_line", pa.int64()),
        ("_loaded_at", pa.timestamp("us", tz="UTC")),
    ]
)
COLUMN_HINTS: dict[str, dict[str, Any]] = {
    "delivery_id": {"data_type": "text", "nullable": False},
    "payload": {"data_type": "json"},
    "receipt": {"data_type": "json"},
}
REJECTED_COLUMNS: dict[str, dict[str, Any]] = {
    "rejection_id": {"data_type": "text", "nullable": False},
    "record_kind": {"data_type": "text"},
    "reason": {"data_type": "text"},
    "source_file": {"data_type": "text"},
    "source_line": {"data_type": "bigint"},
    "payload": {"data_type": "text"},
    "rejected_at": {"data_type": "timestamp"},
}


class EventProblem(ValueError):
    """A line that is JSON but not a usable event (its reason goes to quarantine)."""


@dataclass(frozen=True)
class EventFacts:
    """What the loader reads out of one vendor payload (every field may be None)."""

    event_key: str
    event_name: str | None = None
    campaign_id: str | None = None
    lead_email: str | None = None
    occurred_at: datetime | None = None
    occurred_at_text: str | None = None
    # Snapshots (a campaign, a statistics row) are versions of one record: the natural id makes
    # the same content read from two files one row, and a changed row a new version.
    version_of: str | None = None
    lead_linkedin_url: str | None = None
    lead_phone: str | None = None


@dataclass(frozen=True)
class EventKind:
    """One landing payload kind that loads into one raw table."""

    landing_kind: str  # e.g. "smartlead/webhooks"
    table: str  # e.g. "webhook_events"
    record_kind: str  # names the kind in rejected_records
    describe: Callable[[dict, dict], EventFacts]  # (body, receipt) -> facts; may raise EventProblem
    secret_fields: tuple[str, ...] = ()  # credentials some senders put in the body: not stored


@dataclass
class EventCounts:
    """Counted while a dataset's kinds are read."""

    rows: dict[str, int] = field(default_factory=dict)  # landing kind -> rows read
    by_name: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, event name)
    campaigns: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, campaign id)
    rejected: int = 0
    suppressed: int = 0  # events of a person a deletion request covers: stored without data
    rejections: list[Rejection] = field(default_factory=list)
    files: int = 0


def digest(*parts: object) -> str:
    """sha256 (hex) of the parts joined by ``|`` (None as empty)."""
    text = "|".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def text_or_none(value: object) -> str | None:
    """A scalar as text (ids arrive as strings or integers); None for blanks and containers."""
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def _receipt_time(receipt: dict) -> datetime | None:
    from ingestion.apollo.records import parse_timestamp

    return parse_timestamp(receipt.get("received_at"))


class _Batch:
    """Column lists of one Arrow table in the making."""

    def __init__(self) -> None:
        self.columns: dict[str, list] = {name: [] for name in SCHEMA.names}

    def __len__(self) -> int:
        return len(self.columns["delivery_id"])

    def add(self, row: dict[str, object]) -> None:
        for name, values in self.columns.items():
            values.append(row[name])

    def table(self) -> pa.Table:
        return pa.table(self.columns, schema=SCHEMA)


def event_row(
    kind: EventKind,
    line: LandingLine,
    loaded_at: datetime,
    suppressed: frozenset[str] = frozenset(),
) -> dict[str, object]:
    """The raw row of one landing line (raises EventProblem for an unusable event).

    The event of a person a deletion request covers (by the lead's email or LinkedIn URL) keeps
    its key, name,
    campaign and time, not its body or the address.
    """
    text = line.text if line.text is not None else _dumps(line.payload)
    body = line.payload
    # The body as stored: the line itself when it holds nothing to take out (most lines).
    stored_text: str | None = text
    if RECEIPT_KEY in body or any(name in body for name in kind.secret_fields):
        body = dict(body)
        receipt = body.pop(RECEIPT_KEY, None)
        for name in kind.secret_fields:
            body.pop(name, None)
        stored_text = None
    else:
        receipt = None
    receipt = receipt if isinstance(receipt, dict) else {}
    facts = kind.describe(body, receipt)
    if facts.version_of is not None:
        # A version is what the vendor said, wherever, whenever and however it was written (a
        # landing line, an API answer): its canonical JSON, without the receipt.
        said = orjson.dumps(body, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
        delivery = digest(kind.landing_kind, facts.version_of, hashlib.sha256(said).hexdigest())
    else:
        delivery = digest(kind.landing_kind, line.source_file, line.source_line, _sha256(text))
    withheld = bool(suppressed) and not identity_hashes(
        email=facts.lead_email, linkedin_url=facts.lead_linkedin_url
    ).isdisjoint(suppressed)
    return {
        "delivery_id": delivery,
        "event_key": facts.event_key,
        "event_name": facts.event_name,
        "campaign_id": facts.campaign_id,
        "lead_email": None if withheld else facts.lead_email,
        "lead_linkedin_url": None if withheld else facts.lead_linkedin_url,
        "lead_phone": None if withheld else facts.lead_phone,
        "occurred_at": facts.occurred_at,
        "occurred_at_text": facts.occurred_at_text,
        "received_at": _receipt_time(receipt),
        "request_id": text_or_none(receipt.get("request_id")),
        "payload": None if withheld else (stored_text or _dumps(body)),
        "receipt": _dumps(receipt) if receipt and not withheld else None,
        "_source_file": line.source_file,
        "_source_line": line.source_line,
        "_loaded_at": loaded_at,
    }


def read_kind(
    kind: EventKind,
    slices: Sequence[FileSlice],
    root: Path,
    counts: EventCounts,
    suppressed: frozenset[str] = frozenset(),
) -> Iterator[pa.Table | Rejection]:
    """Arrow tables of the kind's unread lines, and a Rejection for each line refused."""

    def lines() -> Iterator[LandingLine | Rejection]:
        for piece in slices:
            counts.files += 1
            yield from read_slice(piece, root, kind.record_kind)

    yield from rows_in_tables(kind, lines(), counts, suppressed)


def rows_in_tables(
    kind: EventKind,
    lines: Iterable[LandingLine | Rejection],
    counts: EventCounts,
    suppressed: frozenset[str] = frozenset(),
) -> Iterator[pa.Table | Rejection]:
    """Arrow tables of ``BATCH_ROWS`` raw rows of ``kind``, and a Rejection for each line
    refused (an API source hands its records in as lines too: ``ingestion.events.api``)."""
    loaded_at = datetime.now(tz=UTC)
    batch = _Batch()
    for item in lines:
        if isinstance(item, Rejection):
            yield withhold_if_suppressed(item, suppressed)
            continue
        try:
            row = event_row(kind, item, loaded_at, suppressed)
        except EventProblem as exc:
            rejection = Rejection(
                kind.record_kind, str(exc), item.source_file, item.source_line, _dump(item)
            )
            yield withhold_if_suppressed(rejection, suppressed)
            continue
        if row["payload"] is None:
            counts.suppressed += 1
        _tally(counts, kind, row)
        batch.add(row)
        if len(batch) >= BATCH_ROWS:
            yield batch.table()
            batch = _Batch()
    if len(batch):
        yield batch.table()


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _dumps(value: object) -> str:
    return orjson.dumps(value).decode("utf-8")


def _dump(line: LandingLine) -> str:
    return line.text if line.text is not None else _dumps(line.payload)


def _tally(counts: EventCounts, kind: EventKind, row: dict[str, object]) -> None:
    counts.rows[kind.landing_kind] = counts.rows.get(kind.landing_kind, 0) + 1
    name = (kind.landing_kind, str(row["event_name"] or "(none)"))
    counts.by_name[name] = counts.by_name.get(name, 0) + 1
    if row["campaign_id"] is not None:
        campaign = (kind.landing_kind, str(row["campaign_id"]))
        counts.campaigns[campaign] = counts.campaigns.get(campaign, 0) + 1


@dlt.source(max_table_nesting=0)
def events_landing_source(
    landing_dir: str,
    kinds: Sequence[EventKind],
    slices: dict[str, list[FileSlice]],
    counts: EventCounts | None = None,
    suppressed: frozenset[str] = frozenset(),
) -> list[DltResource]:
    """The raw tables of one vendor dataset, from the unread ``slices`` of each of its kinds.

    ``suppressed``: the hashed keys of deletion requests (``cis.suppression_keys``).
    """
    root = Path(landing_dir)
    tally = counts if counts is not None else EventCounts()

    @dlt.resource(name="event_batches", selected=False)
    def batches() -> Iterator[dict[str, Any]]:
        yield {"start": True}  # the quarantine table exists even when nothing is rejected
        for kind in kinds:
            pieces = slices.get(kind.landing_kind, [])
            yield from envelopes(kind, read_kind(kind, pieces, root, tally, suppressed), tally)

    return event_resources(batches, kinds)


def envelopes(
    kind: EventKind, items: Iterable[pa.Table | Rejection], counts: EventCounts
) -> Iterator[dict[str, Any]]:
    """What ``rows_in_tables`` yields, as the envelopes :func:`event_resources` reads (each
    rejection counted)."""
    for item in items:
        if isinstance(item, Rejection):
            counts.rejected += 1
            counts.rejections.append(item)
            yield {"rejection": item}
        else:
            yield {"table": kind.table, "rows": item}


def event_resources(batches: DltResource, kinds: Sequence[EventKind]) -> list[DltResource]:
    """The raw tables of ``kinds`` and ``rejected_records``, fed by one ``batches`` resource
    that yields ``{"start": True}`` first, then ``{"table": name, "rows": arrow_table}`` and
    ``{"rejection": Rejection}`` envelopes."""
    tables = dict.fromkeys(kind.table for kind in kinds)
    return [*(_table_resource(batches, table) for table in tables), _rejected_resource(batches)]


def _table_resource(batches: DltResource, table: str) -> DltResource:
    def rows(envelope: dict[str, Any]) -> Iterator[pa.Table]:
        if envelope.get("table") == table:
            yield envelope["rows"]

    return dlt.transformer(
        rows,
        data_from=batches,
        name=table,
        primary_key="delivery_id",
        write_disposition="append",
        file_format="csv",
        columns=COLUMN_HINTS,
    )


def _rejected_resource(batches: DltResource) -> DltResource:
    now = datetime.now(tz=UTC)

    def rejected(envelope: dict[str, Any]) -> Iterator[Any]:
        if envelope.get("start"):
            yield dlt.mark.materialize_table_schema()
        elif "rejection" in envelope:
            yield [envelope["rejection"].to_row(now)]

    return dlt.transformer(
        rejected,
        data_from=batches,
        name="rejected_records",
        primary_key="rejection_id",
        write_disposition="merge",
        columns=REJECTED_COLUMNS,
    )
