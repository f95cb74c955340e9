"""Vendor-event generation rate and peak memory (``cis.generate.events``).

Writes ``--events`` event lines (re-enrolling the ``--leads`` people in later waves when one
pass is not enough) into a temporary folder and prints events/s, bytes written, the peak
resident memory of the process (``ru_maxrss``) and, with ``--trace``, the peak of Python
allocations (tracemalloc; slows generation several times). Usage:

    .venv/bin/python benchmarks/events_generate.py --events 1000000 --leads 100000
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
import tracemalloc
from pathlib import Path

from cis.generate import DEFAULT_START
from cis.generate.events import generate_events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--trace", action="store_true", help="also measure with tracemalloc")
    parser.add_argument("--keep", type=Path, default=None, help="write here and keep the files")
    args = parser.parse_args()
    out = args.keep or Path(tempfile.mkdtemp(prefix="cis-events-"))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if args.trace:
        tracemalloc.start()
    started = time.perf_counter()
    summary = generate_events(out, args.leads, args.seed, start=DEFAULT_START, events=args.events)
    seconds = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1] if args.trace else None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    size = sum(p.stat().st_size for p in out.rglob("*.jsonl"))
    print(f"events        {summary.total_events:,} ({summary.enrollments:,} enrollments)")
    print(f"seconds       {seconds:.1f} ({summary.total_events / seconds:,.0f} events/s)")
    print(f"bytes         {size / 1e9:.2f} GB in {len(summary.files)} files")
    print(f"peak RSS      {peak / 1024:.0f} MiB (after imports {before / 1024:.0f} MiB)")
    if traced is not None:
        print(f"peak traced   {traced / 2**20:.1f} MiB")
    for kind, count in sorted(summary.events.items()):
        print(f"  {kind:24} {count:,}")
    if args.keep is None:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
