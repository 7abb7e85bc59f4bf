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
from typing import Any

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


def session_cpu(sessions: set[int]) -> dict[int, float]:
    """CPU seconds of every live process in these sessions, with their reaped children."""
    tick = os.sysconf("SC_CLK_TCK")
    total = dict.fromkeys(sessions, 0)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        if int(fields[3]) in sessions:  # session id
            total[int(fields[3])] += sum(int(x) for x in fields[11:15])  # u+s, reaped u+s
    return {k: v / tick for k, v in total.items()}


def own_cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(
    candidates: list[Candidate],
    trust: TrustConfig,
    sessions: set[int] | None = None,
    **kwargs: Any,
) -> tuple[float, dict[str, float], Counter[str]]:
    """Wall seconds, CPU seconds (this process with its children, and each of the given
    sessions), and the verdicts. CPU per file is what the machine's load does not change."""
    cpu0, s0 = own_cpu(), session_cpu(sessions or set())
    start = time.perf_counter()
    verdicts = Counter(r.verdict.value for r in run_audit(candidates, trust, **kwargs))
    wall = time.perf_counter() - start
    cpu1, s1 = own_cpu(), session_cpu(sessions or set())
    cpu = {"client": cpu1 - cpu0, **{str(k): s1[k] - s0[k] for k in s1}}
    return wall, cpu, verdicts


@contextmanager
def cluster(workdir: Path, scheduler: str | None) -> Iterator[tuple[str, list[int]]]:
    if scheduler is not None:
        yield scheduler, []  # CPU of a remote cluster is not measured
        return
    from tests.dask_cluster import local_cluster

    with local_cluster(workdir, workers=2, nthreads=1) as c:
        # Each process leads its own session: the scheduler first, then each worker with
        # its nanny and verifier children.
        yield c.address, [p.pid for p in c.procs]


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

        cold_local, _, _ = timed(warm, trust, jobs=args.jobs)
        local_s, local_cpu, local_v = timed(candidates, trust, jobs=args.jobs)

        workdir = Path(tmp) / "dask"
        workdir.mkdir()
        with cluster(workdir, args.scheduler) as (address, sessions):
            cold_dask, _, _ = timed(warm, trust, set(sessions), scheduler=address)
            dask_s, dask_cpu, dask_v = timed(candidates, trust, set(sessions), scheduler=address)
    assert local_v == dask_v, (local_v, dask_v)

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}; python {platform.python_version()}"
    )
    print(f"command: {shlex.join(['python', 'bench/audit_scale.py', *sys.argv[1:]])}")
    print(f"verdicts: {dict(sorted(local_v.items()))}")
    print(f"{'run':<30}{'seconds':>9}{'files/s':>9}{'CPU ms/file':>13}{'cold start s':>14}")
    scheduler_cpu = 0.0
    if len(dask_cpu) > 1:
        scheduler_cpu = dask_cpu[str(sessions[0])]
    local_total, dask_total = sum(local_cpu.values()), sum(dask_cpu.values())
    rows = [(f"local, --jobs {args.jobs}", local_s, local_total, cold_local)]
    where = "Dask, existing cluster" if args.scheduler else "Dask, 2 workers x 1 thread"
    rows.append((where, dask_s, dask_total if len(dask_cpu) > 1 else 0.0, cold_dask))
    for name, wall, cpu, cold in rows:
        per_file = f"{1000 * cpu / args.clips:.1f}" if cpu else "-"
        print(f"{name:<30}{wall:>9.1f}{args.clips / wall:>9.1f}{per_file:>13}{cold:>14.2f}")
    print(f"Dask / local throughput (wall): {local_s / dask_s:.2f}")
    per_day = CLIPS_A_DAY / 86400
    if len(dask_cpu) > 1:
        workers = dask_total - scheduler_cpu - dask_cpu["client"]
        print(
            f"Dask / local CPU per file: {dask_total / local_total:.2f}; of Dask's, per file: "
            f"workers {1000 * workers / args.clips:.1f} ms, scheduler "
            f"{1000 * scheduler_cpu / args.clips:.1f} ms, client "
            f"{1000 * dask_cpu['client'] / args.clips:.1f} ms"
        )
        cores = per_day * workers / args.clips
        print(
            f"sizing: {CLIPS_A_DAY:,} clips a day = {per_day:,.0f} files/s on average; "
            f"worker cores busy on average {cores:,.0f} (x2 for peaks: {2 * cores:,.0f}); "
            f"one scheduler at {1000 * scheduler_cpu / args.clips:.1f} ms per task is "
            f"{per_day * scheduler_cpu / args.clips:.1f} cores busy"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
