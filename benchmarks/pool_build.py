"""`dbt build` (what `cis transform` runs) at two pool sizes: does it grow linearly?

For each size (``--sizes``, leads) it generates a landing folder (or reuses the one a previous run
left in ``--cache``), loads it with the project's own loader (``ingest_landing``, dlt) into a
database of its own on an embedded PostgreSQL, clones that database (``create database …
template``) into a fresh one, and times ``dbt build`` there. Per size it prints the build
seconds, the rows of ``raw_apollo.people`` and ``pool.dim_leads``, the slowest nodes (dbt's
``run_results.json``) and, as the physical reference measured in the same run on the same
database, the time of a plain ``create table … as select * from raw_apollo.people``. Last, the
growth of both from the smallest to the largest size: a linear build grows like the reference
(about 10x from 100k to 1M leads), a quadratic one far faster. Usage:

    .venv/bin/python benchmarks/pool_build.py                               # 100k and 1M
    .venv/bin/python benchmarks/pool_build.py --sizes 10000 100000
    .venv/bin/python benchmarks/pool_build.py --server-dir /tmp/pool-bench  # keep loaded data
    .venv/bin/python benchmarks/pool_build.py --server-dir /tmp/pool-bench --load-only

Generating 1M leads takes about 5 minutes and loading them through dlt about 12 (more on a busy
machine). ``--cache`` (default ``$TMPDIR/cis-pool-build``) keeps the landing folders and the
last build's dbt ``target/`` and ``logs/`` per size (``dbt-<leads>/``); ``--server-dir`` keeps
the server and its loaded raw databases, so a later run only clones and builds (``--load-only``
prepares them). The machine's load average is printed with each build: the reference copy is
measured just before the build so that both see the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from cis.bootstrap import bootstrap
from cis.clients import load_clients
from cis.db import (
    Target,
    cursor,
    embedded_status,
    project_root,
    start_embedded,
    stop_embedded,
    transformer_target,
)
from cis.generate import generate_landing
from cis.jobs.clients_sync import sync_clients
from cis.jobs.ingest import ingest_landing
from cis.transform import run_dbt

DONE = ".generated"


@dataclass
class SizeResult:
    leads: int
    people_rows: int
    dim_leads_rows: int
    build_s: float
    reference_s: float
    slowest: list[tuple[str, str, float]]
    load_note: str
    load_average: float


def landing_folder(cache: Path, leads: int, seed: int) -> Path:
    """The generated landing folder for ``leads`` (generated once, then reused)."""
    folder = cache / f"landing-{leads}-seed{seed}"
    if not (folder / DONE).exists():
        started = time.perf_counter()
        shutil.rmtree(folder, ignore_errors=True)
        generate_landing(folder, leads, seed=seed)
        (folder / DONE).write_text(f"{time.perf_counter() - started:.1f}\n")
        print(f"  generated {leads:,} leads in {time.perf_counter() - started:.0f}s", flush=True)
    return folder


def database_exists(server: Target, name: str) -> bool:
    with cursor(server) as cur:
        cur.execute("select 1 from pg_database where datname = %s", (name,))
        return cur.fetchone() is not None


def loaded_database(server: Target, cache: Path, work: Path, leads: int, seed: int) -> tuple:
    """A database with the landing folder loaded by ``ingest_landing`` (reused when present).

    The load is committed by setting the database's comment last: a half-loaded database left
    by an interrupted run is loaded again.
    """
    name = f"raw_{leads}_seed{seed}"
    if database_exists(server, name):
        with cursor(replace(server, dbname=name)) as cur:
            cur.execute(
                "select shobj_description(oid, 'pg_database') from pg_database "
                "where datname = current_database()"
            )
            comment = cur.fetchone()[0]
        if comment:
            return name, f"raw data reused from an earlier run ({comment})"
    landing = landing_folder(cache, leads, seed)
    with cursor(server) as cur:
        cur.execute(f'drop database if exists "{name}" with (force)')
        cur.execute(f'create database "{name}"')
    target = replace(server, dbname=name)
    bootstrap(target)
    report = ingest_landing(target, landing, pipelines_dir=work / f"dlt-{name}")
    note = f"loaded by ingest_landing (dlt) in {report.seconds:.0f}s"
    with cursor(server) as cur:
        cur.execute(f"comment on database \"{name}\" is '{note}'")
    return name, note


def fresh_clone(server: Target, template: str, name: str) -> Target:
    with cursor(server) as cur:
        cur.execute(f'drop database if exists "{name}" with (force)')
        cur.execute(f'create database "{name}" template "{template}"')
    target = replace(server, dbname=name)
    bootstrap(target)  # database-level grants are not copied from a template
    return target


def timed(target: Target, sql: str) -> float:
    with cursor(target) as cur:
        started = time.perf_counter()
        cur.execute(sql)
        return time.perf_counter() - started


def count(target: Target, relation: str) -> int:
    with cursor(target) as cur:
        cur.execute(f"select count(*) from {relation}")
        return int(cur.fetchone()[0])


def slowest_nodes(run_results: Path, top: int) -> list[tuple[str, str, float]]:
    results = json.loads(run_results.read_text())["results"]
    nodes = [
        (r["unique_id"].split(".")[0], r["unique_id"].split(".", 2)[-1], r["execution_time"])
        for r in results
    ]
    return sorted(nodes, key=lambda node: node[2], reverse=True)[:top]


def measure(server: Target, cache: Path, work: Path, leads: int, seed: int, top: int) -> SizeResult:
    print(f"{leads:,} leads", flush=True)
    raw, note = loaded_database(server, cache, work, leads, seed)
    target = fresh_clone(server, raw, f"build_{leads}")
    sync_clients(target, load_clients(project_root() / "config" / "clients.yml"))
    timed(target, "vacuum analyze")  # a freshly loaded database, as after autovacuum
    reference_s = timed(
        target, "create table public.reference_copy as select * from raw_apollo.people"
    )
    timed(target, "drop table public.reference_copy")
    dbt_dir = cache / f"dbt-{leads}"  # target/ and logs/ of the last build stay for reading
    load_average = os.getloadavg()[0]
    started = time.perf_counter()
    run_dbt(["build", "--quiet"], transformer_target(target), work_dir=dbt_dir)
    build_s = time.perf_counter() - started
    result = SizeResult(
        leads=leads,
        people_rows=count(target, "raw_apollo.people"),
        dim_leads_rows=count(target, "pool.dim_leads"),
        build_s=build_s,
        reference_s=reference_s,
        slowest=slowest_nodes(dbt_dir / "target" / "run_results.json", top),
        load_note=note,
        load_average=load_average,
    )
    report(result)
    return result


def report(result: SizeResult) -> None:
    print(f"  raw data: {result.load_note}")
    print(
        f"  machine: {os.cpu_count()} cores, load average {result.load_average:.1f} when the "
        "build started (other work on the machine slows both the build and the reference)"
    )
    print(
        f"  raw_apollo.people rows: {result.people_rows:,}   pool.dim_leads rows: "
        f"{result.dim_leads_rows:,}"
    )
    print(
        f"  dbt build: {result.build_s:.1f}s   reference copy of raw_apollo.people: "
        f"{result.reference_s:.2f}s   build/reference: {result.build_s / result.reference_s:.0f}x"
    )
    print(f"  {len(result.slowest)} slowest nodes:")
    for kind, name, seconds in result.slowest:
        print(f"    {seconds:8.1f}s  {kind:<10} {name}")
    print(flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--top", type=int, default=10, help="slowest nodes to list")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "cis-pool-build",
        help="keeps the generated landing folders between runs",
    )
    parser.add_argument(
        "--server-dir", type=Path, help="keep the embedded server (and the loaded raw data) here"
    )
    parser.add_argument(
        "--load-only", action="store_true", help="generate and load (with --server-dir), no build"
    )
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="cis-pool-build-"))
    pgdata = (args.server_dir or work) / "pgdata"
    was_running = bool(embedded_status(pgdata)["running"])  # another run's server stays up
    server = start_embedded(pgdata, dbname="postgres")
    try:
        if args.load_only:
            for leads in sorted(args.sizes):
                print(
                    f"{leads:,} leads: {loaded_database(server, args.cache, work, leads, args.seed)[1]}"
                )
            return
        results = [
            measure(server, args.cache, work, leads, args.seed, args.top)
            for leads in sorted(args.sizes)
        ]
    finally:
        if not was_running:
            stop_embedded(pgdata)
        shutil.rmtree(work, ignore_errors=True)
    if len(results) > 1:
        small, large = results[0], results[-1]
        print(
            f"growth {small.leads:,} -> {large.leads:,} leads "
            f"(people rows x{large.people_rows / small.people_rows:.1f}):"
        )
        print(
            f"  dbt build x{large.build_s / small.build_s:.1f}   reference copy "
            f"x{large.reference_s / small.reference_s:.1f}   (linear: both about "
            f"x{large.people_rows / small.people_rows:.0f})"
        )


if __name__ == "__main__":
    main()
