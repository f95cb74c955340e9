"""Apollo landing load rate, and dbt build time, on the embedded PostgreSQL.

Prints rows/s for the project's dlt settings against a reference run with dlt's defaults
(gzip on, one normalize worker), in the same process on the same generated data, and the
time of one `dbt build` on the result. Usage:

    .venv/bin/python benchmarks/ingest_speed.py --leads 10000
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from cis.bootstrap import bootstrap
from cis.db import Target, ensure_database, start_embedded, stop_embedded, transformer_target
from cis.generate import generate_landing
from cis.jobs.ingest import ingest_landing
from cis.transform import run_dbt
from ingestion.pipeline import SPEED_DEFAULTS

REFERENCE = {"DATA_WRITER__DISABLE_COMPRESSION": "false", "NORMALIZE__WORKERS": "1"}


def load(server: Target, name: str, landing: Path, work: Path, env: dict[str, str]) -> tuple:
    for key in SPEED_DEFAULTS:
        os.environ.pop(key, None)
    os.environ.update(env)
    ensure_database(server, name)
    target = replace(server, dbname=name)
    bootstrap(target)
    report = ingest_landing(target, landing, pipelines_dir=work / name)
    return target, report.counts.people / report.seconds, report.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--no-dbt", action="store_true", help="skip the dbt build timing")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cis-bench-"))
    server = start_embedded(work / "pgdata", dbname="postgres")
    try:
        run(server, work, args.leads, with_dbt=not args.no_dbt)
    finally:
        stop_embedded(work / "pgdata")
        shutil.rmtree(work, ignore_errors=True)


def run(server: Target, work: Path, leads: int, with_dbt: bool) -> None:
    landing = work / "landing"
    generated = generate_landing(landing, leads, seed=1)
    print(f"{generated.people_lines:,} person lines for {leads:,} people")

    _, reference_rate, reference_s = load(server, "bench_reference", landing, work, REFERENCE)
    target, rate, seconds = load(server, "bench_project", landing, work, {})
    print(f"reference (dlt defaults): {reference_rate:,.0f} rows/s ({reference_s:.1f}s)")
    print(f"project settings:         {rate:,.0f} rows/s ({seconds:.1f}s)")
    print(f"ratio: {rate / reference_rate:.2f}x")
    if with_dbt:
        started = time.perf_counter()
        run_dbt(["build", "--quiet"], transformer_target(target), work_dir=work / "dbt")
        print(f"dbt build: {time.perf_counter() - started:.1f}s for {leads:,} people")


if __name__ == "__main__":
    main()
