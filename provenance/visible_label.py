"""A visible label burned into a video before it is signed ("AI-generated" in a corner).

Platforms show a visible label on generated clips and also carry the machine-readable
one; ``signing.sign(..., visible_label=VisibleLabel("AI-generated"))`` does both. The
video track is decoded with PyAV, the label is alpha-blended into the frames of its time
range, and the track is re-encoded with libx264 at the same size, frame timestamps and
display rotation; audio (and any other video) streams are copied packet for packet. The
labelling is then recorded in the manifest as a ``c2pa.addedText`` action, and verify
reports it (``Report.visible_labels``).

PyAV's bundled FFmpeg has no ``drawtext`` filter (no FreeType), so the text is rendered
once with Pillow into an RGBA image and blended into the Y/U/V planes with NumPy. The
label is white text on a translucent dark box: grey levels only, so the blend needs no
colour matrix (grey has U = V = 128 under BT.601 and BT.709 alike).

The text is data: any printable Unicode (right-to-left scripts are laid out by Pillow),
at most ``MAX_TEXT`` characters, never markup; control characters and bidi overrides
(which would make the burned text differ from the recorded one) are refused.
"""

from __future__ import annotations

import errno
import io
import math
import os
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from . import _regions, labels
from ._files import read_regular_file
from .errors import InputError, SigningError

__all__ = [
    "VisibleLabel",
    "LabelPlan",
    "POSITIONS",
    "MAX_TEXT",
    "LABEL_ACTION",
    "LABEL_PARAMETER",
    "parse_position",
    "plan",
    "burn",
    "label_from_action",
]

POSITIONS = ("top-left", "top-right", "bottom-left", "bottom-right", "top", "bottom", "center")
MAX_TEXT = 200
# C2PA 2.x action "c2pa.addedText": "(visible) textual content was inserted into the asset,
# such as on a text layer or as a caption" -- exactly a burned-in label. c2pa.watermarked is
# for *invisible* watermarks (soft bindings) and c2pa.edited is the catch-all, so neither
# fits as well. The label's own details go under a reverse-domain parameter key, which the
# spec allows; readers that do not know it still see a standard action.
LABEL_ACTION = labels.VISIBLE_LABEL_ACTION
LABEL_PARAMETER = "org.provcheck.visibleLabel"
_CONTAINERS = {"video/mp4": "mp4", "video/quicktime": "mov"}
# Bidi embedding/override/isolate controls and line/paragraph separators: they would make
# the pixels read differently from the text recorded in the manifest.
_REFUSED = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_MAX_FONT = 64 * 1024 * 1024  # large CJK fonts are ~20 MB
_MAX_PIXELS = 8192 * 4320  # 8K; libx264 and memory per frame stay sane
_LIMITS = {"max_pixels": str(_MAX_PIXELS)}
_MIN_PX = 8  # smallest legible text height
_CRF = 18  # visually lossless for H.264; platforms re-encode anyway
_PRESET = "veryfast"  # the encode is ~95% of the time; "fast" costs ~60% more


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise SigningError("visible label: the text must be a string")
    text = unicodedata.normalize("NFC", text.strip())
    if not text:
        raise SigningError("visible label: the text is empty")
    if len(text) > MAX_TEXT:
        raise SigningError(
            f"visible label: the text has {len(text)} characters; at most {MAX_TEXT} fit on a frame"
        )
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Zl", "Zp", "Cs", "Co", "Cn") or ch in _REFUSED:
            raise SigningError(
                f"visible label: the text contains the control or unassigned character "
                f"U+{ord(ch):04X}; write plain text"
            )
    return text


def parse_position(text: str) -> str | tuple[int, int]:
    """A named corner/edge (``top-left`` ...) or ``X,Y`` in pixels of the displayed frame."""
    t = text.strip().lower()
    if t in POSITIONS:
        return t
    m = re.fullmatch(r"(\d{1,5})\s*,\s*(\d{1,5})", t)
    if m is None:
        raise SigningError(
            f"visible label position {text!r}: use one of {', '.join(POSITIONS)} or X,Y in pixels"
        )
    return int(m.group(1)), int(m.group(2))


