#!/usr/bin/env python3
"""Manifest repository at scale, SQLite against PostgreSQL: lookup latency and
registration throughput.

    python bench/repository_bench.py                          # 100,000 entries, both backends
    python bench/repository_bench.py --entries 100000 1000000 # and a million
    python bench/repository_bench.py --backends postgresql --postgres-url postgresql://...

Without ``--postgres-url`` a throw-away PostgreSQL server is started as the tests do
(tests/pg_server.py; Debian's ``postgresql``, ``.ci/install-postgres``) with durable
defaults (fsync on), so commit costs are real. Per backend and size it measures:

- bulk registration: ``add_many`` in batches (one transaction each), entries/s;
- single registration: ``add`` one entry per transaction (how a signing process
  registers), entries/s, from one process and from ``--writers`` processes at once;
- lookup: ``search`` of transformed copies of stored entries (noise and trims, as a
  platform makes them) and of unrelated clips, p50/p95 in ms, and the recall;
- the size on disk.

Fingerprints are synthetic, shaped like real ones (bench/fingerprint_scale.py), and
generated outside the timed sections.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import random
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from fingerprint_scale import random_walk, transformed  # noqa: E402

from provenance.fingerprint import VideoFingerprint  # noqa: E402
from provenance.repository import ManifestStore, open_repository  # noqa: E402

BATCH = 1000


def batches(entries: int, seed: int) -> Iterator[tuple[int, list[VideoFingerprint]]]:
    """The same synthetic entries for every backend: batch k comes from seed (seed, k)."""
    for k, start in enumerate(range(0, entries, BATCH)):
        rng = random.Random(f"{seed}-{k}")
        yield start, [random_walk(rng) for _ in range(min(BATCH, entries - start))]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _writer(spec: str, worker: int, count: int, go: object) -> None:
    rng = random.Random(f"writer-{worker}")
    fps = [random_walk(rng) for _ in range(count)]
    go.wait(120)  # type: ignore[attr-defined]
    with open_repository(spec) as repo:
        for i, fp in enumerate(fps):
            repo.add(f"writer {worker} manifest {i}".encode(), fp, {"w": worker, "i": i})


def single_adds(spec: str, writers: int, count: int, tag: int) -> float:
    """Entries/s registered one per transaction by ``writers`` processes at once."""
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    procs = [
        ctx.Process(target=_writer, args=(spec, tag * 100 + w, count, go)) for w in range(writers)
    ]
    for p in procs:
        p.start()
    time.sleep(3)  # let them import and generate before the start signal
    t = time.perf_counter()
    go.set()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t
    if any(p.exitcode != 0 for p in procs):
        raise SystemExit("a writer process failed")
    return writers * count / elapsed


def size_mb(repo: ManifestStore, spec: str) -> float:
    if spec.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(spec) as conn:
            row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
            return float(row[0]) / 1e6 if row else 0.0
    path = Path(spec)
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6


def run(spec: str, backend: str, entries: int, args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    targets = sorted(rng.sample(range(entries), args.queries // 2))
    wanted = set(targets)
    kept: dict[int, VideoFingerprint] = {}
    with open_repository(spec) as repo:
        load_s = 0.0
        for start, fps in batches(entries, args.seed):
            items = [
                (f"manifest {start + i}".encode(), fp, {"n": start + i}, None)
                for i, fp in enumerate(fps)
            ]
            kept.update((start + i, fp) for i, fp in enumerate(fps) if start + i in wanted)
            t = time.perf_counter()
            repo.add_many(items)
            load_s += time.perf_counter() - t
            if (start // BATCH) % 100 == 99:
                print(f"  {backend}: {start + len(fps):,} loaded", file=sys.stderr, flush=True)
        assert len(repo) == entries
        bulk = entries / load_s
        if spec.startswith("postgresql://"):
            # What autovacuum does soon after a bulk load: statistics and the visibility
            # map (index-only scans). Not counted in the load time.
            import psycopg

            with psycopg.connect(spec, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")

        queries = [(transformed(kept[i], rng), i) for i in targets]
        queries += [(random_walk(rng), None) for _ in range(args.queries - len(queries))]
        for q, _ in queries[:10]:  # warm the caches as a long-running service would be
            repo.search(q, limit=5)
        hit_ms: list[float] = []
        miss_ms: list[float] = []
        hits = wrong = 0
        for q, target in queries:
            t = time.perf_counter()
            result = repo.search(q, limit=5)
            (hit_ms if target is not None else miss_ms).append((time.perf_counter() - t) * 1000)
            found = [e.summary["n"] for e, _ in result.matches]
            hits += target is not None and found[:1] == [target]
            wrong += sum(1 for n in found if n != target)
        disk = size_mb(repo, spec)

    one = single_adds(spec, 1, args.singles, tag=1)
    many = single_adds(spec, args.writers, args.singles, tag=2)
    every = hit_ms + miss_ms
    print(
        f"| {backend} | {entries:,} | {bulk:,.0f} | {one:,.0f} | {many:,.0f} "
        f"| {statistics.median(every):.2f} | {pct(every, 95):.2f} "
        f"| {statistics.median(hit_ms):.2f} / {pct(hit_ms, 95):.2f} "
        f"| {statistics.median(miss_ms):.2f} / {pct(miss_ms, 95):.2f} "
        f"| {hits}/{len(hit_ms)}, {wrong} wrong | {disk:,.0f} |",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--entries", type=int, nargs="+", default=[100_000])
    ap.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    ap.add_argument("--queries", type=int, default=400, help="lookups (half of them copies)")
    ap.add_argument("--singles", type=int, default=500, help="one-at-a-time adds per writer")
    ap.add_argument("--writers", type=int, default=2, help="processes registering at once")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--postgres-url", help="an existing (empty) database instead of a new server")
    args = ap.parse_args()

    import sqlite3

    print(f"command: {shlex.join(['python', *sys.argv])}")
    print(
        f"machine: {os.cpu_count()} cores (shared), {platform.machine()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    server = None
    if "postgresql" in args.backends and not args.postgres_url:
        from tests.pg_server import PostgresServer, find_bindir

        bindir = find_bindir()
        if bindir is None:
            raise SystemExit("no PostgreSQL server binaries: run .ci/install-postgres")
        server = PostgresServer(bindir, durable=True)
        server.start()
        print(f"PostgreSQL: {bindir.parent.name} (throw-away server, fsync on)")
    print(
        "\n| backend | entries | bulk add/s | single add/s (1 proc) "
        f"| single add/s ({args.writers} procs) | lookup p50 ms | lookup p95 ms "
        "| copies p50/p95 ms | unrelated p50/p95 ms | recall | disk MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|", flush=True)
    try:
        with tempfile.TemporaryDirectory(prefix="provcheck-repo-bench-") as tmp:
            for entries in args.entries:
                for backend in args.backends:
                    if backend == "sqlite":
                        spec = str(Path(tmp) / f"r{entries}.sqlite3")
                    elif args.postgres_url:
                        spec = args.postgres_url
                    else:
                        assert server is not None
                        spec = server.create_database(f"bench{entries}")
                    run(spec, backend, entries, args)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
