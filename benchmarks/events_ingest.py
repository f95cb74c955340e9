"""Vendor events through the project's pipeline against a plain COPY of the same rows.

In one run, for each size (``--events``): writes a landing folder of N vendor events (or uses
``--landing DIR``, e.g. one ``cis generate`` wrote), loads it with the project's own loader
(``ingest_event_landing``: parsing, keys, Arrow tables, dlt, COPY, insert-only on the delivery
id) into an empty database, then copies **the same rows** out of the raw tables and loads them
with a plain ``COPY ... FROM STDIN`` into empty copies of the same tables (same columns, same
primary key), the physical reference on this machine. Prints rows/s of both, the ratio, the
process's peak memory and the machine's load average. Usage:

    .venv/bin/python benchmarks/events_ingest.py --events 100000 1000000
    .venv/bin/python benchmarks/events_ingest.py --landing /path/to/landing

The synthetic events are the contract examples of every vendor kind
(``tests/fixtures/contracts``) repeated with fresh ids, keys and times, so each line is a
distinct delivery in the vendor's own shape.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from copy_reference import copy_reference  # beside this script (its folder is on sys.path)

from cis.bootstrap import bootstrap
from cis.db import Target, cursor, loader_target, start_embedded, stop_embedded
from cis.jobs.ingest_events import EVENT_DATASETS, ingest_event_landing

CONTRACTS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "contracts"
KIND_FILES = {
    "smartlead__webhook.jsonl": "smartlead/webhooks",
    "salesforge__webhook.jsonl": "salesforge/webhooks",
    "heyreach__webhook.jsonl": "linkedin/events",
    "twilio__sms.jsonl": "sms/events",
}
LINES_PER_FILE = 200_000


def _templates() -> list[tuple[str, dict]]:
    found = []
    for name, kind in KIND_FILES.items():
        for line in (CONTRACTS / name).read_text().splitlines():
            if line.strip():
                found.append((kind, json.loads(line)))
    return found


def _vary(body: dict, number: int) -> dict:
    """The template with this delivery's own ids and time (the rest of the body unchanged)."""
    varied = dict(body)
    stamp = (
        f"2026-{1 + number % 12:02d}-{1 + number % 28:02d}T{number % 24:02d}:{number % 60:02d}:07Z"
    )
    for key in ("stats_id", "correlation_id", "MessageSid", "event_timestamp", "timestamp"):
        if key in varied:
            varied[key] = stamp if key.endswith("timestamp") else f"{key}-{number}"
    if isinstance(varied.get("webhookInfo"), dict):
        varied["webhookInfo"] = {**varied["webhookInfo"], "eventTime": stamp}
    if isinstance(varied.get("contact"), dict):
        varied["contact"] = {**varied["contact"], "id": f"contact-{number}"}
    return varied


def write_landing(folder: Path, events: int) -> None:
    """``events`` lines over the vendor kinds, in files of at most LINES_PER_FILE lines."""
    templates = _templates()
    handles: dict[str, tuple[io.TextIOWrapper, int, int]] = {}
    for number in range(events):
        kind, body = templates[number % len(templates)]
        handle, lines, part = handles.get(kind, (None, 0, 0))
        if handle is None or lines >= LINES_PER_FILE:
            if handle is not None:
                handle.close()
            (folder / kind).mkdir(parents=True, exist_ok=True)
            part += 1
            handle = (folder / kind / f"bench-{part:04d}.jsonl").open("w")
            lines = 0
        handle.write(json.dumps(_vary(body, number)) + "\n")
        handles[kind] = (handle, lines + 1, part)
    for handle, _lines, _part in handles.values():
        handle.close()


def _event_tables(target: Target) -> list[tuple[str, str]]:
    names = {(d, k.table) for d, kinds in EVENT_DATASETS.items() for k in kinds}
    with cursor(target) as cur:
        cur.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE'"
        )
        return sorted(row for row in cur.fetchall() if row in names)


def measure(server: Target, landing: Path, work: Path, label: str) -> None:
    name = f"events_{label}"
    with cursor(server) as cur:
        cur.execute(f'drop database if exists "{name}" with (force)')
        cur.execute(f'create database "{name}"')
    target = replace(server, dbname=name)
    bootstrap(target)
    started = time.perf_counter()
    reports = ingest_event_landing(loader_target(target), landing, work / f"dlt-{name}")
    pipeline_s = time.perf_counter() - started
    stored = sum(r.stored for r in reports)
    read = sum(sum(r.counts.rows.values()) for r in reports)
    # Peak resident memory so far of this process and of the loader's worker processes (the
    # reference below holds a table's rows in memory to COPY them, so it is measured before).
    peak_mb = (
        max(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        )
        / 1024
    )
    copy_rows, copy_s = copy_reference(target, _event_tables(target))
    pipeline_rate, copy_rate = stored / pipeline_s, copy_rows / copy_s
    print(
        f"{label}: read {read:,} events, stored {stored:,} rows\n"
        f"  pipeline (ingest_event_landing): {pipeline_s:8.1f}s {pipeline_rate:10,.0f} rows/s\n"
        f"  plain COPY of the same rows:     {copy_s:8.1f}s {copy_rate:10,.0f} rows/s\n"
        f"  pipeline / COPY throughput: {pipeline_rate / copy_rate:.2f}   "
        f"peak memory of one pipeline process: {peak_mb:,.0f} MB   load average: "
        f"{os.getloadavg()[0]:.1f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--landing", type=Path, help="Load this folder instead of generating.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cis-events-bench-"))
    server = start_embedded(work / "pgdata", dbname="postgres")
    try:
        if args.landing:
            measure(server, args.landing, work, "landing")
            return
        for events in args.events:
            landing = work / f"landing-{events}"
            started = time.perf_counter()
            write_landing(landing, events)
            print(f"wrote {events:,} events in {time.perf_counter() - started:.0f}s", flush=True)
            measure(server, landing, work, str(events))
            shutil.rmtree(landing)
    finally:
        stop_embedded(work / "pgdata")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
