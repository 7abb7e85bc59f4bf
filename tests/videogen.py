"""Synthetic test video made with PyAV and NumPy, and the transforms a shared clip goes through.

Used by tests/test_fingerprint.py, tests/test_repository.py and the scripts in bench/.
Every clip is real H.264 (libx264) in MP4 with an AAC sine-tone audio track. Content is
varied on purpose — gradients, smooth noise, stripes, checkers, fine grain, moving and
resizing shapes, camera pans and scene cuts — because flat colours tell a perceptual hash
nothing. A ``background_seed`` lets two unrelated clips share one static background.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

__all__ = [
    "ClipSpec",
    "TRANSFORMS",
    "cached_clip",
    "cached_transform",
    "encode_frames",
    "make_audio_only",
    "make_clip",
    "make_dimension_bomb",
    "transform",
    "write_garbage",
]

Frame = np.ndarray


@dataclass(frozen=True)
class ClipSpec:
    """What to draw: the seed decides everything else."""

    seed: int
    width: int = 160
    height: int = 120
    seconds: float = 8.0
    fps: int = 25
    background_seed: int | None = None  # a shared background: static, no pan, no cut
    audio: bool = True


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Value noise: a coarse random grid upsampled bilinearly, three channels in 0..1."""
    gh, gw = max(2, cells * h // w + 1), cells + 1
    grid = rng.random((gh, gw, 3))
    ys = np.linspace(0, gh - 1, h)
    xs = np.linspace(0, gw - 1, w)
    y0 = np.clip(ys.astype(int), 0, gh - 2)
    x0 = np.clip(xs.astype(int), 0, gw - 2)
    fy = (ys - y0)[:, None, None]
    fx = (xs - x0)[None, :, None]
    a = grid[y0][:, x0]
    b = grid[y0][:, x0 + 1]
    c = grid[y0 + 1][:, x0]
    d = grid[y0 + 1][:, x0 + 1]
    return np.asarray(a * (1 - fy) * (1 - fx) + b * (1 - fy) * fx + c * fy * (1 - fx) + d * fy * fx)


def _background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """One of several textured backgrounds, float RGB in 0..1."""
    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    kind = int(rng.integers(0, 4))
    if kind == 0:  # two-colour gradient at a random angle
        ang = rng.uniform(0, 2 * np.pi)
        t = (xx * np.cos(ang) + yy * np.sin(ang)) / np.hypot(h, w) + 0.5
        c1, c2 = rng.random(3), rng.random(3)
        bg = c1 * (1 - t[..., None]) + c2 * t[..., None]
    elif kind == 1:  # smooth blobs
        bg = _smooth_noise(rng, h, w, int(rng.integers(3, 8)))
    elif kind == 2:  # stripes over a gradient
        ang = rng.uniform(0, np.pi)
        freq = rng.uniform(0.03, 0.12)
        s = 0.5 + 0.5 * np.sin(freq * (xx * np.cos(ang) + yy * np.sin(ang)))
        bg = s[..., None] * rng.random(3) + (1 - s[..., None]) * rng.random(3)
        bg = 0.7 * bg + 0.3 * _smooth_noise(rng, h, w, 3)
    else:  # checker under blobs
        cell = int(rng.integers(8, 24)) * max(1, w // 160)
        chk = ((xx // cell + yy // cell) % 2)[..., None]
        bg = 0.5 * (chk * rng.random(3) + (1 - chk) * rng.random(3))
        bg = bg + 0.5 * _smooth_noise(rng, h, w, 4)
    grain = rng.normal(0.0, 0.04, (h, w, 1))  # fine texture, the first thing re-encoding loses
    return np.asarray(np.clip(bg + grain, 0.0, 1.0))


@dataclass(frozen=True)
class _Shape:
    kind: int  # 0 disc, 1 box, 2 ring, 3 striped box
    colour: np.ndarray
    pos: np.ndarray  # at t=0, fraction of frame
    vel: np.ndarray  # fraction of frame per second
    size: float  # fraction of the frame's smaller side
    pulse: float  # size oscillation, Hz


def _shapes(rng: np.random.Generator, n: int) -> list[_Shape]:
    return [
        _Shape(
            kind=int(rng.integers(0, 4)),
            colour=rng.random(3),
            pos=rng.random(2),
            vel=rng.uniform(-0.35, 0.35, 2),
            size=float(rng.uniform(0.12, 0.35)),
            pulse=float(rng.uniform(0.0, 0.6)),
        )
        for _ in range(n)
    ]


def _bounce(x: np.ndarray) -> np.ndarray:
    """A triangle wave in 0..1: positions that bounce off the frame's edges."""
    return np.asarray(1.0 - np.abs((x % 2.0) - 1.0))


class _Scene:
    def __init__(self, rng: np.random.Generator, h: int, w: int, *, static_bg: np.ndarray | None):
        self.h, self.w = h, w
        self.static = static_bg is not None
        pad = 0 if self.static else max(h, w) // 2
        self.bg = static_bg if static_bg is not None else _background(rng, h + pad, w + pad)
        self.pan = rng.uniform(-12, 12, 2) * (w / 160) if not self.static else np.zeros(2)
        self.pad = pad
        self.shapes = _shapes(rng, int(rng.integers(2, 6)))
        self.fade = float(rng.uniform(0.0, 0.25))
        self.yy, self.xx = np.mgrid[0:h, 0:w].astype(float)

    def render(self, t: float) -> np.ndarray:
        h, w = self.h, self.w
        if self.static:
            img = self.bg.copy()
        else:
            off = np.abs(self.pan * t) % max(self.pad, 1)
            oy, ox = int(off[1]), int(off[0])
            img = self.bg[oy : oy + h, ox : ox + w].copy()
        side = min(h, w)
        for sh in self.shapes:
            p = _bounce(sh.pos + sh.vel * t)
            cy, cx = p[1] * h, p[0] * w
            r = sh.size * side * (1.0 + 0.3 * np.sin(2 * np.pi * sh.pulse * t)) / 2
            dy, dx = self.yy - cy, self.xx - cx
            if sh.kind == 0:
                mask = dy * dy + dx * dx <= r * r
            elif sh.kind == 1:
                mask = (np.abs(dy) <= r) & (np.abs(dx) <= 1.4 * r)
            elif sh.kind == 2:
                d2 = dy * dy + dx * dx
                mask = (d2 <= r * r) & (d2 >= (0.55 * r) ** 2)
            else:
                mask = (
                    (np.abs(dy) <= r) & (np.abs(dx) <= r) & ((self.xx // 4 + self.yy // 4) % 2 == 0)
                )
            img[mask] = sh.colour
        return np.asarray(img * (1.0 - self.fade * (0.5 + 0.5 * np.sin(t))))


def _frames(spec: ClipSpec) -> Iterator[tuple[float, Frame]]:
    rng = np.random.default_rng(spec.seed)
    h, w = spec.height, spec.width
    static_bg = None
    if spec.background_seed is not None:
        static_bg = _background(np.random.default_rng(10_000 + spec.background_seed), h, w)
    scenes = [_Scene(rng, h, w, static_bg=static_bg)]
    cut = spec.seconds + 1.0
    if static_bg is None and rng.random() < 0.4:  # a hard cut to a second scene
        scenes.append(_Scene(rng, h, w, static_bg=None))
        cut = float(rng.uniform(0.35, 0.65)) * spec.seconds
    for i in range(round(spec.seconds * spec.fps)):
        t = i / spec.fps
        scene = scenes[-1] if t >= cut else scenes[0]
        yield t, (np.clip(scene.render(t), 0, 1) * 255).astype(np.uint8)


def _add_audio(
    stream: av.audio.stream.AudioStream, seconds: float, seed: int
) -> Iterator[av.Packet]:
    rate = stream.codec_context.sample_rate
    total = int(seconds * rate)
    tone = 220.0 + 40.0 * (seed % 11)
    n = 1024
    for start in range(0, total, n):
        t = (np.arange(start, min(start + n, total)) / rate).astype(np.float32)
        data = (0.2 * np.sin(2 * np.pi * tone * t)).astype(np.float32).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(data, format="fltp", layout="mono")
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        yield from stream.encode(frame)
    yield from stream.encode(None)


def encode_frames(
    path: Path,
    frames: Iterator[tuple[float, Frame]],
    *,
    fps: int,
    codec: str = "libx264",
    crf: int = 18,
    audio_seconds: float | None = None,
    audio_seed: int = 0,
    slices: int | None = None,
) -> Path:
    """Encode (time, RGB frame) pairs; VP9 goes into WebM, anything else into ``path``'s
    container. An optional sine tone of ``audio_seconds`` is muxed after the video.
    ``slices``: H.264 pictures cut into that many slices (PyAV: one per encoder thread)."""
    fmt = "webm" if codec == "libvpx-vp9" else None
    it = iter(frames)
    t0, img0 = next(it)
    with av.open(str(path), "w", format=fmt) as out:
        # Every stream must exist before the first packet is muxed.
        vs = out.add_stream(codec, rate=fps)
        vs.height, vs.width = img0.shape[:2]
        vs.pix_fmt = "yuv420p"
        if codec == "libx264":
            vs.options = {"preset": "veryfast", "crf": str(crf)}
            if slices:  # PyAV's slice threads would cut one slice per thread
                vs.thread_type = "FRAME"
                vs.options = {**vs.options, "x264-params": f"slices={slices}"}
        else:
            vs.options = {"crf": str(crf), "b": "0", "deadline": "realtime", "cpu-used": "8"}
        vs.codec_context.time_base = Fraction(1, fps)
        audio = None
        if audio_seconds:
            audio = out.add_stream("aac" if codec == "libx264" else "libopus", rate=48000)
            audio.layout = "mono"
        for t, img in itertools.chain([(t0, img0)], it):
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = round(t * fps)
            frame.time_base = Fraction(1, fps)
            for pkt in vs.encode(frame):
                out.mux(pkt)
        for pkt in vs.encode(None):
            out.mux(pkt)
        if audio is not None and audio_seconds:
            for pkt in _add_audio(audio, audio_seconds, audio_seed):
                out.mux(pkt)
    return path


def make_clip(path: Path, spec: ClipSpec) -> Path:
    """Write one H.264 MP4 clip (with an AAC tone unless ``spec.audio`` is false)."""
    return encode_frames(
        path,
        _frames(spec),
        fps=spec.fps,
        audio_seconds=spec.seconds if spec.audio else None,
        audio_seed=spec.seed,
    )


# -- transforms: what a platform or a person does to a clip before sharing it again --------


def _decoded(path: Path) -> Iterator[tuple[float, Frame]]:
    with av.open(str(path)) as inp:
        start: float | None = None
        for frame in inp.decode(video=0):
            t = float(frame.time or 0.0)
            start = t if start is None else start
            yield t - start, frame.to_ndarray(format="rgb24")


def _fps_of(path: Path) -> int:
    with av.open(str(path)) as inp:
        rate = inp.streams.video[0].average_rate
        return round(float(rate)) if rate else 25


def _even(n: int) -> int:
    return max(2, n - n % 2)


def _remux(src: Path, dst: Path, *, audio: bool) -> Path:
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        streams = [inp.streams.video[0]] + (list(inp.streams.audio) if audio else [])
        mapping = {s.index: out.add_stream_from_template(s) for s in streams}
        for pkt in inp.demux(streams):
            if pkt.dts is None:
                continue
            pkt.stream = mapping[pkt.stream.index]
            out.mux(pkt)
    return dst


def remux(src: Path, dst: Path) -> Path:
    """Same packets, another container (MP4 -> Matroska)."""
    return _remux(src, dst.with_suffix(".mkv"), audio=True)


def strip_audio(src: Path, dst: Path) -> Path:
    """Drop the audio track, keep the video packets as they are."""
    return _remux(src, dst.with_suffix(".mp4"), audio=False)


def reencode(src: Path, dst: Path, crf: int = 32, slices: int | None = None) -> Path:
    return encode_frames(
        dst.with_suffix(".mp4"), _decoded(src), fps=_fps_of(src), crf=crf, slices=slices
    )


def vp9(src: Path, dst: Path) -> Path:
    return encode_frames(
        dst.with_suffix(".webm"), _decoded(src), fps=_fps_of(src), codec="libvpx-vp9", crf=35
    )


def _resize(img: Frame, h: int, w: int) -> Frame:
    frame = av.VideoFrame.from_ndarray(img, format="rgb24")
    out = frame.reformat(width=w, height=h, interpolation="AREA")
    return np.asarray(out.to_ndarray(format="rgb24"))


def _scaled(img: Frame, factor: float = 0.5) -> Frame:
    h, w = img.shape[:2]
    return _resize(img, _even(int(h * factor)), _even(int(w * factor)))


def _cropped(img: Frame, fraction: float = 0.05) -> Frame:
    """Cut ``fraction`` of the width and height off every side."""
    h, w = img.shape[:2]
    dy, dx = round(h * fraction), round(w * fraction)
    c = img[dy : h - dy, dx : w - dx]
    return np.ascontiguousarray(c[: _even(c.shape[0]), : _even(c.shape[1])])


def _badged(img: Frame) -> Frame:
    """A small opaque badge with a pattern in the top-right corner (~12% of the width)."""
    img = img.copy()
    h, w = img.shape[:2]
    lw, lh = max(8, w * 12 // 100), max(6, h * 8 // 100)
    y0, x0 = max(2, h // 30), w - lw - max(2, w // 30)
    yy, xx = np.mgrid[0:lh, 0:lw]
    badge = np.where(((xx // 3 + yy // 3) % 3 == 0)[..., None], 30, 240)
    img[y0 : y0 + lh, x0 : x0 + lw] = badge.astype(np.uint8)
    return img


def _per_frame(op: Callable[[Frame], Frame], crf: int = 23) -> Callable[[Path, Path], Path]:
    def apply(src: Path, dst: Path) -> Path:
        frames = ((t, op(img)) for t, img in _decoded(src))
        return encode_frames(dst.with_suffix(".mp4"), frames, fps=_fps_of(src), crf=crf)

    return apply


def trim(src: Path, dst: Path, start: float = 1.0, end: float = 1.0) -> Path:
    """Drop ``start`` seconds at the head and ``end`` seconds at the tail."""
    frames = list(_decoded(src))
    last = frames[-1][0]
    kept = ((t - start, img) for t, img in frames if start - 1e-6 <= t <= last - end + 1e-6)
    return encode_frames(dst.with_suffix(".mp4"), kept, fps=_fps_of(src), crf=23)


def change_fps(src: Path, dst: Path, fps: int = 15) -> Path:
    """Resample to another frame rate: each output frame shows the input frame of its time."""
    frames = list(_decoded(src))

    def out() -> Iterator[tuple[float, Frame]]:
        i = 0
        for k in range(int(frames[-1][0] * fps) + 1):
            t = k / fps
            while i + 1 < len(frames) and frames[i + 1][0] <= t + 1e-6:
                i += 1
            yield t, frames[i][1]

    return encode_frames(dst.with_suffix(".mp4"), out(), fps=fps, crf=23)


def _mirrored(img: Frame) -> Frame:
    return np.ascontiguousarray(img[:, ::-1])


def _boxed(img: Frame, width: int, height: int, fill: str) -> Frame:
    """Fit ``img`` into ``width`` x ``height``: black bars, or (``blur``) the picture
    itself scaled to cover the frame and blurred, as apps fill a 16:9 frame."""
    h, w = img.shape[:2]
    scale = min(width / w, height / h)
    fh, fw = _even(int(h * scale)), _even(int(w * scale))
    inner = _resize(img, fh, fw)
    if fill == "blur":
        cover = max(width / w, height / h)
        big = _resize(img, _even(int(h * cover) + 2), _even(int(w * cover) + 2))
        y, x = (big.shape[0] - height) // 2, (big.shape[1] - width) // 2
        canvas = big[y : y + height, x : x + width]
        tiny = _resize(np.ascontiguousarray(canvas), max(2, height // 16), max(2, width // 16))
        canvas = _resize(tiny, height, width)  # a strong blur: down to 1/16 and back up
    else:
        canvas = np.zeros((height, width, 3), dtype=np.uint8)
    canvas = canvas.copy()
    y, x = (height - fh) // 2, (width - fw) // 2
    canvas[y : y + fh, x : x + fw] = inner
    return canvas


def change_speed(src: Path, dst: Path, speed: float = 1.1) -> Path:
    """Play ``speed`` times as fast: every frame keeps its picture, its time shrinks."""
    fps = _fps_of(src)
    frames = ((t / speed, img) for t, img in _decoded(src))
    resampled = ((round(t * fps) / fps, img) for t, img in frames)

    def unique() -> Iterator[tuple[float, Frame]]:
        last = -1.0
        for t, img in resampled:
            if t > last:
                last = t
                yield t, img

    return encode_frames(dst.with_suffix(".mp4"), unique(), fps=fps, crf=23)


def _platform(img: Frame) -> Frame:
    return _badged(_scaled(_cropped(img, 0.04)))


TRANSFORMS: dict[str, Callable[[Path, Path], Path]] = {
    "remux (mkv)": remux,
    "audio removed": strip_audio,
    "re-encode CRF 32": reencode,
    "re-encode CRF 35": lambda s, d: reencode(s, d, crf=35),
    "VP9/WebM": vp9,
    "downscale 50%": _per_frame(_scaled),
    "crop 5% each side": _per_frame(_cropped),
    "trim 1 s both ends": trim,
    "trim 2 s both ends": lambda s, d: trim(s, d, 2.0, 2.0),
    "fps 25 -> 15": change_fps,
    "corner logo": _per_frame(_badged),
    "combined: crop 4%+50%+logo+CRF 35": _per_frame(_platform, crf=35),
    "horizontal flip": _per_frame(_mirrored),
    "pad into 9:16, black bars": _per_frame(lambda i: _boxed(i, 136, 240, "black")),
    "pad into 16:9, blurred fill": _per_frame(lambda i: _boxed(i, 320, 180, "blur")),
    "speed 1.1x": change_speed,
}


def transform(name: str, src: Path, dst: Path) -> Path:
    """Apply one of ``TRANSFORMS``; the returned path may have another suffix than ``dst``."""
    return TRANSFORMS[name](src, dst)


def write_garbage(path: Path, size: int = 4096, seed: int = 0) -> Path:
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes())
    return path


def make_audio_only(path: Path, seconds: float = 2.0) -> Path:
    """An M4A-like MP4 with an AAC tone and no video stream."""
    with av.open(str(path), "w", format="mp4") as out:
        a = out.add_stream("aac", rate=48000)
        a.layout = "mono"
        for pkt in _add_audio(a, seconds, 0):
            out.mux(pkt)
    return path


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text).strip("-")


def cached_clip(root: Path, spec: ClipSpec) -> Path:
    """``make_clip`` into ``root`` once per spec (a session-wide cache for the tests)."""
    root.mkdir(parents=True, exist_ok=True)
    name = f"s{spec.seed}-b{spec.background_seed}-{spec.width}x{spec.height}-{spec.seconds:g}s"
    path = root / f"{name}-{spec.fps}fps-{'a' if spec.audio else 'na'}.mp4"
    return path if path.exists() else make_clip(path, spec)


def cached_transform(root: Path, src: Path, name: str) -> Path:
    """``transform`` ``src`` into ``root`` once per (clip, transform)."""
    stem = f"{src.stem}--{_slug(name)}"
    done = list(root.glob(stem + ".*"))
    return done[0] if done else transform(name, src, root / stem)


def make_dimension_bomb(
    path: Path, width: int = 16000, height: int = 16000, *, header: bool = True
) -> Path:
    """A tiny MJPEG-in-MP4 file whose frames claim ``width`` x ``height`` pixels.

    A few 64x64 JPEG frames are encoded, then each frame's SOF0 size and (with
    ``header``) the container's sample-entry size are rewritten: a decoder that
    believes them allocates a giant frame (16000x16000 is ~384 MB of 4:2:0 per frame)
    for a file of a few kilobytes. Without ``header`` only the bitstream lies, so a
    check of the container's declared size alone does not catch it.
    """
    img = (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)
    with av.open(str(path), "w", format="mp4") as out:
        vs = out.add_stream("mjpeg", rate=25)
        vs.width = vs.height = 64
        vs.pix_fmt = "yuvj420p"
        for k in range(5):
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = k
            for pkt in vs.encode(frame):
                out.mux(pkt)
        for pkt in vs.encode(None):
            out.mux(pkt)
    data = bytearray(path.read_bytes())
    size = width.to_bytes(2, "big"), height.to_bytes(2, "big")
    at = 0
    while (at := data.find(b"\xff\xc0", at)) != -1:  # SOF0: length, precision, height, width
        data[at + 5 : at + 7], data[at + 7 : at + 9] = size[1], size[0]
        at += 2
    if header:
        # VisualSampleEntry: 4-byte size, the 'mp4v'/'jpeg' type, then 24 bytes before
        # width and height (16 bits each).
        for kind in (b"mp4v", b"jpeg"):
            at = data.find(kind)
            if at != -1 and data.find(b"stsd") < at:
                data[at + 28 : at + 30], data[at + 30 : at + 32] = size[0], size[1]
    path.write_bytes(bytes(data))
    return path
