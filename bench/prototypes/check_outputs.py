#!/usr/bin/env python3
"""Evidence for the fast-sign prototype: every output must

1. read back as ``Trusted`` with a raw c2pa-python Reader (trust.user_anchors = test root),
2. be ``trusted`` for ``provcheck --format json --trust test-root-ca.pem`` (AI label read back),
3. still play: PyAV decodes the same number of frames as the source, and the decoded
   frames at a few positions are pixel-identical to the source's (chunk offsets right),
4. turn ``Invalid`` with ``assertion.bmffHash.mismatch`` when one byte is flipped in the
   mdat payload (start, middle, end), in moov or in the XMP box. (A flip in ``ftyp`` is
   shown too: c2pa-rs's default BMFF exclusions leave /ftyp out of the hash for every
   MP4 it signs, the normal ``Builder.sign`` path included - pass a c2pa-signed file
   as an OUT to compare.)

    python bench/prototypes/check_outputs.py [--no-tamper] SRC OUT [OUT...]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import c2pa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import fast_sign  # noqa: E402

REPO = fast_sign.REPO
ROOT = fast_sign.TESTCA / "test-root-ca.pem"
PROVCHECK = REPO / ".venv" / "bin" / "provcheck"


def frames_digest(path: Path, picks: set[int]) -> tuple[int, dict[int, str]]:
    import hashlib

    import av

    n = 0
    got: dict[int, str] = {}
    with av.open(str(path)) as c:
        for i, frame in enumerate(c.decode(video=0)):
            n += 1
            if i in picks:
                got[i] = hashlib.sha256(frame.to_ndarray(format="yuv420p").tobytes()).hexdigest()
    return n, got


def flip(path: Path, off: int) -> Path:
    fd, name = tempfile.mkstemp(suffix=".mp4", dir="/tmp/bench")
    os.close(fd)
    out = Path(name)
    shutil.copyfile(path, out)
    with open(out, "r+b") as f:
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0x01]))
    return out


def main() -> int:
    args = sys.argv[1:]
    tamper = "--no-tamper" not in args
    args = [x for x in args if x != "--no-tamper"]
    src = Path(args[0])
    outs = [Path(p) for p in args[1:]]
    picks = {0, 1, 29, 30, 150, 299, 2999, 5999, 8999}
    src_n, src_frames = frames_digest(src, picks)
    ok = True
    for out in outs:
        print(f"== {out.name} ({out.stat().st_size:,} bytes)")
        state, fails = fast_sign.reader_state(out)
        print(f"  raw Reader: {state} {fails}")
        ok &= state == "Trusted"
        p = subprocess.run(
            [
                str(PROVCHECK),
                "--format",
                "json",
                "--no-default-trust",
                "--trust",
                str(ROOT),
                str(out),
            ],
            capture_output=True,
            text=True,
        )
        r = json.loads(p.stdout)["results"][0]
        print(f"  provcheck: {r['verdict']} ai={r['ai_generated']} exit={p.returncode}")
        ok &= r["verdict"] == "trusted"
        n, frames = frames_digest(out, picks)
        same = n == src_n and frames == src_frames
        print(f"  decode: {n} frames (source {src_n}); sampled frames identical: {same}")
        ok &= same
        with open(out, "rb") as f:
            boxes = fast_sign.walk(f, 0, out.stat().st_size)
            xmp_off = None
            for b in boxes:
                if b.kind == b"uuid":
                    f.seek(b.offset + b.header)
                    if f.read(16) == fast_sign.XMP_UUID:
                        xmp_off = b.offset + b.header + 16 + 40
        print("  layout: " + ", ".join(f"{b.kind.decode()}@{b.offset}+{b.size}" for b in boxes))
        mdat = next(b for b in boxes if b.kind == b"mdat")
        moov = next(b for b in boxes if b.kind == b"moov")
        spots = {
            "ftyp (c2pa-rs default-excludes /ftyp)": 10,
            "mdat payload start (+16)": mdat.offset + 16,
            "mdat header+8 (first excluded-from-leaves byte)": mdat.offset + mdat.header + 2,
            "mdat middle": mdat.offset + mdat.size // 2,
            "mdat last byte": mdat.end - 1,
            "moov": moov.offset + moov.size // 2,
        }
        if xmp_off:
            spots["xmp packet"] = xmp_off
        for what, off in spots.items() if tamper else ():
            t = flip(out, off)
            try:
                st, fl = fast_sign.reader_state(t)
            except c2pa.C2paError as exc:
                st, fl = "error", [str(exc)[:80]]
            finally:
                t.unlink()
            detected = st != "Trusted"
            print(f"  flip {what:<48} -> {st} {fl[:2]}")
            if not what.startswith("ftyp"):  # /ftyp is excluded for every c2pa-signed MP4
                ok &= detected
    print("ALL CHECKS PASSED" if ok else "SOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
