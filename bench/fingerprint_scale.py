#!/usr/bin/env python3
"""How fast is a repository lookup with many entries, against scanning them all?

    python bench/fingerprint_scale.py                 # 100,000 entries (a few minutes)
    python bench/fingerprint_scale.py --entries 10000 # smaller
    python bench/fingerprint_scale.py --entries 20000 --db r.sqlite3         # keep the file
    python bench/fingerprint_scale.py --entries 20000 --db r.sqlite3 --reuse # lookups only

Inserts synthetic fingerprints shaped like real ones (each sample a step away from the
previous one, 20-120 samples = 5-30 s clips; v2, the default, with descriptors and
zoomed descriptors, so entries are as large and as heavily indexed as real ones; v1 with
``--algorithm org.provcheck.vphash.v1``) into a fresh SQLiteRepository, then
times ``lookup`` for queries that are noisy or trimmed copies of stored entries and
for queries matching nothing, and in the same run times two brute-force references:
``SQLiteRepository.scan`` (read and compare every entry) and an in-memory NumPy scan
(all sample hashes preloaded; Hamming distance of every query sample to every stored
sample). Prints latency median/p95 in ms, recall, the ratios, and per lookup the
candidates the index chose, how many of them the vote prefilter left to compare in full
(:func:`provenance.fingerprint.worth_comparing`) and the index rows read.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from provenance.fingerprint import (
    ALGORITHM,
    ALGORITHM_V1,
    ALGORITHM_V2,
    SAMPLE_PERIOD,
    VideoFingerprint,
)
from provenance.repository import SQLiteRepository


def random_walk(rng: random.Random, algorithm: str) -> VideoFingerprint:
    samples = rng.randint(20, 120)
    stamps = tuple(round(i * SAMPLE_PERIOD, 3) for i in range(samples))
    if algorithm == ALGORITHM_V2:
        return _v2_walk(rng, samples, stamps)
    h = rng.getrandbits(64)
    hashes = []
    for _ in range(samples):
        # Real clips: mostly 4-16 bits between samples, sometimes a still (0) or a cut.
        step = rng.choice([0, 4, 6, 8, 10, 12, 14, 16, 32])
        for bit in rng.sample(range(64), step):
            h ^= 1 << bit
        hashes.append(h)
    return VideoFingerprint(algorithm, tuple(hashes), stamps, samples * SAMPLE_PERIOD)


# v2 descriptors: 64 DCT coefficients, the lower frequencies larger, as in real clips.
_PROFILE = 1.0 / (1.0 + np.arange(64) % 32 / 6.0)


def _quantise(v: np.ndarray) -> bytes:
    q = np.rint(v / np.abs(v).max(axis=1, keepdims=True) * 127)
    return bytes(np.clip(q, -127, 127).astype(np.int8).tobytes())


def _v2(desc: bytes, zoomed: bytes, stamps: tuple[float, ...]) -> VideoFingerprint:
    """A v2 fingerprint with descriptors and zoomed descriptors; its hashes are derived
    from them as compute() does (through the serialised form)."""
    n = len(stamps)
    fp = VideoFingerprint(ALGORITHM_V2, (0,) * n, stamps, n * SAMPLE_PERIOD, desc, zoomed)
    return VideoFingerprint.from_bytes(fp.to_bytes())


def _v2_walk(rng: random.Random, samples: int, stamps: tuple[float, ...]) -> VideoFingerprint:
    """Each window a step from the previous one (a still, slow or fast motion, or a cut);
    the zoomed view related to the whole picture but not the same."""
    g = np.random.default_rng(rng.getrandbits(32))
    v, w = g.normal(size=64) * _PROFILE, g.normal(size=64) * _PROFILE
    rows, zrows = [], []
    for _ in range(samples):
        step = rng.choice([0.0, 0.05, 0.1, 0.2, 0.3, 2.0])
        v = v + g.normal(size=64) * _PROFILE * step if step < 2 else g.normal(size=64) * _PROFILE
        w = w + g.normal(size=64) * _PROFILE * min(step, 0.3)
        rows.append(v)
        zrows.append(0.7 * v + 0.7 * w)
    return _v2(_quantise(np.array(rows)), _quantise(np.array(zrows)), stamps)


def transformed(fp: VideoFingerprint, rng: random.Random) -> VideoFingerprint:
    """A copy as a platform would make it: ~8 bits of noise per sample (v2: descriptors
    about 0.9-0.97 cosine from the original's), trimmed ends."""
    cut_head, cut_tail = rng.randint(0, 8), rng.randint(0, 8)
    keep = range(cut_head, len(fp.hashes) - cut_tail)
    t0 = fp.timestamps[cut_head]
    stamps = tuple(round(fp.timestamps[k] - t0, 3) for k in keep)
    if fp.algorithm == ALGORITHM_V2:
        g = np.random.default_rng(rng.getrandbits(32))
        raw = np.frombuffer(fp.descriptors, dtype=np.int8).reshape(-1, 64)[list(keep)]
        d = raw.astype(np.float64) / 127
        noisy = d + g.normal(size=d.shape) * _PROFILE * rng.uniform(0.1, 0.2)
        return _v2(_quantise(noisy), _quantise(noisy), stamps)
    hashes = []
    for k in keep:
        h = fp.hashes[k]
        for bit in rng.sample(range(64), rng.randint(2, 10)):
            h ^= 1 << bit
        hashes.append(h)
    return VideoFingerprint(fp.algorithm, tuple(hashes), stamps, len(keep) * SAMPLE_PERIOD)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200, help="indexed lookups (half positive)")
    ap.add_argument("--scans", type=int, default=5, help="brute-force SQLite scans to time")
    ap.add_argument("--numpy-queries", type=int, default=20, help="in-memory NumPy scans to time")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--algorithm", default=ALGORITHM, choices=(ALGORITHM_V2, ALGORITHM_V1))
    ap.add_argument("--db", type=Path, help="repository file (default: a temporary one)")
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="with --db: if it already holds --entries entries (made by this script with "
        "the same --seed), skip the insertion and time the lookups only",
    )
    args = ap.parse_args()

    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, {platform.platform()}, "
        f"Python {platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}"
    )
    rng = random.Random(args.seed)
    tmp = tempfile.TemporaryDirectory(prefix="provcheck-scale-")
    path = args.db or Path(tmp.name) / "manifests.sqlite3"
    repo = SQLiteRepository(path)

    reuse = args.reuse and len(repo) == args.entries
    t0 = time.perf_counter()
    stored: list[VideoFingerprint] = []
    batch = 5000
    for start in range(0, args.entries, batch):
        fps = [random_walk(rng, args.algorithm) for _ in range(min(batch, args.entries - start))]
        stored.extend(fps)
        if not reuse:
            repo.add_many(
                (f"manifest {start + i}".encode(), fp, {"n": start + i}, None)
                for i, fp in enumerate(fps)
            )
    insert_s = time.perf_counter() - t0
    rows = repo._db.execute("SELECT COUNT(*) FROM hash_index").fetchone()[0]
    samples = sum(len(fp.hashes) for fp in stored)
    size_mb = sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6
    if reuse:
        print(
            f"\nreused {path} ({len(repo):,} entries, {samples:,} samples, {rows:,} index rows; "
            f"not inserted, not timed); file {size_mb:,.0f} MB"
        )
    else:
        print(
            f"\ninserted {len(repo):,} entries ({samples:,} samples, {rows:,} index rows) "
            f"in {insert_s:.1f} s ({len(repo) / insert_s:,.0f} entries/s); "
            f"file {size_mb:,.0f} MB"
        )

    positives = [rng.randrange(len(stored)) for _ in range(args.queries // 2)]
    queries: list[tuple[VideoFingerprint, int | None]] = [
        (transformed(stored[i], rng), i) for i in positives
    ]
    queries += [
        (random_walk(rng, args.algorithm), None) for _ in range(args.queries - len(queries))
    ]

    latencies: list[float] = []
    candidates: list[int] = []
    compared: list[int] = []
    postings: list[int] = []
    hits = false_hits = 0
    for query, target in queries:
        t = time.perf_counter()
        result = repo.search(query, limit=5)
        latencies.append((time.perf_counter() - t) * 1000)
        candidates.append(result.candidates)
        compared.append(result.compared)
        postings.append(result.postings)
        ids = [e.summary["n"] for e, _ in result.matches]
        if target is not None and ids[:1] == [target]:
            hits += 1
        false_hits += sum(1 for n in ids if n != target)

    # Brute force 1: the repository's own full scan (read + compare every entry).
    scan_ms: list[float] = []
    agree = 0
    # Half positive, half negative (the first queries are positives, the last negatives).
    for query, target in (
        queries[: (args.scans + 1) // 2] + queries[len(queries) - args.scans // 2 :]
    ):
        t = time.perf_counter()
        found = repo.scan(query, limit=5)
        scan_ms.append((time.perf_counter() - t) * 1000)
        agree += [e.summary["n"] for e, _ in found][:1] == ([target] if target is not None else [])

    # Brute force 2: everything in memory, vectorised — the cheapest possible full scan:
    # for every stored sample, is any query sample within 16 bits? (No verification.)
    all_hashes = np.fromiter((h for fp in stored for h in fp.hashes), dtype=np.uint64)
    owner = np.repeat(np.arange(len(stored)), [len(fp.hashes) for fp in stored])
    numpy_ms: list[float] = []
    for query, _ in queries[: args.numpy_queries]:
        t = time.perf_counter()
        near = np.zeros(len(all_hashes), dtype=bool)
        for h in query.hashes:
            near |= np.bitwise_count(all_hashes ^ np.uint64(h)) <= 16
        np.bincount(owner[near], minlength=len(stored)).argmax()
        numpy_ms.append((time.perf_counter() - t) * 1000)

    med, p95 = statistics.median(latencies), pct(latencies, 95)
    scan_med = statistics.median(scan_ms) if scan_ms else math.nan
    numpy_med = statistics.median(numpy_ms) if numpy_ms else math.nan
    print(f"\n{'method':<46} {'median ms':>10} {'p95 ms':>10} {'runs':>6}")
    print(
        f"{'indexed lookup (multi-index hashing + verify)':<46} {med:>10.2f} {p95:>10.2f} "
        f"{len(latencies):>6}"
    )
    print(
        f"{'brute force: SQLite scan + compare every entry':<46} {scan_med:>10.1f} "
        f"{pct(scan_ms, 95) if scan_ms else math.nan:>10.1f} {len(scan_ms):>6}"
    )
    print(
        f"{'brute force: in-memory NumPy Hamming scan':<46} {numpy_med:>10.1f} "
        f"{pct(numpy_ms, 95) if numpy_ms else math.nan:>10.1f} {len(numpy_ms):>6}"
    )
    print(
        f"\nspeed-up of the index: {scan_med / med:,.0f}x vs the SQLite scan, "
        f"{numpy_med / med:,.0f}x vs the in-memory NumPy scan (medians)"
    )
    print(
        f"lookup recall (transformed copies found as top result): {hits}/{len(positives)}; "
        f"wrong entries returned: {false_hits}; scan agreed with the truth on "
        f"{agree}/{len(scan_ms)}"
    )
    print(
        f"per lookup: median {statistics.median(candidates):.0f} candidates "
        f"(of {len(stored):,} entries), of which median {statistics.median(compared):.0f} "
        f"(mean {statistics.mean(compared):.1f}) compared in full after the vote prefilter; "
        f"median {statistics.median(postings):,.0f} index rows read (of {rows:,})"
    )
    repo.close()
    tmp.cleanup()


if __name__ == "__main__":
    main()
