"""Webhook receiver throughput: acknowledged, fsync'ed deliveries per second.

Starts `cis serve` in a subprocess for each mode, drives it from N concurrent keep-alive
clients (processes x threads, http.client) for a fixed number of deliveries, and prints the
acknowledged deliveries/s with group commit against two references measured in the same run:
the same server with one fsync per delivery (`--fsync each`) and with no fsync at all
(`--fsync off`, not durable: the ceiling the HTTP stack allows). Usage:

    .venv/bin/python benchmarks/receiver_throughput.py --deliveries 20000 --clients 64
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(landing: Path, port: int, fsync: str) -> subprocess.Popen:
    env = dict(os.environ, SOURCES__HEYREACH__WEBHOOK_TOKEN=TOKEN)
    command = [sys.executable, "-m", "cis.cli", "serve", "--port", str(port)]
    command += ["--dir", str(landing), "--fsync", fsync]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the receiver did not start")


def _client_process(port: int, threads: int, per_thread: int, start: float, out) -> None:
    """One process of ``threads`` keep-alive clients; sends its count of 2xx to ``out``."""
    acked = [0] * threads
    padding = "x" * 600  # a delivery of about 1 KiB, like a HeyReach message event

    def run(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/json", "X-CIS-Token": TOKEN}
        for n in range(per_thread):
            body = json.dumps(
                {"correlation_id": f"{os.getpid()}-{index}-{n}", "event_type": "message_sent"}
                | {"lead": {"id": str(n), "note": padding}}
            )
            connection.request("POST", "/webhooks/heyreach", body, headers)
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                acked[index] += 1

    while time.time() < start:
        time.sleep(0.001)
    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.send(sum(acked))


def drive(port: int, deliveries: int, clients: int, processes: int) -> tuple[int, float]:
    """Post ``deliveries`` from ``clients`` connections; (acknowledged, seconds)."""
    threads = max(1, clients // processes)
    per_thread = max(1, deliveries // (threads * processes))
    start = time.time() + 0.5
    pipes, children = [], []
    for _ in range(processes):
        ours, theirs = multiprocessing.Pipe(duplex=False)
        child = multiprocessing.Process(
            target=_client_process, args=(port, threads, per_thread, start, theirs)
        )
        child.start()
        pipes.append(ours)
        children.append(child)
    acked = sum(p.recv() for p in pipes)
    seconds = time.time() - start
    for child in children:
        child.join()
    return acked, seconds


def measure(fsync: str, deliveries: int, clients: int, processes: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"cis-receiver-{fsync}-", dir=ROOT / ".cis"))
    port = _free_port()
    server = start_server(work / "landing", port, fsync)
    try:
        acked, seconds = drive(port, deliveries, clients, processes)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/stats")
        stats = json.loads(connection.getresponse().read())["vendors"]["heyreach"]["writer"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    return {"acked": acked, "seconds": seconds, "rate": acked / seconds, "writer": stats}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=64, help="concurrent connections")
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument("--reference-deliveries", type=int, default=3_000)
    args = parser.parse_args()
    (ROOT / ".cis").mkdir(exist_ok=True)
    print(f"cpus {os.cpu_count()}, load average before {os.getloadavg()}")
    print(f"{args.clients} keep-alive clients in {args.processes} processes; landing on {ROOT}")
    runs = {
        "group commit (default)": measure("group", args.deliveries, args.clients, args.processes),
        "fsync per delivery (reference)": measure(
            "each", args.reference_deliveries, args.clients, args.processes
        ),
        "no fsync (reference, not durable)": measure(
            "off", args.deliveries, args.clients, args.processes
        ),
    }
    for name, run in runs.items():
        writer = run["writer"]
        print(
            f"{name:36} {run['acked']:>7,} acked in {run['seconds']:6.2f}s = "
            f"{run['rate']:8,.0f} deliveries/s  (fsyncs {writer['fsyncs']:,}, "
            f"mean batch {writer['lines'] / max(1, writer['batches']):.1f}, "
            f"largest {writer['largest_batch']})"
        )
    group = runs["group commit (default)"]["rate"]
    print(
        f"group commit / fsync per delivery: {group / runs['fsync per delivery (reference)']['rate']:.1f}x"
    )
    print(
        f"group commit / no fsync:           {group / runs['no fsync (reference, not durable)']['rate']:.2f}x"
    )
    print(f"load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
