"""The Apollo landing load through the project's pipeline against a plain COPY of the same rows.

In one run, for each size (``--leads``): generates the landing folder of N leads (Apollo only),
loads it with the project's own loader (``load_apollo_landing``: reading, checks, record
identity, Arrow tables, dlt, COPY, the progress ledger) into an empty database, then copies
**the same rows** out of ``raw_apollo.people``, ``organizations`` and ``employment_history``
and loads them with a plain ``COPY ... FROM STDIN`` into empty copies of those tables, the
physical reference on this machine. Prints raw rows/s of both, the ratio, peak memory and the
load average. Usage:

    .venv/bin/python benchmarks/apollo_ingest.py --leads 100000 1000000
"""

from __future__ import annotations

import argparse
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
from cis.generate import generate_landing
from cis.jobs.ingest import RAW_TABLES, load_apollo_landing
from ingestion.apollo import DATASET, LoadCounts


def measure(server: Target, landing: Path, work: Path, label: str) -> None:
    name = f"apollo_{label}"
    with cursor(server) as cur:
        cur.execute(f'drop database if exists "{name}" with (force)')
        cur.execute(f'create database "{name}"')
    target = replace(server, dbname=name)
    bootstrap(target)
    counts = LoadCounts()
    started = time.perf_counter()
    load_apollo_landing(loader_target(target), landing, counts, pipelines_dir=work / name)
    pipeline_s = time.perf_counter() - started
    peak_mb = (
        max(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        )
        / 1024
    )
    with cursor(target) as cur:
        stored = 0
        for table in RAW_TABLES:
            cur.execute(f"select count(*) from {DATASET}.{table}")
            stored += cur.fetchone()[0]
    copy_rows, copy_s = copy_reference(target, [(DATASET, t) for t in RAW_TABLES])
    pipeline_rate, copy_rate = stored / pipeline_s, copy_rows / copy_s
    print(
        f"{label}: read {counts.people:,} person records ({counts.rejected:,} rejected), "
        f"stored {stored:,} raw rows\n"
        f"  pipeline (load_apollo_landing): {pipeline_s:8.1f}s {pipeline_rate:10,.0f} rows/s\n"
        f"  plain COPY of the same rows:    {copy_s:8.1f}s {copy_rate:10,.0f} rows/s\n"
        f"  pipeline / COPY throughput: {pipeline_rate / copy_rate:.2f}   "
        f"peak memory: {peak_mb:,.0f} MB   load average: {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cis-apollo-bench-"))
    server = start_embedded(work / "pgdata", dbname="postgres")
    try:
        for leads in args.leads:
            landing = work / f"landing-{leads}"
            started = time.perf_counter()
            generate_landing(landing, leads, seed=1)
            print(f"generated {leads:,} leads in {time.perf_counter() - started:.0f}s", flush=True)
            measure(server, landing, work, str(leads))
            shutil.rmtree(landing)
    finally:
        stop_embedded(work / "pgdata")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
