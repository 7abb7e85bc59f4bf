"""How long burning a visible label costs, per second of video, next to plain decoding.

    .venv/bin/python bench/visible_label.py [--width 720] [--height 1280] [--seconds 10]

Makes one H.264/AAC clip with tests/videogen.py (portrait 720x1280 by default, as short-video
platforms serve), then times, best of ``--rounds``:

* ``ffmpeg decode``: ``ffmpeg -i clip -f null -`` (the floor: decoding alone);
* ``pyav decode``: the same decode through PyAV, as ``burn`` does it;
* ``ffmpeg x264``: ``ffmpeg`` re-encoding the video with the same libx264 settings and
  copying the audio, without a label (what any burn-in pays at least);
* ``burn``: ``provenance.visible_label.burn`` (decode, blend, encode, copy audio);
* ``sign``/``sign+label``: ``provenance.sign`` without and with ``visible_label``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from provenance import PemSigner, VisibleLabel, sign  # noqa: E402
from provenance.visible_label import _CRF, _PRESET, burn, plan  # noqa: E402
from tests.videogen import ClipSpec, make_clip  # noqa: E402


def best(rounds: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def _pyav_decode(path: Path) -> None:
    import av

    with av.open(str(path)) as c:
        for _ in c.decode(video=0):
            pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, default=720)
    ap.add_argument("--height", type=int, default=1280)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    ca = HERE.parent / "fixtures" / "testca"
    signer = PemSigner.from_files(ca / "test-signer.key", ca / "test-signer-chain.pem")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        clip = make_clip(
            d / "clip.mp4",
            ClipSpec(seed=7, width=args.width, height=args.height, seconds=args.seconds, fps=30),
        )
        label = VisibleLabel("AI-generated")
        layout = plan(clip, "video/mp4", label)
        null = ["ffmpeg", "-v", "error", "-y", "-threads", "0", "-i", str(clip)]
        rows = {
            "ffmpeg decode": best(
                args.rounds, lambda: subprocess.run([*null, "-f", "null", "-"], check=True)
            ),
            "pyav decode": best(args.rounds, lambda: _pyav_decode(clip)),
            "ffmpeg x264": best(
                args.rounds,
                lambda: subprocess.run(
                    [
                        *null,
                        "-c:v",
                        "libx264",
                        "-preset",
                        _PRESET,
                        "-crf",
                        str(_CRF),
                        "-c:a",
                        "copy",
                        str(d / "ff.mp4"),
                    ],
                    check=True,
                ),
            ),
            "burn": best(args.rounds, lambda: burn(layout, d / "burn.mp4")),
            "sign": best(
                args.rounds,
                lambda: sign(clip, d / "s.mp4", signer=signer, ai="fully", force=True),
            ),
            "sign+label": best(
                args.rounds,
                lambda: sign(
                    clip, d / "sl.mp4", signer=signer, ai="fully", force=True, visible_label=label
                ),
            ),
        }
        print(
            f"{args.width}x{args.height}, {args.seconds:g} s at 30 fps, nproc {os.cpu_count()}, "
            f"load {os.getloadavg()[0]:.1f}; best of {args.rounds}"
        )
        for name, secs in rows.items():
            print(f"  {name:<14} {secs:7.2f} s   {secs / args.seconds:6.3f} s per second of video")


if __name__ == "__main__":
    main()