def _finite(value: float, what: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SigningError(f"visible label: {what} must be a number")
    v = float(value)
    if not math.isfinite(v) or not low <= v <= high:
        raise SigningError(f"visible label: {what} {value!r} is not between {low:g} and {high:g}")
    return v


@dataclass(frozen=True)
class VisibleLabel:
    """What to burn in: the text, where, how big, and when.

    ``position``: one of ``POSITIONS`` or ``(x, y)``, the box's top-left corner in pixels
    of the displayed (rotated) frame. ``size``: text height as a fraction of the displayed
    frame height (the text shrinks to fit the width). ``start``/``duration`` in seconds
    from the first frame; ``duration=None`` labels to the end. ``box_opacity`` 0 draws no
    box. ``font``: a TrueType/OpenType file (default: Pillow's bundled font, Latin only;
    give a font that covers the script of the text).
    """

    text: str
    position: str | tuple[int, int] = "top-left"
    size: float = 0.05
    start: float = 0.0
    duration: float | None = None
    opacity: float = 1.0
    box_opacity: float = 0.55
    font: Path | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", _check_text(self.text))
        pos = self.position
        if isinstance(pos, str):
            object.__setattr__(self, "position", parse_position(pos))
        elif not (
            isinstance(pos, tuple)
            and len(pos) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in pos)
        ):
            raise SigningError("visible label: position is a name or (x, y) in whole pixels")
        _finite(self.size, "size", 0.01, 0.5)
        _finite(self.start, "start", 0.0, 1e7)
        if self.duration is not None and _finite(self.duration, "duration", 0.0, 1e7) <= 0:
            raise SigningError("visible label: duration must be positive")
        _finite(self.opacity, "opacity", 0.05, 1.0)
        _finite(self.box_opacity, "box opacity", 0.0, 1.0)
        if self.font is not None:
            object.__setattr__(self, "font", Path(self.font))


@dataclass(frozen=True)
class LabelPlan:
    """A label laid out on one file: the box in displayed-frame pixels and its time range."""

    label: VisibleLabel
    source: Path
    container: str  # the muxer: "mp4" or "mov"
    display_size: tuple[int, int]  # width, height as shown (rotation applied)
    rotation: int  # 0, 90, 180, 270: the display matrix's counter-clockwise rotation
    box: tuple[int, int, int, int]  # x, y, width, height in displayed-frame pixels
    font_px: int
    start: float
    end: float | None  # None: to the end of the clip
    font_data: bytes | None = field(default=None, repr=False, compare=False)

    def action(self, agent: str) -> dict[str, Any]:
        """The ``c2pa.actions.v2`` entry recording the labelling, with where and when as a
        C2PA region of interest (spatial + temporal). No digitalSourceType: adding a label
        is not generative AI, so the AI value stays what ``ai`` says."""
        pos = self.label.position
        return {
            "action": LABEL_ACTION,
            "softwareAgent": {"name": agent},
            "description": f"visible label burned into the video: {self.label.text}",
            "changes": [
                {
                    "name": "visible label",
                    "region": [
                        _regions.spatial_range(*self.box),
                        _regions.temporal_range(self.start, self.end),
                    ],
                }
            ],
            "parameters": {
                LABEL_PARAMETER: {
                    "text": self.label.text,
                    "position": pos if isinstance(pos, str) else f"{pos[0]},{pos[1]}",
                    "size": self.label.size,
                }
            },
        }


def _av_error(path: Path, exc: BaseException) -> InputError:
    return InputError(f"{path}: cannot decode the video: {exc}")


def _font_data(label: VisibleLabel) -> bytes | None:
    if label.font is None:
        return None
    return read_regular_file(label.font, limit=_MAX_FONT, error=SigningError, what="font")


def _font(label: VisibleLabel, data: bytes | None, px: int) -> Any:
    from PIL import ImageFont

    if data is None:
        return ImageFont.load_default(size=px)
    try:
        return ImageFont.truetype(io.BytesIO(data), px)
    except OSError as exc:
        raise SigningError(f"{label.font}: not a usable TrueType/OpenType font ({exc})") from None


