#!/usr/bin/env python3
"""A bounded load test of `provcheck repo serve` (the Soft Binding Resolution API).

    python bench/resolution_load.py                    # 20,000 entries, 8 clients
    python bench/resolution_load.py --entries 100000 --clients 16 --requests 2000

A SQLite repository of synthetic fingerprints (bench/fingerprint_scale.py) is served by a
real `provcheck repo serve` process on 127.0.0.1; a fixed number of `/matches/byBinding`
queries (transformed copies of stored entries, as a platform's re-uploads look) is sent
by concurrent client threads, then a burst past the per-client rate limit. Loopback only,
bounded in count and time; the server is stopped at the end. Prints p50/p95 latency,
throughput, recall, and how the server answers past its rate limit (429s).
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from fingerprint_scale import transformed  # noqa: E402
from repository_bench import batches, pct  # noqa: E402

from provenance import fingerprint as fp_mod  # noqa: E402
from provenance.repository import open_repository  # noqa: E402

_SERVE = (sys.executable, "-m", "provcheck", "repo", "serve", "--repository")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(db: Path, rate: int) -> tuple[subprocess.Popen[bytes], str]:
    """A `provcheck repo serve` process on a free loopback port, answering; its URL."""
    port = _port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [*_SERVE, str(db), "--port", str(port), "--rate", str(rate)], stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/openapi.json", timeout=2).read()
            return server, base
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise SystemExit("the server did not start") from None
            time.sleep(0.2)


def _get(url: str) -> tuple[int, bytes, float]:
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            body = r.read()
            return r.status, body, time.perf_counter() - t
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=20_000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=800)
    ap.add_argument("--burst", type=int, default=300, help="requests past the rate limit")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="provcheck-sbr-load-"))
    db = work / "repo.sqlite3"
    rng = random.Random(args.seed)
    ids: dict[int, str] = {}
    queries: list[tuple[int, str]] = []
    t0 = time.perf_counter()
    with open_repository(str(db)) as repo:
        for start, fps in batches(args.entries, args.seed):
            items = [(f"manifest {start + i}".encode(), fp, {}, None) for i, fp in enumerate(fps)]
            for i, entry in enumerate(repo.add_many(items)):
                if rng.random() < args.requests / args.entries:
                    ids[start + i] = entry.id
                    value = fp_mod.soft_binding_assertion(transformed(fps[i], rng))
                    queries.append((start + i, value["data"]["blocks"][0]["value"]))
    print(f"loaded {args.entries:,} entries in {time.perf_counter() - t0:.1f} s", flush=True)
    queries = (queries * (args.requests // max(1, len(queries)) + 1))[: args.requests]

    rate = 10 * args.requests  # per minute: not reached by the measured phase
    server, base = _serve(db, rate)
    try:
        latencies: list[float] = []
        found = 0
        lock = threading.Lock()
        todo = list(queries)

        def client() -> None:
            nonlocal found
            while True:
                with lock:
                    if not todo:
                        return
                    n, value = todo.pop()
                q = urllib.parse.urlencode({"alg": fp_mod.ALGORITHM, "value": value})
                status, body, dt = _get(f"{base}/matches/byBinding?{q}")
                hit = status == 200 and any(
                    m["manifestId"] == ids[n] for m in json.loads(body)["matches"]
                )
                with lock:
                    latencies.append(dt)
                    found += hit

        t = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - t
        ms = [x * 1000 for x in latencies]
        print(
            f"byBinding at {args.entries:,} entries, {args.clients} clients, "
            f"{len(ms)} requests: p50 {pct(ms, 50):.1f} ms, p95 {pct(ms, 95):.1f} ms, "
            f"mean {statistics.mean(ms):.1f} ms, {len(ms) / wall:.1f} requests/s, "
            f"recall {found}/{len(ms)}"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    # Past the limit: a server allowing 60 requests a minute per client, asked `burst` times.
    server, base = _serve(db, 60)
    try:
        codes: dict[int, int] = {}
        t = time.perf_counter()
        for _ in range(args.burst):
            status = _get(base + "/services/supportedAlgorithms")[0]
            codes[status] = codes.get(status, 0) + 1
        print(
            f"burst of {args.burst} requests in {time.perf_counter() - t:.1f} s against "
            f"--rate 60: {dict(sorted(codes.items()))} (status: count)"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
