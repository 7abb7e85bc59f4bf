#!/usr/bin/env python3
"""Fast signing of a large MP4 with and without provcheck's malloc settings
(provenance/_fastsign.py keeps the native hasher's 1 MiB leaf buffers in the heap).

    .venv/bin/python bench/sign_malloc.py [--gib 1] [--rounds 3] [--scratch /tmp/perfbench]

The input is bench/bigsign.py's enlarged fixture. Each pass is a fresh process signing
it once (A/B interleaved, the output deleted and ``sync`` run before each); ``perf
stat`` gives the page faults when it is installed. Figures: MB signed per wall second
and per CPU second (process time, all threads), medians.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from bigsign import build  # noqa: E402

CHILD = r"""
import json, os, sys, time
from provenance import _fastsign, PemSigner, sign
if sys.argv[1] == "default":
    _fastsign._keep_leaf_buffers_in_heap = lambda: None  # glibc's defaults
src, out = sys.argv[2], sys.argv[3]
ca = "fixtures/testca"
pem = PemSigner.from_files(ca + "/test-signer.key", ca + "/test-signer-chain.pem")
t, c = time.perf_counter(), time.process_time()
sign(src, out, signer=pem, ai="fully", force=True)
wall, cpu = time.perf_counter() - t, time.process_time() - c
print(json.dumps({"wall": wall, "cpu": cpu, "mb": os.path.getsize(src) / 1e6}))
"""


def run(mode: str, src: Path, out: Path) -> dict[str, float]:
    out.unlink(missing_ok=True)
    subprocess.run(["sync"], check=False)
    cmd = [sys.executable, "-c", CHILD, mode, str(src), str(out)]
    perf = shutil.which("perf")
    if perf:
        cmd = [perf, "stat", "-x,", "-e", "page-faults", *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=REPO)
    r: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    m = re.search(r"^(\d+),,page-faults", proc.stderr, re.M)
    r["faults"] = float(m.group(1)) if m else float("nan")
    return r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gib", type=float, default=1.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/perfbench"))
    a = ap.parse_args()
    a.scratch.mkdir(parents=True, exist_ok=True)
    src = build(a.scratch / f"big-{a.gib:g}GiB.mp4", a.gib)
    out = a.scratch / "sign-malloc-out.mp4"
    res: dict[str, list[dict[str, float]]] = {"default": [], "provcheck": []}
    for _ in range(a.rounds):
        for mode in res:
            res[mode].append(run(mode, src, out))
    out.unlink(missing_ok=True)
    print(f"{src.name}, {a.rounds} rounds interleaved")
    print("| malloc settings | MB/s wall, median | MB/s per CPU s, median | page faults |")
    print("|---|---:|---:|---:|")
    cpu: dict[str, float] = {}
    for mode, rs in res.items():
        wall = statistics.median(r["mb"] / r["wall"] for r in rs)
        cpu[mode] = statistics.median(r["mb"] / r["cpu"] for r in rs)
        faults = statistics.median(r["faults"] for r in rs)
        label = "glibc defaults" if mode == "default" else "provcheck's (mallopt)"
        print(f"| {label} | {wall:.0f} | {cpu[mode]:.0f} | {faults:,.0f} |")
    print(f"- per CPU second: {cpu['provcheck'] / cpu['default']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
