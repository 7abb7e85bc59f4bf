#!/usr/bin/env python3
"""Measure the levers behind provcheck's verify/sign cost, one variant per subprocess.

    .venv/bin/python bench/levers.py [--size-gb 1] [--repeat 2] [--only verify,sign,merkle]

Uses the cached media of bench.py (run it first, or this builds them). Each variant is
a raw c2pa-python operation (bench/_child.py) so the effect of one lever is isolated:

* stream hand-off: Reader/Builder given a path (c2pa-python opens it, 8 KiB buffer),
  a raw FileIO (buffering=0), 8 KiB / 1 MiB / 16 MiB BufferedReader, or an mmap-backed
  RawIOBase whose readinto copies from the mapping;
* settings: verify.verify_after_reading, verify.verify_after_sign,
  core.backing_store_memory_threshold_in_mb, core.merkle_tree_chunk_size_in_kb;
* TMPDIR of the native intermediate file (same ext4 vs tmpfs).

Writes a Markdown table to <scratch>/levers-<stamp>.md and prints it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench

CHILD = bench.CHILD
PY = bench.PY


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-gb", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/bench"))
    ap.add_argument("--only", default="verify,sign,merkle")
    ap.add_argument("--quiet-wait", type=float, default=20.0)
    ap.add_argument("--report", type=Path, default=bench.HERE / "LEVERS.md")
    a = ap.parse_args()
    only = set(a.only.split(","))
    scratch = a.scratch.resolve()
    env = dict(os.environ, PROVCHECK_CONFIG_DIR=str(scratch / "config"))
    r = bench.Runner(scratch, env, quiet_wait=a.quiet_wait)
    src = bench.ensure_video(scratch, int(a.size_gb * bench.GiB))
    signed = bench.ensure_signed(r, src)
    n = src.stat().st_size
    out = scratch / "out" / "lever-out.mp4"
    out.parent.mkdir(exist_ok=True)
    results: list[bench.Result] = []

    def before() -> None:
        bench.drop_file(out)
        bench.settle()

    def read_variant(
        key: str, label: str, path: Path, mode: str, *ovs: str, env: str | None = None
    ) -> None:
        cmd = [PY, CHILD, "read", str(path), mode, *ovs]
        if env:
            cmd = ["env", env, *cmd]
        res = r.measure(key, label, "verify-lever", [cmd], repeat=a.repeat, nbytes=n)
        res.note = json.loads(res.samples[-1].stdout.strip().splitlines()[-1])["validation_state"]
        results.append(res)

    def sign_variant(
        key: str, label: str, mode: str, *ovs: str, tmpdir: str | None = None, check: bool = True
    ) -> None:
        cmd = [PY, CHILD, "sign", str(src), str(out), mode, *ovs]
        if tmpdir:
            cmd = ["env", f"TMPDIR={tmpdir}", *cmd]
        res = r.measure(key, label, "sign-lever", [cmd], repeat=a.repeat, nbytes=n, before=before)
        if check:
            res.note = bench.check_trusted(r, out)
        results.append(res)

    if "verify" in only:
        print("verify levers")
        bench._warm(signed)
        for mode, what in [
            ("path", "Reader(path): c2pa-python open(), 8 KiB buffer"),
            ("buf0", "raw FileIO (buffering=0)"),
            ("buf8k", "BufferedReader 8 KiB"),
            ("buf1m", "BufferedReader 1 MiB (provcheck today)"),
            ("buf16m", "BufferedReader 16 MiB"),
            ("mmap", "mmap-backed RawIOBase"),
        ]:
            read_variant(f"r-{mode}", f"Reader, {what}", signed, mode, "trust")
        read_variant(
            "r-noverify",
            "Reader buf1m, verify_after_reading=false",
            signed,
            "buf1m",
            "trust",
            "verify.verify_after_reading=false",
        )
        read_variant(
            "r-bs1",
            "Reader buf1m, backing_store_memory_threshold_in_mb=1",
            signed,
            "buf1m",
            "trust",
            "core.backing_store_memory_threshold_in_mb=1",
        )
        read_variant(
            "r-noid",
            "Reader buf1m, decode_identity_assertions=false",
            signed,
            "buf1m",
            "trust",
            "core.decode_identity_assertions=false",
        )
        # glibc: no mmap for big blocks + no trimming, so c2pa's 256 MiB hash buffers are
        # reused from the heap (fewer page faults) instead of mmap'd/munmap'd per chunk
        read_variant(
            "r-malloc",
            "Reader buf1m, GLIBC_TUNABLES mmap_max=0, trim_threshold=4GiB",
            signed,
            "buf1m",
            "trust",
            env="GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=4294967296",
        )

    if "sign" in only:
        print("sign levers")
        bench._warm(src)
        for mode, what in [
            ("sign_file", "Builder.sign_file (8 KiB buffered files)"),
            ("buf0/buf0", "sign(): raw FileIO in and out"),
            ("buf1m/buf1m", "sign(): 1 MiB buffers in and out"),
            ("buf16m/buf16m", "sign(): 16 MiB buffers in and out"),
            ("mmap/buf16m", "sign(): mmap in, 16 MiB buffered out"),
        ]:
            sign_variant(f"s-{mode}", what, mode)
        sign_variant(
            "s-vas-t",
            "sign_file, verify_after_sign=true",
            "sign_file",
            "verify.verify_after_sign=true",
        )
        sign_variant(
            "s-vas-f",
            "sign_file, verify_after_sign=false",
            "sign_file",
            "verify.verify_after_sign=false",
        )
        for mb in (0, 64, 2048):
            sign_variant(
                f"s-bs{mb}",
                f"sign_file, backing_store_memory_threshold_in_mb={mb}",
                "sign_file",
                f"core.backing_store_memory_threshold_in_mb={mb}",
            )
        sign_variant(
            "s-shm",
            "sign_file, TMPDIR=/dev/shm (tmpfs intermediate)",
            "sign_file",
            tmpdir="/dev/shm",
        )

    if "merkle" in only:
        print("merkle levers (sign with core.merkle_tree_chunk_size_in_kb, then verify)")
        bench._warm(src)
        for kb, proofs in ((1024, None), (8192, None), (1024, 0)):
            key = f"m{kb}" + ("" if proofs is None else f"p{proofs}")
            ovs = [f"core.merkle_tree_chunk_size_in_kb={kb}"]
            what = f"merkle_tree_chunk_size_in_kb={kb}"
            if proofs is not None:
                ovs.append(f"core.merkle_tree_max_proofs={proofs}")
                what += f", merkle_tree_max_proofs={proofs}"
            sign_variant(f"s-{key}", f"sign_file, {what}", "sign_file", *ovs, check=False)
            msigned = scratch / f"signed-{key}-{n // bench.MiB}MiB.mp4"
            out.replace(msigned)
            read_variant(
                f"r-{key}",
                f"Reader buf1m on a copy signed with {what}",
                msigned,
                "buf1m",
                "trust",
            )

    body = [
        "| group | variant | wall median (s) | min (s) | CPU (s) | MiB/s | peak RSS (MB) "
        "| other load | result |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for res in results:
        body.append(
            f"| {res.group} | {res.label} | {res.wall:.3f} | {res.wall_min:.3f} | "
            f"{res.cpu:.3f} | {res.mbps or 0:.0f} | {res.rss_mb:.1f} | {res.other:.2f} | "
            f"{res.note} |"
        )
    text = "\n".join(body)
    print(text)
    mach = bench.machine()
    header = [
        "# provcheck levers",
        "",
        f"Generated {time.strftime('%Y-%m-%d %H:%M:%S')} by `bench/levers.py` on "
        + ", ".join(f"{k}: {v}" for k, v in mach.items()),
        "",
        "```sh",
        ".venv/bin/python bench/levers.py " + " ".join(sys.argv[1:]),
        "```",
        "",
        f"Input: {src.name} ({n:,} bytes) and its provcheck-signed copy. Each row is a raw "
        "c2pa-python operation in its own process (bench/_child.py); CPU = user+sys; "
        "*other load* = CPU used by other processes during the run, in cores.",
        "",
        "",
    ]
    a.report.write_text("\n".join(header) + text + "\n")
    print(f"report: {a.report}")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (scratch / f"levers-{stamp}.md").write_text(text + "\n")
    print(f"\n{scratch / f'levers-{stamp}.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
