#!/usr/bin/env python3
"""Audit throughput: N short clips locally with 2 jobs against a 2-worker Dask cluster
on the same machine (one thread each), and the cluster's overhead as a ratio.

    python bench/audit_scale.py                       # 5,000 clips
    python bench/audit_scale.py --clips 2000
    python bench/audit_scale.py --scheduler tcp://host:8786   # an existing cluster

The clips are copies of the committed fixture clips (signed, AI-labelled, edited,
tampered, unsigned, stripped: every path of the verifier), made outside the timed
sections; the page cache holds them all, so this measures verification and
scheduling, not the disk. Both runs get a short warm-up first (the verifier
processes start once per worker), so the figures are steady-state rates; the
cold start of each is printed beside them.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from provenance import Candidate, TrustConfig, discover, run_audit  # noqa: E402

CLIPS = (
    "ai_generated.mp4",
    "captured.mp4",
    "edit_of_ai.mp4",
    "partly.mp4",
    "possibly.mp4",
    "untrusted.mp4",
    "unsigned.mp4",
    "stripped.mp4",
    "tampered.mp4",
    "invalid.mp4",
    "generated.mov",
    "algorithmic.mp4",
)
CLIPS_A_DAY = 100_000_000


def make_clips(root: Path, n: int) -> None:
    media = ROOT / "fixtures" / "media"
    for i in range(n):
        name = CLIPS[i % len(CLIPS)]
        folder = root / f"{i // 1000:04d}"
        if i % 1000 == 0:
            folder.mkdir(parents=True)
        shutil.copyfile(media / name, folder / f"{i:07d}{Path(name).suffix}")


def timed(
    candidates: list[Candidate], trust: TrustConfig, **kwargs: object
) -> tuple[float, Counter[str]]:
    start = time.perf_counter()
    verdicts = Counter(r.verdict.value for r in run_audit(candidates, trust, **kwargs))  # type: ignore[arg-type]
    return time.perf_counter() - start, verdicts


@contextmanager
def cluster(workdir: Path, scheduler: str | None) -> Iterator[str]:
    if scheduler is not None:
        yield scheduler
        return
    from tests.dask_cluster import local_cluster

    with local_cluster(workdir, workers=2, nthreads=1) as c:
        yield c.address


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=int, default=5000)
    ap.add_argument("--jobs", type=int, default=2, help="local worker processes")
    ap.add_argument("--scheduler", help="use this Dask cluster instead of starting one")
    ap.add_argument("--warmup", type=int, default=24)
    args = ap.parse_args()

    trust = TrustConfig.from_files(anchors=[ROOT / "fixtures" / "testca" / "test-root-ca.pem"])
    with tempfile.TemporaryDirectory(prefix="audit-scale-") as tmp:
        root = Path(tmp) / "clips"
        t0 = time.perf_counter()
        make_clips(root, args.clips)
        candidates, _ = discover([root], recursive=True)
        assert len(candidates) == args.clips
        print(f"{args.clips} clips made and discovered in {time.perf_counter() - t0:.1f} s")
        warm = candidates[: args.warmup]

        cold_local, _ = timed(warm, trust, jobs=args.jobs)
        local_s, local_v = timed(candidates, trust, jobs=args.jobs)

        workdir = Path(tmp) / "dask"
        workdir.mkdir()
        with cluster(workdir, args.scheduler) as address:
            cold_dask, _ = timed(warm, trust, scheduler=address)
            dask_s, dask_v = timed(candidates, trust, scheduler=address)
    assert local_v == dask_v, (local_v, dask_v)

    local_rate = args.clips / local_s
    dask_rate = args.clips / dask_s
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}; python {platform.python_version()}"
    )
    print(f"command: {shlex.join(['python', 'bench/audit_scale.py', *sys.argv[1:]])}")
    print(f"verdicts: {dict(sorted(local_v.items()))}")
    print(f"{'run':<34}{'seconds':>9}{'files/s':>10}{'cold start s':>14}")
    print(
        f"{f'local, --jobs {args.jobs}':<34}{local_s:>9.1f}{local_rate:>10.1f}{cold_local:>14.2f}"
    )
    where = "Dask, existing cluster" if args.scheduler else "Dask, 2 workers x 1 thread"
    print(f"{where:<34}{dask_s:>9.1f}{dask_rate:>10.1f}{cold_dask:>14.2f}")
    print(f"Dask / local throughput: {dask_rate / local_rate:.2f}")
    per_day = CLIPS_A_DAY / 86400
    per_thread = dask_rate / 2
    print(
        f"sizing: {CLIPS_A_DAY:,} clips a day = {per_day:,.0f} files/s on average; "
        f"at {per_thread:.0f} files/s per worker thread (this machine's core): "
        f"{per_day / per_thread:,.0f} threads, x2 for peaks = {2 * per_day / per_thread:,.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
