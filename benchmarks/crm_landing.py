"""CRM records through the project's loader against a plain COPY of the same rows.

In one run, for each size (``--rows``): writes a landing folder of N CRM records, half HubSpot
(the contracts' deals, meetings and contacts with fresh ids, ``hubspot/*/*.jsonl``) and half
standalone-CRM CSV rows (``crm/meetings*.csv``, ``crm/deals*.csv``, ``crm/stage_changes*.csv``,
with times, numbers and yes/no cells to check), loads it with ``ingest_event_landing`` into an
empty database and then the same rows with a plain ``COPY`` (``events_ingest.measure``). Usage:

    .venv/bin/python benchmarks/crm_landing.py --rows 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from events_ingest import measure  # beside this script (its folder is on sys.path)

from cis.db import start_embedded, stop_embedded

CONTRACTS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "contracts"
HUBSPOT = {
    "hubspot__deal.jsonl": "hubspot/deals",
    "hubspot__meeting.jsonl": "hubspot/meetings",
    "hubspot__contact.jsonl": "hubspot/contacts",
}
ROWS_PER_FILE = 200_000
MEETING_HEADER = (
    "meeting_id,scheduled_for,contact_email,booked_at,outcome,confirmed,deal_id,notes\n"
)
DEAL_HEADER = "deal_id,stage,created_at,status,amount,currency,updated_at\n"
STAGE_HEADER = "deal_id,stage,changed_at\n"


def _templates() -> list[tuple[str, dict]]:
    return [
        (kind, json.loads(line))
        for name, kind in HUBSPOT.items()
        for line in (CONTRACTS / name).read_text().splitlines()
        if line.strip()
    ]


def _csv_row(kind: str, n: int) -> str:
    day = f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}"
    if kind == "meetings":
        notes = '"asked for pricing, then\nbooked"' if n % 10 == 0 else "intro"
        return f"m-{n},{day} 15:00,lead{n}@example.com,{day},completed,yes,d-{n},{notes}\n"
    if kind == "deals":
        return f'd-{n},Proposal,{day},open,"{n % 90 + 5},500.00",EUR,{day} 12:00\n'
    return f"d-{n},Proposal,{day} 10:{n % 60:02d}\n"


def write_landing(folder: Path, rows: int) -> None:
    templates = _templates()
    for part in range(0, rows // 2, ROWS_PER_FILE):
        chunk = range(part, min(part + ROWS_PER_FILE, rows // 2))
        files: dict[str, list[str]] = {}
        for n in chunk:
            kind, body = templates[n % len(templates)]
            varied = {**body, "id": str(10**12 + n)}
            varied["properties"] = {**body.get("properties", {}), "hs_object_id": varied["id"]}
            files.setdefault(kind, []).append(json.dumps(varied))
        for kind, lines in files.items():
            (folder / kind).mkdir(parents=True, exist_ok=True)
            (folder / kind / f"bench-{part:09d}.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "crm").mkdir(parents=True, exist_ok=True)
    headers = {"meetings": MEETING_HEADER, "deals": DEAL_HEADER, "stage_changes": STAGE_HEADER}
    for part in range(rows // 2, rows, ROWS_PER_FILE):
        chunk = range(part, min(part + ROWS_PER_FILE, rows))
        for kind, header in headers.items():
            rows_of_kind = [_csv_row(kind, n) for n in chunk if n % 3 == list(headers).index(kind)]
            path = folder / "crm" / f"{kind}-{part:09d}.csv"
            path.write_text(header + "".join(rows_of_kind))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cis-crm-bench-"))
    server = start_embedded(work / "pgdata", dbname="postgres")
    try:
        for rows in args.rows:
            landing = work / f"landing-{rows}"
            started = time.perf_counter()
            write_landing(landing, rows)
            print(f"wrote {rows:,} CRM records in {time.perf_counter() - started:.0f}s", flush=True)
            measure(server, landing, work, f"crm_{rows}")
            shutil.rmtree(landing)
    finally:
        stop_embedded(work / "pgdata")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
