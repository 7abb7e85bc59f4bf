#!/usr/bin/env python3
"""CLI start-up: `provcheck --trust ROOT captured.mp4` (a 5.9 kB signed clip), per call.

    .venv/bin/python bench/startup.py [--rounds 15] [--a TREE_A] [--b TREE_B] [--no-install]
        [--file MEDIA]

Each round runs, interleaved, ``python -c pass``, a raw c2pa-python Reader of the same
file in a fresh interpreter (same trust anchor), and the CLI (``provcheck`` of this
tree; with --a/--b the CLI of two source trees, e.g. a ``git archive`` of the commit
before a change). Each tree is installed as a user has it (``pip install --no-deps
--target``, a wheel build, into a scratch venv whose other packages are this venv's) and
its ``provcheck`` console script is run: a dev venv's editable-install import hook costs
~20 ms of every start-up that a wheel install does not have. --no-install runs the trees'
sources in this venv instead (the hook's cost included).
Wall time and CPU time (user + system, from ``os.wait4``) per call, medians and minimum;
the bytecode cache is warmed first (a real install has .pyc files: PYTHONDONTWRITEBYTECODE
is removed from the children's environment). CPU time is the steadier figure on a shared
machine; wall is what a user waits for.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ROOT = REPO / "fixtures" / "testca" / "test-root-ca.pem"
CLIP = REPO / "fixtures" / "media" / "captured.mp4"
PY = sys.executable

# the CLI of a given tree: an editable install's import hook would outrank PYTHONPATH
TREE_CLI = r"""
import sys
sys.meta_path = [f for f in sys.meta_path if "editable" not in type(f).__module__]
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/cli"]
sys.argv = ["provcheck", *sys.argv[2:]]
from provcheck.app import main
main()
"""

RAW_READ = r"""
import sys, c2pa
ctx = c2pa.Context.from_dict({"version": 1, "trust": {"user_anchors": open(sys.argv[1]).read()}})
with open(sys.argv[2], "rb") as f:
    r = c2pa.Reader.try_create("video/mp4", f, None, ctx)
    if r is not None:
        with r:
            r.get_validation_state()
"""


def install(tree: str, where: Path) -> list[str]:
    """A scratch venv with ``tree`` pip-installed (not editable); the command running its
    console script. Its dependencies are this venv's (a .pth line), so both trees share them."""
    subprocess.run([PY, "-m", "venv", "--without-pip", str(where)], check=True)
    site = next(where.glob("lib/python3*/site-packages"))
    deps = [p for p in sys.path if p.endswith("site-packages")]
    (site / "zz_provcheck_bench_deps.pth").write_text("\n".join(deps) + "\n")
    subprocess.run(
        [PY, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), tree], check=True
    )
    return [str(where / "bin" / "python"), str(site / "bin" / "provcheck")]


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, user+sys CPU) of one process."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode not in (0, 1, 3, 4):  # a verdict's exit code; 2 usage, 5 error
        raise SystemExit(f"{cmd[:3]} failed ({proc.returncode}): {err[-1500:]}")
    return wall, ru.ru_utime + ru.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--a", help="source tree A (default: only this tree's provcheck)")
    ap.add_argument("--b", help="source tree B (default: this tree)")
    ap.add_argument("--file", type=Path, default=CLIP, help="the media file to verify")
    ap.add_argument(
        "--install",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run each tree's CLI from a wheel install (default) or from its sources",
    )
    a = ap.parse_args()
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PROVCHECK_CONFIG_DIR"] = tempfile.mkdtemp(prefix="provcheck-startup-")  # no trust
    clip = a.file.resolve()
    args = ["--trust", str(ROOT), str(clip)]
    clis: dict[str, list[str]] = {}
    scratch = Path(tempfile.mkdtemp(prefix="provcheck-startup-venvs-"))
    if a.install:
        trees = {"A": a.a, "B": a.b or str(REPO)} if a.a else {"": str(REPO)}
        for key, tree in trees.items():
            name = f"provcheck ({key}, wheel install)" if key else "provcheck (wheel install)"
            clis[name] = [*install(tree, scratch / (key or "this")), *args]
    elif a.a:
        clis["provcheck (A)"] = [PY, "-c", TREE_CLI, a.a, *args]
        clis["provcheck (B)"] = [PY, "-c", TREE_CLI, a.b or str(REPO), *args]
    else:
        clis["provcheck"] = [PY, "-m", "provcheck", *args]
    # the baselines run on the CLI's interpreter (a scratch venv's: no editable hook)
    py = next(iter(clis.values()))[0]
    ops = {
        "python -c pass": [py, "-c", "pass"],
        "raw c2pa Reader, fresh interpreter": [py, "-c", RAW_READ, str(ROOT), str(clip)],
        **clis,
    }
    try:
        return measure(ops, env, a)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def measure(ops: dict[str, list[str]], env: dict[str, str], a: argparse.Namespace) -> int:
    for cmd in ops.values():  # warm the bytecode and page caches
        run(cmd, env)
    res: dict[str, list[tuple[float, float]]] = {k: [] for k in ops}
    for _ in range(a.rounds):
        for name, cmd in ops.items():
            res[name].append(run(cmd, env))
    load = os.getloadavg()[0]
    print(
        f"{a.file.name}: {a.rounds} rounds, interleaved; load average {load:.1f}; "
        f"nproc {os.cpu_count()}"
    )
    print("| per call | wall median (s) | wall min (s) | CPU median (s) | CPU min (s) |")
    print("|---|---:|---:|---:|---:|")
    for name, v in res.items():
        walls, cpus = [w for w, _ in v], [c for _, c in v]
        print(
            f"| {name} | {statistics.median(walls):.3f} | {min(walls):.3f} | "
            f"{statistics.median(cpus):.3f} | {min(cpus):.3f} |"
        )
    if a.a:
        suffix = ", wheel install" if a.install else ""
        ra, rb = res[f"provcheck (A{suffix})"], res[f"provcheck (B{suffix})"]
        for i, what in ((1, "CPU"), (0, "wall")):
            va = statistics.median(v[i] for v in ra)
            vb = statistics.median(v[i] for v in rb)
            print(f"B/A {what} per call: {vb / va:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
