"""The engagement and content marts: a full build against the incremental build after 1% more
events, and the raw load of the same events as the yardstick.

In one run: ``cis generate`` writes a landing folder of ``--leads`` people and ``--events``
vendor events; a seeded share of the event lines (``--later``, default 1%) is held back, with
copies of already-held lines (duplicate deliveries) and lines the generator wrote as late
(events only: campaign and sequence snapshots all arrive first). The
rest is loaded (``ingest landing``: the raw load time), the whole project is built once, and
then the engagement selection (event staging, ``intermediate/engagement``, ``content`` and
``threads``, ``marts/engagement``, ``marts/content``, ``marts/threads``) is rebuilt from
scratch (``--full-refresh``: the full build). The held-back lines are loaded and the same selection is built again without ``--full-refresh`` (incremental
where a model is incremental, a rebuild where it is a table). The marts are fingerprinted,
rebuilt from scratch once more and compared: the second build must equal a full rebuild.
Before that, the selection is built once more with nothing new (the floor any build pays).
Prints the times, the ratios, the slowest models of each build and where its time went. Usage:

    .venv/bin/python benchmarks/engagement_build.py --leads 100000 --events 1000000
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import tempfile
import time
from pathlib import Path

from cis.bootstrap import bootstrap
from cis.clients import load_clients
from cis.db import Target, cursor, start_embedded, stop_embedded, transformer_target
from cis.generate import generate_landing
from cis.generate.events import DEFAULT_CLIENTS
from cis.generate.late_events import MARTS, fingerprints, hold_back, hold_back_newest
from cis.jobs.analyze_replies import analyze_replies
from cis.jobs.clients_sync import sync_clients
from cis.jobs.ingest import ingest_landing
from cis.transform import run_dbt

SELECTION = [
    "path:dbt_project/models/staging/events",
    "path:dbt_project/models/intermediate/engagement",
    "path:dbt_project/models/intermediate/content",
    "path:dbt_project/models/marts/engagement",
    "path:dbt_project/models/marts/content",
    "path:dbt_project/models/intermediate/threads",
    "path:dbt_project/models/marts/threads",
]


def copy_seconds(target: Target) -> float:
    """The physical reference for the analyzer: a plain COPY of the rows it reads, out of the
    database and into a table again."""
    buffer = io.StringIO()
    started = time.perf_counter()
    with cursor(target) as cur:
        cur.copy_expert(
            "copy (select message_key, contact_kind, contact_key, body_hash, subject, body_text,"
            " body_html from intermediate.int_inbound_messages"
            " where body_text is not null or body_html is not null) to stdout",
            buffer,
        )
        buffer.seek(0)
        cur.execute(
            "create temporary table copied (message_key text, contact_kind text, contact_key text,"
            " body_hash text, subject text, body_text text, body_html text)"
        )
        cur.copy_expert("copy copied from stdin", buffer)
    return time.perf_counter() - started


def measure_analyzer(target: Target) -> None:
    """`cis replies analyze` over every reply, against a COPY of the same rows; then again with
    nothing new (what an incremental run costs when no reply came)."""
    started = time.perf_counter()
    first = analyze_replies(target)
    analyze_s = time.perf_counter() - started
    reference_s = copy_seconds(target)
    started = time.perf_counter()
    again = analyze_replies(target)
    again_s = time.perf_counter() - started
    print(
        f"reply analyzer: {first.analysed:,} replies in {analyze_s:.1f}s"
        f" ({first.analysed / max(analyze_s, 1e-9):,.0f}/s); COPY of the same rows {reference_s:.2f}s"
        f" (analyzer / COPY: {analyze_s / max(reference_s, 1e-9):.0f}); a run with nothing new:"
        f" {again.analysed} replies in {again_s:.2f}s",
        flush=True,
    )


def build(target: Target, work: Path, *options: str) -> tuple[float, list[tuple[float, str]]]:
    """The selection built; its wall time and its slowest models. Also prints where the time
    went: dbt before its first model (start-up, parse), and the models' time per schema."""
    started = time.perf_counter()
    run_dbt(
        ["run", "--quiet", "--select", *SELECTION, *options],
        transformer_target(target),
        work_dir=work,
    )
    took = time.perf_counter() - started
    run = json.loads((work / "target" / "run_results.json").read_text())
    results = run["results"]
    slowest = sorted(
        ((round(r["execution_time"], 1), r["unique_id"].rsplit(".", 1)[-1]) for r in results),
        reverse=True,
    )
    by_schema: dict[str, float] = {}
    for r in results:
        schema = (r.get("relation_name") or "..").split(".")[1].strip('"')
        by_schema[schema] = by_schema.get(schema, 0.0) + r["execution_time"]
    print(
        f"  {len(results)} models; dbt outside the run: {took - run['elapsed_time']:.1f}s;"
        f" model seconds by schema: { {k: round(v, 1) for k, v in sorted(by_schema.items())} }",
        flush=True,
    )
    return took, slowest[:6]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--later", type=float, default=0.01, help="share held back")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--arrival",
        choices=("newest", "random"),
        default="newest",
        help="hold back the lines that arrived last (the next deliveries), or a random share",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cis-engagement-bench-"))
    server = start_embedded(work / "pgdata", dbname="postgres")
    try:
        target = server.__class__(**{**server.__dict__, "dbname": "bench"})
        with cursor(server) as cur:
            cur.execute('create database "bench"')
        bootstrap(target)
        sync_clients(target, load_clients(DEFAULT_CLIENTS))
        landing, later = work / "landing", work / "later"
        started = time.perf_counter()
        generate_landing(landing, args.leads, seed=args.seed, events=True, event_count=args.events)
        print(f"generated in {time.perf_counter() - started:.0f}s", flush=True)
        if args.arrival == "newest":
            held = hold_back_newest(landing, later, args.later)
        else:
            held = hold_back(landing, later, args.later, args.seed, snapshots=False)
        started = time.perf_counter()
        report = ingest_landing(target, landing, pipelines_dir=work / "dlt")
        load_s = time.perf_counter() - started
        print(f"raw load (Apollo and events): {load_s:.1f}s", flush=True)
        print(f"  {report}" if len(str(report)) < 400 else "", flush=True)
        run_dbt(["build", "--quiet"], transformer_target(target), work_dir=work / "dbt")
        measure_analyzer(target)
        full_s, full_slowest = build(target, work / "dbt", "--full-refresh")
        with cursor(target) as cur:
            cur.execute("select count(*) from engagement.fct_email_events")
            events = cur.fetchone()[0]
        print(f"full build of the engagement selection: {full_s:.1f}s ({events:,} email events)")
        print(f"  slowest: {full_slowest}", flush=True)
        ingest_landing(target, later, pipelines_dir=work / "dlt")
        inc_s, inc_slowest = build(target, work / "dbt")
        print(f"incremental build after {held:,} more lines: {inc_s:.1f}s")
        with cursor(target) as cur:
            cur.execute("select is_full from intermediate.int_engagement_refresh")
            is_full = cur.fetchone()[0]
            cur.execute(
                "select scope_kind, count(*) from intermediate.int_engagement_scope group by 1"
            )
            scope = dict(cur.fetchall())
        print(f"  recomputed: {'everyone' if is_full else scope}")
        print(f"  slowest: {inc_slowest}")
        print(
            f"  incremental / full: {inc_s / full_s:.3f}   full build / raw load: "
            f"{full_s / load_s:.2f}",
            flush=True,
        )
        after_increment = fingerprints(target)
        # The floor: the same build with nothing new to read (what dbt and the scope checks cost).
        idle_s, idle_slowest = build(target, work / "dbt")
        print(f"incremental build with nothing new: {idle_s:.1f}s (/ full: {idle_s / full_s:.3f})")
        print(f"  slowest: {idle_slowest}", flush=True)
        build(target, work / "dbt", "--full-refresh")
        rebuilt = fingerprints(target)
        for table in MARTS:
            same = after_increment[table] == rebuilt[table]
            print(f"  {table}: {rebuilt[table][0]:,} rows, incremental == full rebuild: {same}")
    finally:
        stop_embedded(work / "pgdata")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
