"""A perceptual video fingerprint that survives what sharing does to a clip.

``org.provcheck.vphash.v1`` is provcheck's own algorithm, recorded as the ``alg`` of a
C2PA ``c2pa.soft-binding`` assertion:

1. Decode the first video stream with PyAV. Time is each frame's presentation time
   relative to the first frame, so a remux, another frame rate or a container with a
   start offset changes nothing.
2. Cut the timeline into windows of ``SAMPLE_PERIOD`` (0.25 s). The first frame in each
   quarter of a window is shrunk to 64x64 grey (area filter) and the window's frames
   are averaged: a sample then hardly depends on the frame rate or on which frames an
   encoder kept, and at most 16 frames a second are converted.
3. Per window, drop a 3% border, weight the rest towards the centre (full weight
   within 80% of the half-width, none beyond 120%: corners, where logos sit, do not
   count, and borders, which a crop moves most, count less) and take its 2-D DCT-II.
   The 64 bits are the 64 lowest-frequency AC coefficients (``u + v <= 10``) compared
   with their median: coarse structure that re-encoding, scaling and crops keep.
4. Windows whose picture is nearly flat (black frames, fades) say nothing and are
   left out; the timestamps record which windows are present.

``compare`` scores every whole-window time offset by the sample pairs it lines up
within a Hamming distance, so trims at either end are found, then checks the best
few: enough matching samples, a fair share of the overlap, several *distinct*
matching samples and, above all, a positive *temporal correlation*: after removing
each clip's per-bit mean (what a static background or a still picture contributes),
the hash bits of the two clips must change together over time. Two unrelated clips on
one static background agree sample by sample but not in how they change.

Decoding is bounded in media time, frames, packets and wall-clock time; input that
cannot be decoded raises :class:`~provenance.errors.InputError` naming the file.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import math
import os
import struct
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import InputError, ProvenanceError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "ALGORITHM",
    "SAMPLE_PERIOD",
    "SOFT_BINDING_LABEL",
    "FingerprintError",
    "Match",
    "VideoFingerprint",
    "compare",
    "compute",
    "from_soft_binding",
    "soft_binding_assertion",
]

ALGORITHM = "org.provcheck.vphash.v1"
SOFT_BINDING_LABEL = "c2pa.soft-binding"
SAMPLE_PERIOD = 0.25  # seconds per sample window; part of the algorithm, never change in v1

_GRID = 64  # every frame is shrunk to _GRID x _GRID grey before anything else
_MARGIN = 2  # grid cells dropped on each side (3%; 88% of the area kept): borders, logos
_FREQS = 11  # DCT rows/columns computed; the 64 bits come from u + v <= 10
_TAPER_FROM, _TAPER_TO = 0.8, 1.2  # centre weighting, in half-widths from the centre
_FLAT_STD = 2.0  # a window whose weighted grey levels vary less (RMS, 0..255) is left out
_PICKS_PER_WINDOW = 4  # frames averaged per window at most: the first of each quarter

# Matching. Hamming distances are out of 64: unrelated content sits near 32, a 5% crop
# on every side costs about 8, a re-encode 2-4.
MAX_DISTANCE = 16  # a sample pair "matches" at or below this distance
MIN_MATCHES = 8  # matching samples needed: 2 s of content
MIN_MATCH_RATIO = 0.5  # of the samples the two fingerprints share in time
MIN_CORRELATION = 0.3  # temporal correlation; unrelated clips stay below ~0.25
MIN_DISTINCT = 3  # matching samples that differ from each other by more than _DISTINCT_BITS
_DISTINCT_BITS = 8
_OFFSETS_TRIED = 3

# Decoding bounds: never a hang, never unbounded work on hostile input.
MAX_SECONDS = 300.0
MAX_FRAMES = 20_000
_MAX_PACKETS = 100_000
_MAX_BAD_PACKETS = 50
TIMEOUT = 120.0

# What PyAV raises besides av.FFmpegError on hostile input.
_AV_ERRORS: tuple[type[Exception], ...] = (OSError, ValueError, RuntimeError, MemoryError)

_MAGIC = b"VPH1"
_HEADER = struct.Struct(">4sHII")  # magic, period ms, duration ms, slot count


class FingerprintError(ProvenanceError):
    """Fingerprint bytes or a soft-binding assertion are malformed."""


@dataclass(frozen=True)
class VideoFingerprint:
    """A clip's perceptual fingerprint: one 64-bit hash per informative sample window.

    ``timestamps[i]`` is the start (seconds, from the first frame) of the window that
    ``hashes[i]`` describes; windows are ``SAMPLE_PERIOD`` long and uninformative ones
    (flat frames) are absent, so the timestamps need not be evenly spaced.
    """

    algorithm: str
    hashes: tuple[int, ...]
    timestamps: tuple[float, ...]
    duration: float

    def __post_init__(self) -> None:
        if len(self.hashes) != len(self.timestamps):
            raise FingerprintError("a fingerprint needs one timestamp per hash")

    @property
    def slots(self) -> tuple[int, ...]:
        """The window index of each sample."""
        return tuple(round(t / SAMPLE_PERIOD) for t in self.timestamps)

    def to_bytes(self) -> bytes:
        """Compact form: header, a bitmap of present windows, then 8 bytes per hash."""
        if self.algorithm != ALGORITHM:
            raise FingerprintError(f"cannot serialise algorithm {self.algorithm!r}")
        slots = self.slots
        if any(
            abs(t - s * SAMPLE_PERIOD) > 1e-3 for t, s in zip(self.timestamps, slots, strict=True)
        ):
            raise FingerprintError("sample timestamps must lie on the sample-window grid")
        if (slots and slots[0] < 0) or any(b <= a for a, b in itertools.pairwise(slots)):
            raise FingerprintError("sample timestamps must be non-negative and increasing")
        if any(not 0 <= h < 1 << 64 for h in self.hashes):
            raise FingerprintError("sample hashes must be 64-bit unsigned integers")
        if not 0 <= self.duration < 2**32 / 1000:
            raise FingerprintError("duration out of range")
        count = (slots[-1] + 1) if slots else 0
        bitmap = bytearray((count + 7) // 8)
        for s in slots:
            bitmap[s >> 3] |= 0x80 >> (s & 7)
        header = _HEADER.pack(
            _MAGIC, round(SAMPLE_PERIOD * 1000), round(self.duration * 1000), count
        )
        return header + bytes(bitmap) + struct.pack(f">{len(self.hashes)}Q", *self.hashes)

    @classmethod
    def from_bytes(cls, data: bytes) -> VideoFingerprint:
        """Parse :meth:`to_bytes` output; raises :class:`FingerprintError` if malformed."""
        if len(data) < _HEADER.size:
            raise FingerprintError("fingerprint too short")
        magic, period_ms, duration_ms, count = _HEADER.unpack_from(data)
        if magic != _MAGIC or period_ms != round(SAMPLE_PERIOD * 1000):
            raise FingerprintError("not a org.provcheck.vphash.v1 fingerprint")
        nbitmap = (count + 7) // 8
        bitmap = data[_HEADER.size : _HEADER.size + nbitmap]
        if len(bitmap) != nbitmap:
            raise FingerprintError("fingerprint truncated")
        slots = [s for s in range(count) if bitmap[s >> 3] & (0x80 >> (s & 7))]
        body = data[_HEADER.size + nbitmap :]
        if (
            len(body) != 8 * len(slots)
            or (count and not slots)
            or (slots and slots[-1] != count - 1)
        ):
            raise FingerprintError("fingerprint length does not match its sample bitmap")
        hashes = struct.unpack(f">{len(slots)}Q", body)
        return cls(
            algorithm=ALGORITHM,
            hashes=tuple(hashes),
            timestamps=tuple(round(s * SAMPLE_PERIOD, 3) for s in slots),
            duration=duration_ms / 1000,
        )


@dataclass(frozen=True)
class Match:
    """Where two fingerprints show the same content.

    ``offset`` maps a time in ``a`` to the same content in ``b``: ``t_b = t_a + offset``.
    ``similarity`` is the share of the samples both clips have over their common span
    whose hashes match (0..1). ``correlation`` (-1..1) says how alike the two clips
    change over time once what stays constant is removed: it is what tells two clips
    on one static background apart. The ranges are in seconds of each clip.
    """

    similarity: float
    correlation: float
    a_start: float
    a_end: float
    b_start: float
    b_end: float
    offset: float
    matched_samples: int
    distinct_samples: int


# -- computing ---------------------------------------------------------------------------


def _dct_basis(n: int) -> npt.NDArray[np.float64]:
    """Rows u = 0.._FREQS-1 of the orthonormal DCT-II over n points."""
    import numpy as np

    x = np.arange(n)
    u = np.arange(_FREQS)[:, None]
    basis = np.cos(np.pi * (2 * x[None, :] + 1) * u / (2 * n)) * math.sqrt(2 / n)
    basis[0] /= math.sqrt(2)
    return np.asarray(basis, dtype=np.float64)


def _bit_order() -> list[tuple[int, int]]:
    """The 64 lowest-frequency AC coefficients, by total frequency then row."""
    coords = sorted(
        ((u, v) for u in range(_FREQS) for v in range(_FREQS) if 0 < u + v <= 10),
        key=lambda c: (c[0] + c[1], c[0]),
    )
    return coords[:64]


def _taper(n: int) -> npt.NDArray[np.float64]:
    """Centre weighting: 1 within 80% of the half-width of the centre, falling smoothly
    to 0 at 120%. The corners, where logos sit, count for nothing, and the borders,
    which a crop moves the most, count for less."""
    import numpy as np

    pos = (np.arange(n) + 0.5) / n * 2 - 1
    radius = np.hypot(pos[:, None], pos[None, :])
    ramp = np.clip((_TAPER_TO - radius) / (_TAPER_TO - _TAPER_FROM), 0.0, 1.0)
    return np.asarray(0.5 - 0.5 * np.cos(np.pi * ramp), dtype=np.float64)


def _hash_window(
    image: npt.NDArray[np.float64],
    basis: npt.NDArray[np.float64],
    taper: npt.NDArray[np.float64],
) -> int | None:
    """The 64-bit hash of one averaged grey window, or None if it is nearly flat."""
    import numpy as np

    centre = image[_MARGIN : _GRID - _MARGIN, _MARGIN : _GRID - _MARGIN]
    mean = float((centre * taper).sum() / taper.sum())
    weighted = (centre - mean) * taper
    if float(np.sqrt((weighted * weighted).mean())) < _FLAT_STD:
        return None
    coeffs = basis @ weighted @ basis.T
    rows, cols = zip(*_bit_order(), strict=True)
    values = coeffs[list(rows), list(cols)]
    bits = values > np.median(values)
    out = 0
    for bit in bits:
        out = (out << 1) | int(bit)
    return out


def compute(
    path: str | os.PathLike[str],
    *,
    max_seconds: float = MAX_SECONDS,
    max_frames: int = MAX_FRAMES,
    timeout: float = TIMEOUT,
) -> VideoFingerprint:
    """Fingerprint the first video stream of the file at ``path``.

    At most ``max_seconds`` of media, ``max_frames`` decoded frames and ``timeout``
    seconds of wall-clock time are spent: a longer clip is fingerprinted from its
    start. Raises :class:`InputError` naming the file when it is missing, not video,
    undecodable, too slow to decode, or has no informative frame.
    """
    name = os.fspath(path)
    shown = os.path.basename(name) or name
    try:
        import av
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ProvenanceError(
            "video fingerprints need PyAV and NumPy: pip install 'provcheck[video]'"
        ) from exc
    if not os.path.isfile(name):
        raise InputError(f"{shown}: not a readable file")
    errors: tuple[type[Exception], ...] = (av.FFmpegError, UnicodeError, *_AV_ERRORS)
    try:
        container = av.open(name, metadata_errors="ignore")
    except errors as exc:
        raise InputError(f"{shown}: not a video file PyAV can open ({_reason(exc)})") from exc
    try:
        return _decode(
            container, shown, max_seconds=max_seconds, max_frames=max_frames, timeout=timeout
        )
    except InputError:
        raise
    except errors as exc:
        raise InputError(f"{shown}: video cannot be decoded ({_reason(exc)})") from exc
    finally:
        container.close()


class _Windows:
    """Averages frames per sample window and hashes each window once it is complete."""

    def __init__(self) -> None:
        self.basis = _dct_basis(_GRID - 2 * _MARGIN)
        self.taper = _taper(_GRID - 2 * _MARGIN)
        self.slot = -1
        self.total: npt.NDArray[np.float64] | None = None
        self.count = 0
        self.hashes: list[int] = []
        self.stamps: list[float] = []

    def add(self, slot: int, image: npt.NDArray[np.float64]) -> None:
        if slot != self.slot:
            self._close(until=slot)
            self.slot, self.total, self.count = slot, image, 1
        elif self.total is not None:
            self.total = self.total + image
            self.count += 1

    def finish(self, duration: float) -> None:
        if self.total is not None and duration - self.slot * SAMPLE_PERIOD < SAMPLE_PERIOD / 2:
            self.total = None  # a sliver at the end: too little to stand for a window
        self._close(until=self.slot + 1)

    def _close(self, until: int) -> None:
        """Hash the open window; windows up to ``until`` without a frame of their own
        still show its last frame, so they repeat its hash."""
        if self.total is None:
            return
        h = _hash_window(self.total / self.count, self.basis, self.taper)
        if h is not None:
            for slot in range(self.slot, max(until, self.slot + 1)):
                self.hashes.append(h)
                self.stamps.append(round(slot * SAMPLE_PERIOD, 3))
        self.total = None


def _decode(
    container: Any, shown: str, *, max_seconds: float, max_frames: int, timeout: float
) -> VideoFingerprint:
    import av
    import numpy as np

    if not container.streams.video:
        raise InputError(f"{shown}: no video stream")
    stream = container.streams.video[0]
    # Frames no other frame refers to are dropped undecoded (B-frames, mostly): the
    # next frame stands in, and averaging over a window hides the gap.
    stream.codec_context.skip_frame = "NONREF"
    stream.thread_type = "AUTO"
    rate = stream.average_rate or stream.guessed_rate
    nominal_step = 1.0 / float(rate) if rate else 1 / 25
    deadline = time.monotonic() + timeout
    windows = _Windows()
    origin: float | None = None
    last_time = frame_step = 0.0
    frames = packets = bad = 0
    last_pick = -1
    past_end = False
    for packet in container.demux(stream):
        packets += 1
        if time.monotonic() > deadline:
            raise InputError(
                f"{shown}: decoding took longer than {timeout:g} s; try a smaller max_seconds"
            )
        if packets > _MAX_PACKETS:
            break
        try:
            decoded = packet.decode()
        except av.FFmpegError:
            bad += 1  # a damaged packet: the decoder resynchronises on the next keyframe
            if bad > _MAX_BAD_PACKETS:
                break
            continue
        for frame in decoded:
            t = frame.time
            if t is None:  # no timestamp: assume the nominal frame rate
                t = 0.0 if origin is None else origin + last_time + nominal_step
            if origin is None:
                origin = t
            rel = t - origin
            if rel > max_seconds or frames >= max_frames:
                past_end = True
                continue
            if rel < last_time - 1e-6:
                continue  # out of order (broken timestamps)
            if rel > last_time:
                step = rel - last_time
                frame_step = step if frame_step == 0 else min(frame_step, step)
            last_time = rel
            frames += 1
            pick = int(rel * _PICKS_PER_WINDOW / SAMPLE_PERIOD + 1e-9)
            if pick == last_pick:
                continue  # this quarter-window already has its frame
            last_pick = pick
            grey = frame.reformat(
                width=_GRID, height=_GRID, format="gray", interpolation="AREA"
            ).to_ndarray()
            windows.add(pick // _PICKS_PER_WINDOW, np.asarray(grey, dtype=np.float64))
        if past_end:
            break
    if origin is None:
        raise InputError(f"{shown}: no decodable video frames")
    duration = last_time + (frame_step or nominal_step)
    windows.finish(duration)
    if duration < SAMPLE_PERIOD / 2:
        raise InputError(f"{shown}: a still image or a single frame, not a video")
    if not windows.hashes:
        raise InputError(f"{shown}: every frame is blank; nothing to fingerprint")
    return VideoFingerprint(
        ALGORITHM, tuple(windows.hashes), tuple(windows.stamps), round(duration, 3)
    )


def _reason(exc: BaseException) -> str:
    return str(exc).strip() or type(exc).__name__


# -- comparing ---------------------------------------------------------------------------


def _popcount(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint8]:
    import numpy as np

    if hasattr(np, "bitwise_count"):  # NumPy >= 2.0
        return np.asarray(np.bitwise_count(x), dtype=np.uint8)
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
    as_bytes = np.ascontiguousarray(x).view(np.uint8).reshape(*x.shape, 8)
    return np.asarray(table[as_bytes].sum(axis=-1, dtype=np.uint8))


def _as_array(fp: VideoFingerprint) -> npt.NDArray[np.uint64]:
    import numpy as np

    return np.array(fp.hashes, dtype=np.uint64)


def _bits(hashes: npt.NDArray[np.uint64]) -> npt.NDArray[np.float64]:
    import numpy as np

    shifts = np.arange(63, -1, -1, dtype=np.uint64)
    return ((hashes[:, None] >> shifts) & np.uint64(1)).astype(np.float64)


def distances(a: VideoFingerprint, b: VideoFingerprint) -> npt.NDArray[np.uint8]:
    """Hamming distance of every sample of ``a`` (rows) to every sample of ``b``."""
    return _popcount(_as_array(a)[:, None] ^ _as_array(b)[None, :])


def compare(
    a: VideoFingerprint,
    b: VideoFingerprint,
    *,
    max_distance: int = MAX_DISTANCE,
    min_matches: int = MIN_MATCHES,
    min_ratio: float = MIN_MATCH_RATIO,
    min_correlation: float = MIN_CORRELATION,
    min_distinct: int = MIN_DISTINCT,
) -> Match | None:
    """Find the time offset under which ``a`` and ``b`` show the same content, or None.

    Every whole-window offset is scored by how many sample pairs it lines up within
    ``max_distance`` bits; the best few are checked in full. A match needs at least
    ``min_matches`` such pairs, ``min_ratio`` of the samples both clips have over the
    shared span, ``min_distinct`` mutually different matching samples, and a temporal
    correlation of at least ``min_correlation`` (see :class:`Match`).
    """
    import numpy as np

    if a.algorithm != ALGORITHM or b.algorithm != ALGORITHM or not a.hashes or not b.hashes:
        return None
    ha, hb = _as_array(a), _as_array(b)
    dist = _popcount(ha[:, None] ^ hb[None, :])
    sa = np.array(a.slots, dtype=np.int64)
    sb = np.array(b.slots, dtype=np.int64)
    shift = int(sa.max())
    offsets = (sb[None, :] - sa[:, None]) + shift  # >= 0, one bin per offset
    nbins = shift + int(sb.max()) + 1
    hit = dist <= max_distance
    # Closer pairs weigh more, so of two offsets with as many hits the tighter one wins.
    weight = np.where(hit, 1.0 - dist / (2.0 * (max_distance + 1)), 0.0)
    score = np.bincount(offsets.ravel(), weights=weight.ravel(), minlength=nbins)
    bits_a, bits_b = _bits(ha), _bits(hb)
    best: Match | None = None
    for off in np.argsort(score)[::-1][:_OFFSETS_TRIED]:
        if score[off] <= 0:
            break
        ia, ib = np.nonzero(offsets == off)
        ok = hit[ia, ib]
        matched, shared = int(ok.sum()), len(ia)
        if matched < min_matches or matched < min_ratio * shared:
            continue
        corr = _correlation(bits_a[ia], bits_b[ib])
        if corr < min_correlation:
            continue
        distinct = _distinct(ha[ia[ok]])
        if distinct < min_distinct:
            continue
        ta = np.array(a.timestamps)[ia[ok]]
        tb = np.array(b.timestamps)[ib[ok]]
        found = Match(
            similarity=round(matched / shared, 4),
            correlation=round(corr, 4),
            a_start=float(ta.min()),
            a_end=round(float(ta.max()) + SAMPLE_PERIOD, 3),
            b_start=float(tb.min()),
            b_end=round(float(tb.max()) + SAMPLE_PERIOD, 3),
            offset=round((int(off) - shift) * SAMPLE_PERIOD, 3),
            matched_samples=matched,
            distinct_samples=distinct,
        )
        if best is None or (found.similarity, found.correlation) > (
            best.similarity,
            best.correlation,
        ):
            best = found
    return best


def _correlation(bits_a: npt.NDArray[np.float64], bits_b: npt.NDArray[np.float64]) -> float:
    """Do the two clips change the same way over time? Correlation of their hash bits
    after each clip's per-bit mean is removed.

    What a scene has throughout (a static background, a still picture) cancels out;
    what remains is motion and cuts, which two unrelated clips do not share.
    """
    import numpy as np

    da = bits_a - bits_a.mean(axis=0)
    db = bits_b - bits_b.mean(axis=0)
    norm = float(np.sqrt((da * da).sum() * (db * db).sum()))
    return float((da * db).sum()) / norm if norm > 0 else 0.0


def _distinct(hashes: npt.NDArray[np.uint64]) -> int:
    """How many of ``hashes`` differ by more than _DISTINCT_BITS from each one counted before."""
    import numpy as np

    kept: list[int] = []
    for h in hashes:
        if kept and int(_popcount(np.array(kept, dtype=np.uint64) ^ h).min()) <= _DISTINCT_BITS:
            continue
        kept.append(int(h))
    return len(kept)


# -- C2PA soft binding -------------------------------------------------------------------


def soft_binding_assertion(fp: VideoFingerprint) -> dict[str, Any]:
    """The ``c2pa.soft-binding`` assertion recording ``fp``, as JSON-ready data."""
    value = base64.b64encode(fp.to_bytes()).decode("ascii")
    return {
        "label": SOFT_BINDING_LABEL,
        "data": {"alg": fp.algorithm, "blocks": [{"scope": {}, "value": value}]},
    }


def from_soft_binding(data: dict[str, Any]) -> VideoFingerprint | None:
    """The fingerprint in a soft-binding assertion, or None if it uses another algorithm.

    Accepts the whole assertion (with ``label`` and ``data``) or just its ``data``.
    Raises :class:`FingerprintError` when it claims our algorithm but is malformed.
    """
    body = data.get("data", data) if isinstance(data, dict) else None
    if not isinstance(body, dict) or body.get("alg") != ALGORITHM:
        return None
    blocks = body.get("blocks")
    if not isinstance(blocks, list) or not blocks or not isinstance(blocks[0], dict):
        raise FingerprintError("soft binding has no blocks")
    value = blocks[0].get("value")
    if not isinstance(value, str):
        raise FingerprintError("soft binding block has no value")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FingerprintError("soft binding value is not base64") from exc
    return VideoFingerprint.from_bytes(raw)
