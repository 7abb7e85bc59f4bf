#!/usr/bin/env python3
"""One run of the issue-19 benchmarks, written to BENCHMARKS.md.

    .venv/bin/python bench/report.py [--quick] [--scratch /tmp/perfbench] [--out BENCHMARKS.md]

Runs, one after the other, each part A/B interleaved within itself (ratios are taken
inside a part, never across parts, because the machine may be shared):

1. bench/platform_bench.py   short vertical clips: sign, verify, sign --repository
2. bench/bigsign.py          a 1 GiB and a 2 GiB MP4: fast sign vs cp + fsync, peak RSS
3. bench/startup.py          `provcheck FILE` per call vs python -c pass vs a raw Reader
4. bench/audit_overhead.py   `provcheck audit --jobs 1/2` per file vs a Verifier loop
5. bench/default_signed_rss.py  verifying a 1 GiB MP4 signed with c2pa's defaults
6. bench/sign_malloc.py      fast signing with and without the malloc settings

and writes one Markdown file with the machine, the command, the start and end time and
the load average around each part. --quick is for trying the harness, not for figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PY = sys.executable


def _utc() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def machine() -> list[str]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        ram = f"{int(Path('/proc/meminfo').read_text().split()[1]) / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        ram = "?"
    vers = subprocess.run(
        [PY, "-c", "import c2pa, sys; print(c2pa.sdk_version(), sys.version.split()[0])"],
        capture_output=True,
        text=True,
    ).stdout.split()
    head = subprocess.run(
        ["git", "-C", str(REPO), "log", "-1", "--format=%h %s"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--", "provenance", "cli"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    fs = subprocess.run(["df", "-T", "/tmp"], capture_output=True, text=True).stdout.splitlines()
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores (shared with other work); RAM {ram}",
        f"- kernel {platform.release()}; scratch file system "
        f"{fs[-1].split()[1] if len(fs) > 1 else '?'}",
        f"- c2pa (native) {vers[0] if vers else '?'}; Python {vers[1] if len(vers) > 1 else '?'}",
        f"- tree: {head[:120]}" + (" (with uncommitted changes)" if dirty else ""),
    ]


def _rel(arg: str) -> str:
    return str(Path(arg).relative_to(REPO)) if arg.startswith(str(REPO) + "/") else arg


def part(title: str, cmd: list[str], out: list[str]) -> None:
    print(f"== {title}: {shlex.join(cmd)}", flush=True)
    before, start = _load(), _utc()
    t = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    took = time.monotonic() - t
    # progress lines out; the parts' own headings one level down
    text = "\n".join(
        ("#" + line if line.startswith("## ") else line)
        for line in proc.stdout.strip().splitlines()
        if not line.startswith("round ")
    )
    print(text, flush=True)
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        text += f"\n\n(**failed**, exit {proc.returncode}: {proc.stderr.strip()[-300:]})"
    shown = shlex.join([".venv/bin/python", *(_rel(c) for c in cmd[1:])])
    out += [
        f"## {title}",
        "",
        "```sh",
        shown,
        "```",
        "",
        f"Started {start}, took {took:.0f} s; load average (1/5/15 min) {before} before, "
        f"{_load()} after.",
        "",
        text,
        "",
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/perfbench"))
    ap.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md")
    ap.add_argument(
        "--before",
        metavar="COMMIT",
        help="also time the CLI start-up of this commit (git archive), interleaved",
    )
    a = ap.parse_args()
    s = str(a.scratch)
    q = a.quick
    started = _utc()
    out: list[str] = []
    platform_md = a.scratch / "platform-report.md"
    part(
        "1. Platform workload: short vertical clips",
        [
            PY,
            str(HERE / "platform_bench.py"),
            *("--n", "20" if q else "100", "--rounds", "1" if q else "3"),
            *("--repo-n", "2" if q else "16", "--scratch", s, "--report", str(platform_md)),
        ],
        out,
    )
    for gib, rep in (("1", "1" if q else "3"), ("2", "1" if q else "3")):
        part(
            f"2. Large-file signing, {gib} GiB MP4",
            [
                PY,
                str(HERE / "bigsign.py"),
                *("--gib", "0.25" if q else gib, "--repeat", rep, "--scratch", s),
                *(["--no-normal"] if gib == "2" else []),
            ],
            out,
        )
    startup = [PY, str(HERE / "startup.py"), "--rounds", "3" if q else "15"]
    if a.before:
        tree = a.scratch / f"tree-{a.before}"
        if not tree.exists():
            tree.mkdir(parents=True)
            archive = subprocess.run(
                ["git", "-C", str(REPO), "archive", a.before], capture_output=True, check=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        startup += ["--a", str(tree), "--b", str(REPO)]
    title = "3. CLI start-up" + (f" (A = {a.before}, B = this tree)" if a.before else "")
    part(title, startup, out)
    part(
        "4. Audit per file vs the library's Verifier loop",
        [
            PY,
            str(HERE / "audit_overhead.py"),
            *("--rounds", "1" if q else "5", str(a.scratch / "platform-signed")),
        ],
        out,
    )
    part(
        "5. Verifying a large file signed with c2pa's defaults: peak RSS",
        [PY, str(HERE / "default_signed_rss.py"), "--gib", "0.25" if q else "1", "--scratch", s],
        out,
    )
    part(
        "6. Fast signing with and without the malloc settings",
        [PY, str(HERE / "sign_malloc.py"), "--gib", "0.25" if q else "1", "--scratch", s],
        out,
    )
    head = [
        "# provcheck benchmark results",
        "",
        f"One run of `bench/report.py`, {started} to {_utc()}:",
        "",
        "```sh",
        ".venv/bin/python bench/report.py"
        + (" --quick" if q else "")
        + (f" --before {a.before}" if a.before else ""),
        "```",
        "",
        *machine(),
        "",
        "The machine is shared (other jobs ran on the same 2 cores throughout; see the load",
        "averages): wall-clock figures are contended. Every part measures its A and B",
        "interleaved in the same minutes, so its ratios are the comparable figures; CPU time",
        "(user + system) is given where it is the steadier one.",
        "",
    ]
    a.out.write_text("\n".join(head + out))
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