def _layout(
    label: VisibleLabel, font: bytes | None, dw: int, dh: int
) -> tuple[tuple[int, int, int, int], int]:
    """The box (x, y, w, h) on a dw x dh displayed frame and the font size in pixels. Even
    coordinates and sizes keep the box on 4:2:0 chroma samples."""
    px = max(_MIN_PX, round(label.size * dh))
    margin = round(0.03 * min(dw, dh))
    for _ in range(40):  # shrink until the box fits the width
        pad = max(2, round(0.3 * px))
        left, top, right, bottom = _font(label, font, px).getbbox(label.text)
        w, h = (right - left) + 2 * pad, (bottom - top) + 2 * pad
        if w <= dw - 2 * margin or px <= _MIN_PX:
            break
        px = max(_MIN_PX, int(px * (dw - 2 * margin) / w))
    w, h = min(w, dw), min(h, dh)
    pos = label.position
    if isinstance(pos, tuple):
        x, y = pos
        if x + w > dw or y + h > dh:
            raise SigningError(
                f"visible label at {x},{y}: a {w}x{h} box does not fit the {dw}x{dh} frame"
            )
    else:
        x = {"left": margin, "right": dw - w - margin}.get(pos.rsplit("-", 1)[-1], (dw - w) // 2)
        y = {"top": margin, "bottom": dh - h - margin}.get(pos.split("-", 1)[0], (dh - h) // 2)
    x, y = max(0, x) & ~1, max(0, y) & ~1
    w, h = min(w + (w & 1), dw - x) & ~1, min(h + (h & 1), dh - y) & ~1
    return (x, y, max(w, 2), max(h, 2)), px


def plan(path: str | os.PathLike[str], mime: str, label: VisibleLabel) -> LabelPlan:
    """Lay ``label`` out on the video at ``path`` (its container and first frame are
    read): refuses a file that is not MP4/MOV, has no video stream, a frame over 8K or a
    start after its end."""
    import av

    src = Path(path)
    container = _CONTAINERS.get(mime)
    if container is None:
        raise SigningError(
            f"{src}: a visible label can be burned into MP4 or MOV video only, not {mime}"
        )
    try:
        with av.open(str(src), metadata_errors="ignore", options=_LIMITS) as inp:
            if not inp.streams.video:
                raise SigningError(f"{src}: has no video stream to put a visible label on")
            vs = inp.streams.video[0]
            width, height = vs.codec_context.width, vs.codec_context.height
            if not width or not height:
                raise SigningError(
                    f"{src}: the video stream has no usable frame size (none, or over 8K)"
                )
            if width * height > _MAX_PIXELS:  # checked before a frame is decoded
                raise SigningError(
                    f"{src}: a {width}x{height} frame is larger than a visible label is burned "
                    f"into (at most {_MAX_PIXELS // 1_000_000} megapixels)"
                )
            rotation = _stream_rotation(inp, vs)
            length = _duration(inp, vs)
    except av.FFmpegError as exc:
        raise _av_error(src, exc) from None
    dw, dh = (height, width) if rotation in (90, 270) else (width, height)
    if label.start > 0 and length is not None and label.start >= length:
        raise SigningError(
            f"visible label: starts at {label.start:g} s but {src} is {length:.2f} s long"
        )
    end = None if label.duration is None else label.start + label.duration
    if end is not None and length is not None and end >= length:
        end = None  # to the end: say so rather than a time past it
    font = _font_data(label)
    box, px = _layout(label, font, dw, dh)
    return LabelPlan(label, src, container, (dw, dh), rotation, box, px, label.start, end, font)


def _duration(inp: Any, vs: Any) -> float | None:
    if vs.duration is not None and vs.time_base is not None:
        return float(vs.duration * vs.time_base)
    if inp.duration is not None:
        return float(inp.duration) / 1_000_000
    return None


def _stream_rotation(inp: Any, vs: Any) -> int:
    """The display rotation of the first frame (0/90/180/270), read from a decoded frame."""
    import av

    _limit(vs)
    try:
        for frame in inp.decode(vs):
            return _quarter(frame.rotation)
    except av.FFmpegError:  # a file that does not decode fails in burn(), named
        return 0
    return 0


def _limit(stream: Any) -> None:
    """The decoder itself refuses pictures over the bound: a bitstream can claim a larger
    frame than the container header says (a dimension bomb)."""
    ctx = stream.codec_context
    ctx.options = {**ctx.options, **_LIMITS}


def _quarter(rotation: object) -> int:
    try:
        deg = float(rotation)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0
    return round(deg / 90.0) % 4 * 90 if math.isfinite(deg) else 0


def coded_origin(
    box: tuple[int, int, int, int], k: int, coded_w: int, coded_h: int
) -> tuple[int, int]:
    """Row and column, in the coded frame, of the top-left corner of ``box`` (x, y, w, h in
    the displayed frame) once it is turned back by ``k`` quarter turns (display is
    ``numpy.rot90(coded, k)``, counter-clockwise)."""
    x, y, w, h = box
    if k == 1:
        return x, coded_w - y - h
    if k == 2:
        return coded_h - y - h, coded_w - x - w
    if k == 3:
        return coded_h - x - w, y
    return y, x


class _Overlay:
    """The label rendered once, in coded-frame orientation, as blend factors per plane."""

    def __init__(self, p: LabelPlan, coded_w: int, coded_h: int, full_range: bool) -> None:
        import numpy as np
        from PIL import Image, ImageDraw

        w, h = p.box[2], p.box[3]
        img = Image.new("RGBA", (w, h), (0, 0, 0, round(255 * p.label.box_opacity)))
        text = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        font = _font(p.label, p.font_data, p.font_px)
        left, top, right, bottom = font.getbbox(p.label.text)
        draw = ImageDraw.Draw(text)
        draw.text(
            ((w - (right - left)) / 2 - left, (h - (bottom - top)) / 2 - top),
            p.label.text,
            font=font,
            fill=(255, 255, 255, round(255 * p.label.opacity)),
        )
        rgba = np.asarray(Image.alpha_composite(img, text), dtype=np.float32) / 255.0
        # turn the patch into the coded orientation (display = rot90(coded, k))
        k = p.rotation // 90
        patch = np.rot90(rgba, -k)
        r0, c0 = coded_origin(p.box, k, coded_w, coded_h)
        r1, c1 = r0 + patch.shape[0], c0 + patch.shape[1]
        if r0 < 0 or c0 < 0 or r1 > coded_h or c1 > coded_w:
            raise SigningError(f"{p.source}: the label does not fit the decoded frame")
        self.rows, self.cols = slice(r0, r1), slice(c0, c1)
        a = np.ascontiguousarray(patch[..., 3])
        g = patch[..., 0]
        luma = g * 255.0 if full_range else 16.0 + g * 219.0
        self.keep_y = 1.0 - a
        self.add_y = luma * a
        # chroma at half resolution: the mean alpha of each 2x2 block pulls U, V to grey
        hh, hw = a.shape[0] // 2, a.shape[1] // 2
        a2 = a[: hh * 2, : hw * 2].reshape(hh, 2, hw, 2).mean(axis=(1, 3))
        self.crows, self.ccols = slice(r0 // 2, r0 // 2 + hh), slice(c0 // 2, c0 // 2 + hw)
        self.keep_c = 1.0 - a2
        self.add_c = 128.0 * a2

    def apply(self, frame: Any) -> None:
        """Blend into a yuv420p/yuvj420p frame's planes in place."""
        import numpy as np

        for i, plane in enumerate(frame.planes):
            buf = np.frombuffer(plane, dtype=np.uint8).reshape(plane.height, plane.line_size)
            if i == 0:
                region = buf[self.rows, self.cols]
                keep, add = self.keep_y, self.add_y
            else:
                region = buf[self.crows, self.ccols]
                keep, add = self.keep_c, self.add_c
            out = region * keep + add
            np.clip(out + 0.5, 0, 255, out=out)
            region[...] = out.astype(np.uint8)


def burn(p: LabelPlan, dest: str | os.PathLike[str]) -> int:
    """Write ``p.source`` with the label burned in to ``dest`` (a new file); returns the
    number of frames labelled. Frames are streamed: memory stays at a few frames plus the
    encoder's lookahead, whatever the length of the clip."""
    import av

    src, out_path = p.source, Path(dest)
    try:
        with (
            av.open(str(src), metadata_errors="ignore", options=_LIMITS) as inp,
            av.open(str(out_path), "w", format=p.container) as out,
        ):
            return _transcode(p, inp, out)
    except av.FFmpegError as exc:
        if exc.filename == str(out_path) or exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            raise SigningError(
                f"{out_path.parent}: cannot write the labelled video: {exc.strerror or exc} "
                "(nothing was written to the destination)"
            ) from None
        raise _av_error(src, exc) from None


def _copyable(stream: Any) -> bool:
    return stream.type in ("audio", "video") and stream.codec_context is not None


def _transcode(p: LabelPlan, inp: Any, out: Any) -> int:
    import av

    vin = inp.streams.video[0]
    _limit(vin)
    ctx = vin.codec_context
    # 8-bit 4:2:0 out (what H.264 players all take); JPEG-range input stays full range
    enc_fmt = "yuvj420p" if ctx.pix_fmt == "yuvj420p" else "yuv420p"
    size = (ctx.width, ctx.height)
    for key, value in inp.metadata.items():
        if key not in ("major_brand", "minor_version", "compatible_brands", "encoder"):
            out.metadata[key] = value
    mapping: dict[int, Any] = {}
    vout = None
    for s in inp.streams:  # same order, so track ids stay the same
        if s is vin:
            rate = vin.average_rate or vin.guessed_rate or Fraction(25)
            vout = out.add_stream("libx264", rate=rate)
            vout.width, vout.height = ctx.width, ctx.height
            vout.pix_fmt = enc_fmt
            vout.time_base = vin.time_base
            vout.codec_context.time_base = vin.time_base
            vout.options = {"crf": str(_CRF), "preset": _PRESET}
            if ctx.sample_aspect_ratio:
                vout.codec_context.sample_aspect_ratio = ctx.sample_aspect_ratio
            for attr in ("color_range", "colorspace", "color_primaries", "color_trc"):
                try:
                    setattr(vout.codec_context, attr, getattr(ctx, attr))
                except (AttributeError, TypeError, ValueError):
                    pass
            if p.rotation:
                vout.set_display_rotation(p.rotation)
            _copy_stream_tags(vin, vout)
            mapping[s.index] = vout
        elif _copyable(s):
            t = out.add_stream_from_template(s)
            _copy_stream_tags(s, t)
            mapping[s.index] = t
    assert vout is not None
    overlay: _Overlay | None = None
    labelled = 0
    first_pts: int | None = None
    start = round(p.start / vin.time_base) if vin.time_base else 0
    end = None if p.end is None or not vin.time_base else round(p.end / vin.time_base)
    for packet in inp.demux([s for s in inp.streams if s.index in mapping]):
        if packet.stream is not vin:
            if packet.dts is None:
                continue  # the demuxer's end-of-stream marker
            packet.stream = mapping[packet.stream.index]
            out.mux(packet)
            continue
        for frame in _decode(packet):
            if first_pts is None and frame.pts is not None:
                first_pts = frame.pts
            if (frame.width, frame.height) != size:
                raise SigningError(
                    f"{p.source}: the frame size changes inside the video "
                    f"({size[0]}x{size[1]} to {frame.width}x{frame.height}); "
                    "a visible label cannot be burned into it"
                )
            if frame.format.name != enc_fmt:
                frame = _reformatted(frame, enc_fmt)
            t = (frame.pts or 0) - (first_pts or 0)
            if t >= start and (end is None or t < end):
                if overlay is None:
                    full = enc_fmt == "yuvj420p" or frame.color_range == 2  # AVCOL_RANGE_JPEG
                    overlay = _Overlay(p, frame.width, frame.height, full)
                frame.make_writable()
                overlay.apply(frame)
                labelled += 1
            frame.pict_type = av.video.frame.PictureType.NONE
            out.mux(vout.encode(frame))
    out.mux(vout.encode(None))
    return labelled


def _reformatted(frame: Any, fmt: str) -> Any:
    new = frame.reformat(format=fmt)
    new.pts, new.time_base = frame.pts, frame.time_base
    return new


def _decode(packet: Any) -> Iterator[Any]:
    yield from packet.decode()


def _copy_stream_tags(src: Any, dst: Any) -> None:
    for key in ("language", "handler_name", "title"):
        if key in src.metadata:
            dst.metadata[key] = src.metadata[key]


def label_from_action(act: Mapping[str, Any]) -> dict[str, Any] | None:
    """What a labelling action says, as data (text, position, start, end, region), or None
    when ``act`` is not provcheck's labelling action (another tool's ``c2pa.addedText``,
    e.g. a caption, is not taken for a label)."""
    if act.get("action") != LABEL_ACTION:
        return None
    params = act.get("parameters")
    ours = params.get(LABEL_PARAMETER) if isinstance(params, Mapping) else None
    text = ours.get("text") if isinstance(ours, Mapping) else None
    if not isinstance(text, str) or not text:
        return None
    start = end = None
    region = None
    changes = act.get("changes")
    for roi in changes[:10] if isinstance(changes, list) else []:
        for rng in (roi.get("region") if isinstance(roi, Mapping) else None) or []:
            if not isinstance(rng, Mapping):
                continue
            if rng.get("type") == "temporal" and isinstance(rng.get("time"), Mapping):
                start = _regions.parse_npt(rng["time"].get("start"))
                end = _regions.parse_npt(rng["time"].get("end"))
            region = _regions.read_rectangle(rng) or region
    position = ours.get("position") if isinstance(ours, Mapping) else None
    return {
        "text": text[:MAX_TEXT],
        "position": position[:40] if isinstance(position, str) else None,
        "start": start,
        "end": end,
        "region": region,
    }
