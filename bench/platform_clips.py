"""Short vertical H.264+AAC clips for the platform benchmark (bench/platform_bench.py).

    python bench/platform_clips.py DIR N [--seed 1]

Each clip: 720x1280, 30 fps, 5-15 s, libx264 (veryfast, CRF 23, 2 s GOPs) plus a
48 kHz AAC tone; the content (moving gradients, shapes, noise, a scrolling text-like
pattern) and duration vary with the clip's index, so the sizes vary too. Files are
cached: an existing clip of the right name is kept.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

W, H, FPS, RATE = 720, 1280, 30, 48000
STYLES = 4


def make_segment(path: Path, style: int, seconds: int = 5, seed: int = 1) -> None:
    """One 5 s base segment; clips are remuxed from these (encoding is the slow part)."""
    import av
    import numpy as np

    rng = np.random.default_rng(seed * 1009 + style)
    tmp = path.with_name(path.name + ".part")
    # a canvas twice the frame size; frames are moving windows into it (cheap views)
    big = rng.integers(0, 256, (H // 8, W // 4, 3), dtype=np.uint8).repeat(16, 0).repeat(8, 1)
    yy, xx = np.mgrid[0 : 2 * H, 0 : 2 * W]
    if style == 0:
        canvas = ((xx + yy) % 256).astype(np.uint8)[..., None].repeat(3, -1) // 2 + big // 2
    elif style == 1:
        canvas = np.where(((yy // 24) % 2 == 0)[..., None], 230, 20).astype(np.uint8)
        canvas = canvas.repeat(3, -1) if canvas.shape[-1] == 1 else canvas
        canvas = canvas ^ (big & 31)
    elif style == 2:
        d = ((xx - W) ** 2 + (yy - H) ** 2) // 97
        canvas = np.stack([(d % 256), 255 - (d % 256), big[..., 2]], -1).astype(np.uint8)
    else:
        canvas = big
    with av.open(str(tmp), "w", format="mp4") as out:
        vs = out.add_stream("libx264", rate=FPS)
        vs.width, vs.height, vs.pix_fmt = W, H, "yuv420p"
        vs.options = {"preset": "ultrafast", "crf": "33", "g": str(FPS), "bf": "0"}
        aus = out.add_stream("aac", rate=RATE)
        aus.layout = "stereo"
        freq = 220.0 * (1 + style)
        samples, apos = 1024, 0
        for i in range(seconds * FPS):
            oy, ox = (i * 7 * (style + 1)) % H, (i * 5) % W
            img = np.ascontiguousarray(canvas[oy : oy + H, ox : ox + W])
            for pkt in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(pkt)
            while apos < (i + 1) * RATE // FPS:
                t = (np.arange(samples) + apos) / RATE
                tone = (0.2 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
                frame = av.AudioFrame.from_ndarray(
                    np.stack([tone, tone]), format="fltp", layout="stereo"
                )
                frame.sample_rate, frame.pts = RATE, apos
                for pkt in aus.encode(frame):
                    out.mux(pkt)
                apos += samples
        for pkt in vs.encode():
            out.mux(pkt)
        for pkt in aus.encode():
            out.mux(pkt)
    tmp.replace(path)


def make_clip(path: Path, segments: list[Path]) -> None:
    """Remux the segments one after the other into one MP4 (H.264 + AAC, no re-encode)."""
    import av

    tmp = path.with_name(path.name + ".part")
    with av.open(str(tmp), "w", format="mp4") as out:
        outs: dict[str, Any] = {}
        offset: dict[str, int] = {"video": 0, "audio": 0}
        for seg in segments:
            with av.open(str(seg)) as inp:
                ends = dict(offset)
                first: dict[str, int] = {}
                for s in inp.streams:
                    if s.type not in outs:
                        outs[s.type] = out.add_stream_from_template(s)
                for pkt in inp.demux():
                    if pkt.dts is None:
                        continue
                    kind = pkt.stream.type
                    # each segment starts where the previous one ended (AAC priming: dts < 0)
                    shift = offset[kind] - first.setdefault(kind, pkt.dts)
                    pkt.pts = (pkt.pts if pkt.pts is not None else pkt.dts) + shift
                    pkt.dts += shift
                    ends[kind] = max(ends[kind], pkt.dts + (pkt.duration or 1))
                    pkt.stream = outs[kind]
                    out.mux(pkt)
                offset = ends
    tmp.replace(path)


def ensure_clips(directory: Path, n: int, seed: int = 1) -> list[Path]:
    """n clips of 1-3 base segments (5, 10 or 15 s), the order varied by index."""
    directory.mkdir(parents=True, exist_ok=True)
    bases = [directory / f"segment-{k}.mp4" for k in range(STYLES)]
    for k, b in enumerate(bases):
        if not b.exists():
            make_segment(b, k, seed=seed)
    paths = [directory / f"clip-{i:04d}.mp4" for i in range(n)]
    for i, p in enumerate(paths):
        if not p.exists():
            count = 1 + i % 3
            make_clip(p, [bases[(i // 3 + j * (1 + i % 2)) % STYLES] for j in range(count)])
    return paths


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path)
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    for p in ensure_clips(a.dir, a.n, a.seed):
        print(p, p.stat().st_size, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
