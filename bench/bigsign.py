#!/usr/bin/env python3
"""Large-file signing: fast path vs normal path vs ``cp`` + fsync, wall and peak RSS.

    .venv/bin/python bench/bigsign.py [--gib 1] [--repeat 2] [--scratch /tmp/perfbench]
        [--no-normal]

The input is fixtures/media/unsigned.mp4 with its mdat enlarged by unreferenced
random data at its end (a valid MP4; no chunk offset moves), so it is quick to build.
Each operation runs in its own process (``/usr/bin/time`` gives the peak RSS), A/B
interleaved; the output is deleted and ``sync`` run before each.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CA = REPO / "fixtures" / "testca"
PY = sys.executable


def build(path: Path, gib: float) -> Path:
    data = (REPO / "fixtures" / "media" / "unsigned.mp4").read_bytes()
    extra = int(gib * (1 << 30))
    if path.exists() and path.stat().st_size == len(data) + extra:
        return path
    pos = 0
    while pos < len(data):  # find the mdat
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"mdat":
            break
        pos += size
    # the muxer's 8-byte free box before the mdat becomes the 64-bit size: no offset moves
    assert data[pos - 8 : pos] == struct.pack(">I4s", 8, b"free")
    tmp = path.with_suffix(".part")
    with open(tmp, "wb") as f:
        f.write(data[: pos - 8] + struct.pack(">I4sQ", 1, b"mdat", size + 8 + extra))
        f.write(data[pos + 8 : pos + size])
        block = os.urandom(8 << 20)
        for _ in range(extra // len(block)):
            f.write(block)
        f.write(block[: extra % len(block)])
        f.write(data[pos + size :])
    tmp.replace(path)
    return path


SIGN = """
import sys
from provenance import PemSigner, sign
ca = sys.argv[3]
pem = PemSigner.from_files(ca + "/test-signer.key", ca + "/test-signer-chain.pem")
sign(sys.argv[1], sys.argv[2], signer=pem, ai="fully", force=True)
"""


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MB) and CPU seconds (user + system) of one process."""
    t = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "RSS %M CPU %U %S", *cmd], env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - t
    if proc.returncode:
        raise SystemExit(proc.stderr[-2000:])
    m = re.findall(r"RSS (\d+) CPU ([\d.]+) ([\d.]+)", proc.stderr)
    if not m:
        return wall, 0.0, 0.0
    rss, user, system = m[-1]
    return wall, int(rss) / 1024, float(user) + float(system)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gib", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/perfbench"))
    ap.add_argument("--no-normal", action="store_true", help="skip the (slow) normal path")
    a = ap.parse_args()
    a.scratch.mkdir(parents=True, exist_ok=True)
    src = build(a.scratch / f"big-{a.gib:g}GiB.mp4", a.gib)
    out = a.scratch / "big-out.mp4"
    base = dict(os.environ)
    ops = {
        "cp + fsync": (["sh", "-c", f"cp {src} {out} && sync {out}"], base),
        "provcheck sign, fast path": ([PY, "-c", SIGN, str(src), str(out), str(CA)], base),
        "provcheck sign, normal path": (
            [PY, "-c", SIGN, str(src), str(out), str(CA)],
            dict(base, PROVCHECK_FAST_SIGN="0"),
        ),
    }
    if a.no_normal:
        del ops["provcheck sign, normal path"]
    res: dict[str, list[tuple[float, float, float]]] = {k: [] for k in ops}
    for _ in range(a.repeat):
        for name, (cmd, env) in ops.items():
            out.unlink(missing_ok=True)
            subprocess.run(["sync"], check=False)
            res[name].append(measure(cmd, env))
    cp = statistics.median(w for w, _, _ in res["cp + fsync"])
    size = src.stat().st_size
    print(f"input {src} ({size:,} bytes); {a.repeat} repeats, load avg {os.getloadavg()[0]:.1f}")
    print("| operation | wall median (s) | min (s) | CPU median (s) | peak RSS (MB) | / cp+fsync |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, v in res.items():
        med = statistics.median(w for w, _, _ in v)
        print(
            f"| {name} | {med:.2f} | {min(w for w, _, _ in v):.2f} | "
            f"{statistics.median(c for _, _, c in v):.2f} | "
            f"{max(r for _, r, _ in v):.0f} | {med / cp:.2f}x |"
        )
    # the ratio run by run (each sign next to the cp measured just before it)
    fast = res["provcheck sign, fast path"]
    pairs = [f / c for (f, _, _), (c, _, _) in zip(fast, res["cp + fsync"], strict=True)]
    print(
        "fast path / cp+fsync, pair by pair: "
        + ", ".join(f"{r:.2f}x" for r in pairs)
        + f" (median {statistics.median(pairs):.2f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
