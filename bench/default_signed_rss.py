#!/usr/bin/env python3
"""Peak RSS of verifying a large MP4 signed with c2pa's defaults (not by provcheck).

    .venv/bin/python bench/default_signed_rss.py [--gib 1] [--scratch /tmp/perfbench]

The input (bench/bigsign.py's enlarged fixture) is signed twice: by a raw c2pa-python
``Builder.sign_file`` with a default ``Context`` (one BMFF hash over the whole file,
c2pa's default), and by ``provcheck sign`` (1 MiB Merkle leaves). Each verification runs
in its own process under GNU time (peak RSS): a raw ``Reader`` with default settings,
the same with each setting that could plausibly bound memory, and ``provcheck verify``.

c2pa-rs (0.91, ``sdk/src/utils/hash_utils.rs``) hashes a range in chunks of
``MAX_HASH_BUF`` = 256 MiB, a compile-time constant, and reads the next chunk while the
previous one is hashed: two chunks alive, ~512 MiB, whatever the settings. The
``verify.verify_after_reading=false`` row is a control (no hash check at all), not a fix.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from bigsign import build  # noqa: E402

PY = sys.executable
PROVCHECK = str(Path(PY).parent / "provcheck")
CHILD = str(HERE / "_child.py")
CA = REPO / "fixtures" / "testca"
ROOT = str(CA / "test-root-ca.pem")


STATE = re.compile(r'"(validation_state|verdict)": "(\w+)"')


def peak(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Peak RSS in MB and stdout."""
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "RSS %M", *cmd], env=env, capture_output=True, text=True
    )
    rss = re.findall(r"RSS (\d+)", proc.stderr)
    if proc.returncode not in (0, 1) or not rss:
        raise SystemExit(f"{cmd[:4]} failed: {proc.stderr[-1500:]}")
    return int(rss[-1]) / 1024, proc.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gib", type=float, default=1.0)
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/perfbench"))
    ap.add_argument("--repeat", type=int, default=3, help="runs of each row (peak varies)")
    a = ap.parse_args()
    a.scratch.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PROVCHECK_CONFIG_DIR"] = str(a.scratch / "empty-config")
    src = build(a.scratch / f"big-{a.gib:g}GiB.mp4", a.gib)
    default_signed = a.scratch / f"big-{a.gib:g}GiB-c2pa-default.mp4"
    ours = a.scratch / f"big-{a.gib:g}GiB-provcheck.mp4"
    if not default_signed.exists():
        subprocess.run(
            [PY, CHILD, "sign", str(src), str(default_signed)],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    if not ours.exists():
        subprocess.run(
            [
                PROVCHECK,
                "sign",
                str(src),
                "-o",
                str(ours),
                "--key",
                str(CA / "test-signer.key"),
                "--cert",
                str(CA / "test-signer-chain.pem"),
                "--ai",
                "fully",
            ],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    verify = [PROVCHECK, "--format", "json", "--trust", ROOT]
    rows = [
        (
            "c2pa defaults",
            "raw Reader, default settings + trust",
            [PY, CHILD, "read", str(default_signed), "path", "trust"],
        ),
        *(
            (
                "c2pa defaults",
                f"raw Reader, {ov}",
                [PY, CHILD, "read", str(default_signed), "path", "trust", ov],
            )
            for ov in (
                "core.backing_store_memory_threshold_in_mb=16",
                "core.merkle_tree_chunk_size_in_kb=1024",
                "verify.verify_after_reading=false",
            )
        ),
        ("c2pa defaults", "provcheck verify", [*verify, str(default_signed)]),
        (
            "provcheck sign (Merkle)",
            "raw Reader, default settings + trust",
            [PY, CHILD, "read", str(ours), "path", "trust"],
        ),
        ("provcheck sign (Merkle)", "provcheck verify", [*verify, str(ours)]),
    ]
    print(f"{src.stat().st_size:,}-byte MP4; load average {os.getloadavg()[0]:.1f}")
    print(f"each row run {a.repeat} times (interleaved): peak RSS max (min-max)")
    print("| file signed by | verification | peak RSS (MB) | result |")
    print("|---|---|---:|---|")
    runs: dict[int, list[tuple[float, str]]] = {i: [] for i in range(len(rows))}
    for _ in range(a.repeat):
        for i, (_, _, cmd) in enumerate(rows):
            runs[i].append(peak(cmd, env))
    for i, (signed_by, what, _) in enumerate(rows):
        peaks = [r for r, _ in runs[i]]
        found = [m.groups() for _, out in runs[i] for m in STATE.finditer(out)]
        # provcheck's own verdict when it printed one, else the raw validation state
        states = {v for k, v in found if k == "verdict"} or {v for _, v in found}
        print(
            f"| {signed_by} | {what} | {max(peaks):.0f} ({min(peaks):.0f}-{max(peaks):.0f}) "
            f"| {', '.join(sorted(states)) or '?'} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
