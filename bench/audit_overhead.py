#!/usr/bin/env python3
"""`provcheck audit` per file vs the library's `Verifier` loop on the same clips.

    .venv/bin/python bench/audit_overhead.py [--rounds 5] [--format jsonl] DIR_OF_SIGNED_CLIPS

Interleaved in each round, every pass a fresh process (start-up included on both sides):

* ``Verifier loop``: one ``provenance.Verifier`` (default: container inspection on, as
  audit does) over the files, in one process;
* ``provcheck audit --jobs 1`` and ``--jobs 2`` over the folder (``--format`` given,
  output to /dev/null, no progress bar).

Same trust (the test CA) on both sides. Reported: seconds per file (wall and CPU of the
process tree), medians over the rounds with min-max, and audit / loop ratios. The
platform clips (bench/platform_bench.py writes them signed to
/tmp/perfbench/platform-signed) are the intended input.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ROOT = REPO / "fixtures" / "testca" / "test-root-ca.pem"
PY = sys.executable
PROVCHECK = str(Path(PY).parent / "provcheck")

LOOP = r"""
import sys
from pathlib import Path
from provenance import TrustConfig, Verifier
files = sorted(str(p) for p in Path(sys.argv[2]).iterdir() if p.suffix == ".mp4")
with Verifier(TrustConfig.from_files(anchors=[sys.argv[1]])) as v:
    for f in files:
        v.verify(f)
"""


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, user+sys CPU of the process and its waited-for children)."""
    before = os.times()
    t = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - t
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--format", default="jsonl", help="audit output format (default jsonl)")
    a = ap.parse_args()
    n = sum(1 for p in a.folder.iterdir() if p.suffix == ".mp4")
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PROVCHECK_CONFIG_DIR"] = tempfile.mkdtemp(prefix="provcheck-audit-bench-")
    audit = [PROVCHECK, "audit", "--trust", str(ROOT), "--format", a.format, "--no-progress"]
    ops = {
        "Verifier loop (inspection on)": [PY, "-c", LOOP, str(ROOT), str(a.folder)],
        "provcheck audit --jobs 1": [*audit, "--jobs", "1", str(a.folder)],
        "provcheck audit --jobs 2": [*audit, "--jobs", "2", str(a.folder)],
    }
    for cmd in ops.values():  # warm caches
        run(cmd, env)
    res: dict[str, list[tuple[float, float]]] = {k: [] for k in ops}
    for _ in range(a.rounds):
        for name, cmd in ops.items():
            res[name].append(run(cmd, env))
    print(
        f"{n} files, {a.rounds} rounds interleaved, audit --format {a.format}; "
        f"load average {os.getloadavg()[0]:.1f}, nproc {os.cpu_count()}"
    )
    print("| per file | wall ms, median (min-max) | CPU ms, median |")
    print("|---|---:|---:|")
    med: dict[str, float] = {}
    for name, v in res.items():
        walls = [w / n * 1000 for w, _ in v]
        med[name] = statistics.median(walls)
        cpu = statistics.median(c / n * 1000 for _, c in v)
        print(f"| {name} | {med[name]:.1f} ({min(walls):.1f}-{max(walls):.1f}) | {cpu:.1f} |")
    loop = med["Verifier loop (inspection on)"]
    for name in ("provcheck audit --jobs 1", "provcheck audit --jobs 2"):
        print(f"- {name} / Verifier loop, wall per file: {med[name] / loop:.2f}x (target <= 1.3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
