"""A perceptual video fingerprint that survives what sharing does to a clip.

Two algorithms, each recorded as the ``alg`` of a C2PA ``c2pa.soft-binding`` assertion:

``org.provcheck.vphash.v2`` (made by :func:`compute` since 0.2):

1. Decode the first video stream with PyAV (bounded: frame size, media time, frames,
   packets and wall-clock time). Time is each frame's presentation time relative to the
   first frame, so a remux, another frame rate or a container start offset changes
   nothing. The timeline is cut into windows of ``SAMPLE_PERIOD`` (0.25 s); the first
   frame of each quarter of a window is shrunk once (one reused scaler) to 128x128
   grey, and a window's frames are averaged.
2. Borders are found over the whole clip, like ffmpeg's ``cropdetect``: rows and
   columns at the edges with hardly any detail (black bars, a solid colour, or the
   blurred copy of the picture that apps fill a 16:9 frame with) are cut off, so a
   vertical clip padded into 16:9 or 1:1 hashes like the clip itself. Pads are
   centred: a border found on one side is cut on both only where the other side
   shows a fill ending in a step at the same place. A fill as busy as the picture (a
   star field, grain) hides its pad: a query is also described, with its own motion,
   inside the centred box a 9:16, 16:9 or 1:1 picture would fill in its frame where
   the border finder found no such pad (*padded* views, made for queries, never
   stored). A caption box or bar laid over the picture outweighs faint or smooth
   content (a star field, a dark photo): where a query shows horizontal bands between
   two long straight edges (or an edge and the frame), it is also described with those
   bands filled in from the rows above and below (the *filled* view, queries only).
3. Each window's content is resampled to 32x32, weighted towards the centre (corners,
   where logos and captions sit, count for little) and its 2-D DCT taken. The
   descriptor is 64 low-frequency coefficients: 32 *even* in the horizontal frequency
   (unchanged by a horizontal mirror) and 32 *odd* (negated by a mirror), stored as
   signed bytes. Its 64-bit hash (the repository's index key) is the even half
   compared with its median and the odd half's signs, so a mirrored copy's hash is
   the original's with the odd half inverted: mirrors are found by comparing against
   a flipped variant, never by hashing twice.
4. The same is done for the centre of the content (:data:`_ZOOM` of it cut off on
   every side): what a copy cropped by about 10% per side shows. These *zoomed*
   descriptors are stored beside the others; a cropped copy is compared with them.
   A copy cropped on some sides only shows the original's centre off its own centre:
   every fingerprint also carries nine *shifted* views of itself (the part of it that
   would be the original's centre had it been cropped from the left, right, top and
   bottom, and combinations, or by half as much on every side), compared with the
   original's centre. They are made for queries and never stored.
5. A *motion signature* per window: how much each of 4x4 parts of the content changed
   since the window before (16 bytes). It tells apart stretches of one fixed camera's
   footage, which look the same but do not sway, flicker or pass at the same times.
6. A *motion path* per window: how the picture as a whole moved since the window
   before (across, down, in or out; 3 bytes), fitted to the change where a pan or a
   zoom explains it. One photo animated two ways differs in it where the descriptors
   alone agree (a pan, and the same pan with a zoom).
7. Nearly flat windows (black frames, fades) say nothing and are left out.

:func:`compare` finds, over both orientations and playback speeds 0.9-1.1x, the time
alignment under which most windows' hashes agree, then judges it on the descriptors:
the share of aligned windows whose descriptors agree (cosine), and -- when either clip
moves -- whether both change the same way over time (temporal correlation of the
descriptors once each clip's mean is removed: two clips on one static background, or
one photo animated with two different motions, agree frame by frame but not in how
they change). When both clips move, their motion signatures must agree too, and agree
best at this alignment (or, where the motion signatures are too coarse to tell, the
descriptors change together clearly best at it), and where both pan or zoom, their
mean motion paths must agree. A clip in which nothing moves is
matched on its content alone, with a stricter threshold. The :class:`Match` says which
orientation and speed matched, where, and how closely.

Every match also carries its ``closeness`` (the mean descriptor cosine over the aligned
windows). A repository compares the closeness of the originals a copy matches: when a
second original is about as close as the best (a fixed camera filming an unchanging
scene gives segments that look the same), the best is marked with its ``rivals`` and
no original is named (see :data:`RIVAL_RATIO`).

``org.provcheck.vphash.v1`` (provcheck 0.1) stays readable and comparable: entries
registered with it keep matching queries fingerprinted with ``algorithm=ALGORITHM_V1``.
:func:`compute_many` makes both from one decode, so a clip can be looked up against
entries of either algorithm.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import itertools
import math
import os
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import InputError, ProvenanceError

_T = TypeVar("_T")

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "ALGORITHM",
    "ALGORITHM_V1",
    "ALGORITHM_V2",
    "ALGORITHMS",
    "MAX_PIXELS",
    "RIVAL_RATIO",
    "SAMPLE_PERIOD",
    "SOFT_BINDING_LABEL",
    "FingerprintError",
    "Match",
    "VideoFingerprint",
    "compare",
    "compute",
    "compute_many",
    "compare_detail",
    "from_soft_binding",
    "mark_rivals",
    "query_hashes",
    "rank_key",
    "soft_binding_assertion",
]

ALGORITHM_V1 = "org.provcheck.vphash.v1"
ALGORITHM_V2 = "org.provcheck.vphash.v2"
ALGORITHM = ALGORITHM_V2  # what compute() (and so signing) makes unless asked otherwise
ALGORITHMS = (ALGORITHM_V2, ALGORITHM_V1)
SOFT_BINDING_LABEL = "c2pa.soft-binding"
SAMPLE_PERIOD = 0.25  # seconds per sample window; part of both algorithms, never change

_PICKS_PER_WINDOW = 4  # frames averaged per window at most: the first of each quarter

# v1 parameters (frozen: stored v1 fingerprints depend on them).
_GRID = 64  # every frame is shrunk to _GRID x _GRID grey before anything else
_MARGIN = 2  # grid cells dropped on each side (3%; 88% of the area kept): borders, logos
_FREQS = 11  # DCT rows/columns computed; the 64 bits come from u + v <= 10
_TAPER_FROM, _TAPER_TO = 0.8, 1.2  # centre weighting, in half-widths from the centre
_FLAT_STD = 2.0  # a window whose weighted grey levels vary less (RMS, 0..255) is left out

# v2 parameters (frozen once released: stored v2 fingerprints depend on them).
_GRID2 = 128  # decode grid: fine enough to find borders, cheap to keep per window
_SIDE2 = 32  # content grid the descriptor is taken on
_FREQS2 = 12  # DCT rows/columns computed for the descriptor
_HALF = 32  # coefficients per half (even / odd horizontal frequency)
_BORDER_DETAIL = 0.45  # a border has less detail (mean) than this share of the centre's ...
_EDGE = 1.5  # ... and ends at an edge this many times as strong as the centre's detail
_FLAT_BORDER = 0.05  # or it has hardly any detail at all (bars of one colour)
_STEP = 4.0  # the other side of a found pad: a step this many times its fill's detail
_CONFIRM_EDGE = 0.5  # ... and this share of the centre's detail
_MIN_CONTENT = 0.25  # never cut more than 75% of the width or height as border
_FLIP_MASK = 0xFFFFFFFF00000000  # the hash bits a horizontal mirror inverts (odd half)
_ZOOM = 0.1  # the zoomed descriptors: the content's centre, this share cut off per side
# The motion signature: how much each cell of a _MOTION_CELLS x _MOTION_CELLS split of the
# content changed since the window before (mean absolute grey difference on a
# _MOTION_GRID grid), log-quantised to a byte. It tells apart stretches of one fixed
# camera's footage, which look the same but do not sway, flicker or pass at the same times.
_MOTION_CELLS = 4
_MOTION_GRID = 64
_MOTION_SCALE = 25.0  # byte = round(_MOTION_SCALE * log2(1 + 4 * difference))
_MOTION_UNKNOWN = 255  # the first window: nothing before it to differ from
_PATH_GRID = 32  # the whole picture's motion is estimated on this grid of the content
_PATH_BYTES = 3  # across, down, in/out
_PATH_SCALE = 100.0  # byte = round(_PATH_SCALE * grid cells moved since the window before)
_PATH_UNKNOWN = -128  # the first window, or a change no pan or zoom explains
_PATH_FIT = 0.45  # share of a window's brightness change the fitted move must explain
# Shifted views, per axis (start, end) as shares of the content: what the original's
# centre (_ZOOM cut per side) is in a copy cropped by _ZOOM on one side only (or on
# both: the whole). Every combination but (whole, whole) is a view; and the centre a
# copy cropped by half as much on every side shows of it (the whole and the original's
# centre differ in scale from such a copy by 11%, enough to lose a zoom or a pan).
_AXIS_VIEWS = ((0.0, 1.0), (0.0, (1 - 2 * _ZOOM) / (1 - _ZOOM)), (_ZOOM / (1 - _ZOOM), 1.0))
_HALF_CROP = (_ZOOM / (1 - _ZOOM) / 2, 1 - _ZOOM / (1 - _ZOOM) / 2)
_SHIFTS = (
    *((y, x) for y in _AXIS_VIEWS for x in _AXIS_VIEWS if (y, x) != ((0.0, 1.0),) * 2),
    (_HALF_CROP, _HALF_CROP),
)
# Pads the border finder cannot see (a blurred fill as busy as the picture: a star
# field, film grain): a query is also described inside the centred box that a picture
# of each of these shapes (width / height) fills in its frame, when that box is a
# _PAD_SHARE of the frame and the border finder left at least _PAD_MISSED of the frame
# more than it on that axis. Query-side, never stored.
_PAD_SHAPES = (9 / 16, 16 / 9, 1.0)
_PAD_SHARE = (0.3, 0.85)
_PAD_MISSED = 0.1
_PAD_VIEW = 2 * _HALF + _MOTION_CELLS**2 + _PATH_BYTES  # bytes per padded view per window
# Overlay boxes (captions, banners, logos): rows where the clip's median picture steps
# by at least _BAND_STEP grey levels, one way, along a straight run of columns (a box's
# top or bottom edge), paired with another such edge over the same columns into a box
# _BAND_HEIGHT of the content's height tall. Across _BAND_RUN of the width it is a
# caption or banner; from _LOGO_RUN, only within _LOGO_ZONE of the top or bottom, a
# logo. At most _BAND_MAX of the content in all.
_BAND_STEP = 24.0
_BAND_RUN = 0.4
_LOGO_RUN = 0.12
_LOGO_ZONE = 0.2
_BAND_HEIGHT = (0.02, 0.2)
_BAND_MAX = 0.3
_LOGO_FLAT = 12.0  # grey levels: the most a logo box's inside may vary

# v1 matching. Hamming distances are out of 64: unrelated content sits near 32.
MAX_DISTANCE = 16  # a sample pair "matches" at or below this distance
MIN_MATCHES = 8  # matching samples needed: 2 s of content
MIN_MATCH_RATIO = 0.5  # of the samples the two fingerprints share in time
MIN_CORRELATION = 0.3  # temporal correlation; unrelated clips stay below ~0.25
MIN_DISTINCT = 3  # matching samples that differ from each other by more than _DISTINCT_BITS
_DISTINCT_BITS = 8
_OFFSETS_TRIED = 3

# v2 matching.
V2_VOTE_DISTANCE = 20  # hash distance at which an aligned pair votes for an alignment
V2_PAIR_COSINE = 0.6  # descriptor cosine at which an aligned pair of windows agrees
V2_MIN_MATCHES = 8  # agreeing windows needed: 2 s of content
V2_MIN_RATIO = 0.6  # of the windows the alignment pairs up
V2_MIN_CORRELATION = 0.6  # temporal correlation needed when either clip moves
# A copy changes as much as its original: the spread of one clip's descriptors over the
# aligned windows (its motion, plus V2_MOTION_NOISE, what re-encoding alone adds) at
# most this many times the other's. The same photo animated by a faster or slower
# zoom, or a wider pan, moves 1.6-12x as much; copies stay within 1.6x.
V2_MAX_MOTION_RATIO = 1.6
V2_MOTION_NOISE = 0.01
# A mirror is a second hypothesis tried on every pair, and a mirrored motion of a
# symmetric picture can resemble another motion of it: stricter. So is a view with
# boxes filled in: what it hides may be what told another motion of the picture apart.
V2_MIN_CORRELATION_MIRRORED = 0.8
V2_MOVING = 0.002  # mean squared change of a clip's unit descriptors: above it, it moves
V2_STILL_COSINE = 0.9  # median cosine two still clips need
V2_STILL_RATIO = 0.9  # ... over this share of their aligned windows
# Two clips that move (if only a little: a tree in the wind, people far off, light) must
# move at the same times in the same parts of the picture: their motion signatures
# (what changes in every window, less what changes everywhere alike) need at least
# this correlation, V2_MOTION_PEAK above that 0.5-1 s either side. The descriptors
# alone cannot tell stretches of one fixed camera's footage apart; on a tree in the
# wind copies measured 0.49-0.84, other stretches at most 0.37. Only when both
# signatures vary over time by V2_MOTION_SPREAD grey levels or more (still photos:
# under 0.005; the slightest swaying tree: 0.15): noise is no evidence.
V2_MIN_MOTION_CORRELATION = 0.3
V2_MOTION_SPREAD = 0.05
V2_STILL_MOTION = 1.8  # still pictures: at least this / sqrt(aligned windows), too
V2_MOTION_PEAK = 0.1  # above the correlation 0.5-1 s either side, or no evidence
_MOTION_SHIFTS = (-4, -3, -2, 2, 3, 4)  # windows
# Or, when the pictures move, their descriptors' temporal correlation this far above
# that 0.5-1 s either side (copies of a crowd far off in a fixed view: 0.26-0.29).
V2_CHANGES_PEAK = 0.2
# The pictures' mean global motion (pan and zoom, see _path) must agree within this
# share of the larger (a pan's scale may differ by V2_PATH_PAN_SCALE: a crop, a speed)
# unless both move less than V2_PATH_STILL grid cells per window on the whole. Copies
# of steadily moving clips measured at most 0.13; one photo animated two ways, 0.27
# (a pan vs a pan with a zoom) and 0.48 (a pan vs a diagonal pan).
V2_PATH_RESIDUAL = 0.2
V2_PATH_PAN_SCALE = 1.4
V2_PATH_STILL = 0.05
# ... and only when both move steadily: the mean move at least this share of the RMS
# move per window (pans and zooms of photos: 0.90-0.95; a hand-held cup: 0.26).
V2_PATH_STEADY = 0.6
# Or the descriptors agree this closely (mean cosine) and change together this much.
V2_EXACT_CLOSENESS = 0.99
V2_EXACT_CORRELATION = 0.95
SPEEDS = (1.0, 0.95, 1.05, 0.9, 1.1)  # playback speeds tried (copy time x speed = original)
_CANDIDATES = 6
# Rival originals: a second original whose closeness distance (1 - closeness) is less
# than RIVAL_RATIO times the best one's is a rival, and no original is named. Distances
# below RIVAL_FLOOR are within the descriptors' quantisation and count as equal.
RIVAL_RATIO = 2.0
RIVAL_FLOOR = 0.005
RIVAL_MOTION_MARGIN = 0.3  # motion correlation a rival must come within of the best's

# Decoding bounds: never a hang, never unbounded work or memory on hostile input.
MAX_SECONDS = 300.0
MAX_FRAMES = 20_000
MAX_PIXELS = 8192 * 4320  # per frame (8K); a larger declared frame is refused undecoded
_MAX_PACKETS = 100_000
_MAX_BAD_PACKETS = 50
_DECODE_THREADS = 2  # every decoder thread holds frames of its own
TIMEOUT = 120.0

# What PyAV raises besides av.FFmpegError on hostile input.
_AV_ERRORS: tuple[type[Exception], ...] = (OSError, ValueError, RuntimeError, MemoryError)

_MAGIC = b"VPH1"
_HEADER = struct.Struct(">4sHII")  # magic, period ms, duration ms, slot count
_MAGIC2 = b"VPH2"
_HEADER2 = struct.Struct(">4sHIIB")  # magic, period ms, duration ms, slot count, flags
_HAS_DESCRIPTORS = 1
_HAS_ZOOMED = 2
_HAS_MOTION = 4
_HAS_SHIFTED = 8
_HAS_PATH = 16
_HAS_PADDED = 32  # query views inside assumed pads; their count is the blob's last byte
_HAS_FILLED = 64  # a query view with overlay bands filled in
_KNOWN_FLAGS = (
    _HAS_DESCRIPTORS | _HAS_ZOOMED | _HAS_MOTION | _HAS_SHIFTED | _HAS_PATH | _HAS_PADDED
) | _HAS_FILLED


class FingerprintError(ProvenanceError):
    """Fingerprint bytes or a soft-binding assertion are malformed."""


@dataclass(frozen=True)
class VideoFingerprint:
    """A clip's perceptual fingerprint: one 64-bit hash per informative sample window.

    ``timestamps[i]`` is the start (seconds, from the first frame) of the window that
    ``hashes[i]`` describes; windows are ``SAMPLE_PERIOD`` long and uninformative ones
    (flat frames) are absent, so the timestamps need not be evenly spaced.
    ``descriptors`` (v2) holds 64 signed bytes per window, the DCT coefficients the
    hash is made from; empty when only hashes are known. ``zoomed`` (v2) holds the
    same for the centre of the picture (see the module notes); empty if not made.
    ``motion`` (v2) holds 16 bytes per window, how much each part of the picture
    changed since the window before (see ``_motion``); empty if not made. ``path``
    (v2) holds 3 signed bytes per window, how the picture as a whole moved since the
    window before: across, down and in or out (see ``_path``); empty if not made.
    ``shifted`` (v2, never serialised) holds the query-side views of an off-centre
    crop (see the module notes), 9 x 64 bytes per window, window by window.
    ``padded`` (v2, queries only, like ``shifted``) holds 0-3 views of the inside of a
    pad the border finder may have missed (see ``_pad_boxes``): per window, per view,
    its descriptor, motion signature and motion path (83 bytes). ``filled`` (v2,
    queries only) is one more such view: the whole picture with the overlay bands a
    query shows filled in (see ``_overlay_bands``); empty where it shows none.
    """

    algorithm: str
    hashes: tuple[int, ...]
    timestamps: tuple[float, ...]
    duration: float
    descriptors: bytes = b""
    zoomed: bytes = b""
    motion: bytes = b""
    path: bytes = b""
    shifted: bytes = dataclasses.field(default=b"", compare=False, repr=False)
    padded: bytes = dataclasses.field(default=b"", compare=False, repr=False)
    filled: bytes = dataclasses.field(default=b"", compare=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.hashes) != len(self.timestamps):
            raise FingerprintError("a fingerprint needs one timestamp per hash")
        if self.descriptors and len(self.descriptors) != 2 * _HALF * len(self.hashes):
            raise FingerprintError("a fingerprint needs 64 descriptor bytes per hash")
        if self.zoomed and len(self.zoomed) != len(self.descriptors):
            raise FingerprintError("zoomed descriptors need descriptors of the same size")
        if self.motion and (
            not self.descriptors or len(self.motion) != _MOTION_CELLS**2 * len(self.hashes)
        ):
            raise FingerprintError("a motion signature needs descriptors and 16 bytes per hash")
        if self.path and (not self.descriptors or len(self.path) != _PATH_BYTES * len(self.hashes)):
            raise FingerprintError("a motion path needs descriptors and 3 bytes per hash")
        if self.shifted and len(self.shifted) != len(_SHIFTS) * len(self.descriptors):
            raise FingerprintError(f"shifted views need {len(_SHIFTS)} times the descriptor bytes")
        if self.padded and (
            not self.descriptors
            or len(self.padded) % (_PAD_VIEW * len(self.hashes))
            or len(self.padded) > len(_PAD_SHAPES) * _PAD_VIEW * len(self.hashes)
        ):
            raise FingerprintError(
                f"padded views need 1-{len(_PAD_SHAPES)} times {_PAD_VIEW} bytes per hash"
            )
        if self.filled and (
            not self.descriptors or len(self.filled) != _PAD_VIEW * len(self.hashes)
        ):
            raise FingerprintError(f"a filled view needs {_PAD_VIEW} bytes per hash")

    @functools.cached_property
    def zoomed_hashes(self) -> tuple[int, ...]:
        """The hashes of the zoomed descriptors (v2), index keys for cropped copies."""
        return _hashes_of(self.zoomed)

    @functools.cached_property
    def shifted_views(self) -> tuple[tuple[bytes, tuple[int, ...]], ...]:
        """The shifted views (v2 queries), each as (descriptor bytes, hashes): split
        and hashed once per query, not once per candidate it is compared with."""
        return _split_views(self.shifted, len(self.hashes))

    @functools.cached_property
    def padded_views(self) -> tuple[tuple[bytes, tuple[int, ...], bytes, bytes], ...]:
        """The views inside assumed pads (v2 queries), each as (descriptor bytes,
        hashes, motion signature bytes, motion path bytes)."""
        return _split_whole_views(self.padded, len(self.hashes))

    @functools.cached_property
    def filled_views(self) -> tuple[tuple[bytes, tuple[int, ...], bytes, bytes], ...]:
        """The view with overlay bands filled in (v2 queries; none or one), as
        :attr:`padded_views`."""
        return _split_whole_views(self.filled, len(self.hashes))

    @property
    def slots(self) -> tuple[int, ...]:
        """The window index of each sample."""
        return tuple(round(t / SAMPLE_PERIOD) for t in self.timestamps)

    def to_bytes(self, *, shifted: bool = False) -> bytes:
        """Compact form: header, a bitmap of present windows, then per window the 8-byte
        hash (v1, or v2 without descriptors) or the 64 descriptor bytes (v2), then the
        other v2 parts present. The shifted views only if asked (a query kept for
        later): signatures and repositories never need them."""
        if self.algorithm not in ALGORITHMS:
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
        period, dur = round(SAMPLE_PERIOD * 1000), round(self.duration * 1000)
        hashes = struct.pack(f">{len(self.hashes)}Q", *self.hashes)
        if self.algorithm == ALGORITHM_V1:
            if self.descriptors:
                raise FingerprintError("a v1 fingerprint has no descriptors")
            return _HEADER.pack(_MAGIC, period, dur, count) + bytes(bitmap) + hashes
        if self.descriptors:
            flags = (
                _HAS_DESCRIPTORS
                | (_HAS_ZOOMED if self.zoomed else 0)
                | (_HAS_MOTION if self.motion else 0)
                | (_HAS_SHIFTED if shifted and self.shifted else 0)
                | (_HAS_PATH if self.path else 0)
                | (_HAS_PADDED if shifted and self.padded else 0)
                | (_HAS_FILLED if shifted and self.filled else 0)
            )
            header = _HEADER2.pack(_MAGIC2, period, dur, count, flags)
            body = self.descriptors + self.zoomed + self.motion + self.path
            if flags & _HAS_SHIFTED:
                body += self.shifted
            if flags & _HAS_FILLED:
                body += self.filled
            if flags & _HAS_PADDED:
                body += self.padded + bytes([len(self.padded) // (_PAD_VIEW * len(self.hashes))])
            return header + bytes(bitmap) + body
        return _HEADER2.pack(_MAGIC2, period, dur, count, 0) + bytes(bitmap) + hashes

    @classmethod
    def from_bytes(cls, data: bytes) -> VideoFingerprint:
        """Parse :meth:`to_bytes` output (either algorithm); raises
        :class:`FingerprintError` if malformed."""
        if data[:4] == _MAGIC2:
            if len(data) < _HEADER2.size:
                raise FingerprintError("fingerprint too short")
            _, period_ms, duration_ms, count, flags = _HEADER2.unpack_from(data)
            algorithm, header = ALGORITHM_V2, _HEADER2.size
            if flags & ~_KNOWN_FLAGS or (flags and not flags & _HAS_DESCRIPTORS):
                raise FingerprintError("unknown fingerprint flags")
            per_slot = 2 * _HALF if flags & _HAS_DESCRIPTORS else 8
            if flags & _HAS_ZOOMED:
                per_slot *= 2
            if flags & _HAS_MOTION:
                per_slot += _MOTION_CELLS**2
            if flags & _HAS_PATH:
                per_slot += _PATH_BYTES
            if flags & _HAS_SHIFTED:
                per_slot += len(_SHIFTS) * 2 * _HALF
            if flags & _HAS_FILLED:
                per_slot += _PAD_VIEW
            padded_views = 0
            if flags & _HAS_PADDED:
                padded_views = data[-1] if len(data) > _HEADER2.size else 0
                if not 1 <= padded_views <= len(_PAD_SHAPES):
                    raise FingerprintError("fingerprint has a bad count of padded views")
                data = data[:-1]
                per_slot += padded_views * _PAD_VIEW
        elif data[:4] == _MAGIC:
            if len(data) < _HEADER.size:
                raise FingerprintError("fingerprint too short")
            _, period_ms, duration_ms, count = _HEADER.unpack_from(data)
            algorithm, header, per_slot = ALGORITHM_V1, _HEADER.size, 8
        else:
            raise FingerprintError("not a org.provcheck.vphash fingerprint")
        if period_ms != round(SAMPLE_PERIOD * 1000):
            raise FingerprintError("fingerprint has an unsupported sample period")
        nbitmap = (count + 7) // 8
        bitmap = data[header : header + nbitmap]
        if len(bitmap) != nbitmap:
            raise FingerprintError("fingerprint truncated")
        import numpy as np

        slots = np.flatnonzero(np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8))[:count])
        body = data[header + nbitmap :]
        if (
            len(body) != per_slot * len(slots)
            or (count and not len(slots))
            or (len(slots) and slots[-1] != count - 1)
        ):
            raise FingerprintError("fingerprint length does not match its sample bitmap")
        stamps = tuple((slots * SAMPLE_PERIOD).tolist())  # exact: SAMPLE_PERIOD is 1/4
        if per_slot == 8:
            hashes = struct.unpack(f">{len(slots)}Q", body)
            return cls(algorithm, tuple(hashes), stamps, duration_ms / 1000)
        n = len(slots)
        half = 2 * _HALF * n
        descriptors = bytes(body[:half])
        zoomed = bytes(body[half : 2 * half]) if flags & _HAS_ZOOMED else b""
        at = half + len(zoomed)
        motion = bytes(body[at : at + _MOTION_CELLS**2 * n]) if flags & _HAS_MOTION else b""
        at += len(motion)
        path = bytes(body[at : at + _PATH_BYTES * n]) if flags & _HAS_PATH else b""
        at += len(path)
        shifted = bytes(body[at : at + len(_SHIFTS) * half]) if flags & _HAS_SHIFTED else b""
        at += len(shifted)
        filled = bytes(body[at : at + _PAD_VIEW * n]) if flags & _HAS_FILLED else b""
        padded = bytes(body[at + len(filled) :]) if flags & _HAS_PADDED else b""
        return cls(
            algorithm,
            _hashes_of(descriptors),
            stamps,
            duration_ms / 1000,
            descriptors,
            zoomed,
            motion,
            path,
            shifted,
            padded,
            filled,
        )


def _split_whole_views(
    raw: bytes, windows: int
) -> tuple[tuple[bytes, tuple[int, ...], bytes, bytes], ...]:
    """Whole-picture query views stored window by window (``windows`` x views x
    ``_PAD_VIEW`` bytes), as (descriptor bytes, hashes, motion signature bytes, motion
    path bytes) per view."""
    if not raw or not windows:
        return ()
    import numpy as np

    per_view = np.frombuffer(raw, dtype=np.uint8).reshape(windows, -1, _PAD_VIEW)
    out = []
    for v in range(per_view.shape[1]):
        part = per_view[:, v]
        desc = np.ascontiguousarray(part[:, : 2 * _HALF]).tobytes()
        motion = np.ascontiguousarray(part[:, 2 * _HALF : -_PATH_BYTES]).tobytes()
        path = np.ascontiguousarray(part[:, -_PATH_BYTES:]).tobytes()
        out.append((desc, _hashes_of(desc), motion, path))
    return tuple(out)


def _split_views(raw: bytes, windows: int) -> tuple[tuple[bytes, tuple[int, ...]], ...]:
    """Query views stored window by window (``windows`` x views x 64 bytes), as
    (descriptor bytes, hashes) per view."""
    if not raw or not windows:
        return ()
    import numpy as np

    per_view = np.frombuffer(raw, dtype=np.int8).reshape(windows, -1, 2 * _HALF)
    out = []
    for v in range(per_view.shape[1]):
        part = np.ascontiguousarray(per_view[:, v]).tobytes()
        out.append((part, _hashes_of(part)))
    return tuple(out)


@dataclass(frozen=True)
class Match:
    """Where two fingerprints show the same content, and why they are judged so.

    ``offset`` maps a time in ``a`` to the same content in ``b``: ``t_b = speed * t_a +
    offset``. ``similarity`` is the share of the windows the alignment pairs up whose
    content agrees (0..1). ``correlation`` (-1..1) says how alike the two clips change
    over time once what stays constant is removed (1.0 for two still clips, where there
    is no change to compare). ``mirrored`` says ``a`` matched ``b`` mirrored left to
    right; ``zoomed`` that ``a`` matched the centre of ``b`` (a copy cropped by about
    5-10% per side), ``off_centre`` through one of ``a``'s shifted views (cropped on
    some sides only); ``padded`` that ``a`` matched through a view inside a pad of its
    frame that its border finder did not see (see ``_pad_boxes``); ``filled`` through
    its view with overlay bands filled in (see ``_overlay_bands``); ``speed`` the
    playback speed under which it matched; ``still`` that neither clip moves and the
    match rests on content alone. ``closeness`` is the mean descriptor cosine over the
    aligned windows (v1: one minus the mean Hamming distance over 32); ``rivals`` how
    many other stored originals match as closely (set by a repository lookup; see
    :func:`mark_rivals`). ``motion_correlation`` (v2) says how alike the two clips'
    motion signatures change over time; None when either has no motion to compare (a
    still photo). The ranges are in seconds of each clip.
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
    mirrored: bool = False
    speed: float = 1.0
    still: bool = False
    algorithm: str = ALGORITHM_V1
    closeness: float = 1.0
    zoomed: bool = False
    rivals: int = 0
    off_centre: bool = False
    motion_correlation: float | None = None
    padded: bool = False
    filled: bool = False

    @property
    def ambiguous(self) -> bool:
        """Other stored originals match this part of the copy about as closely: which
        one it was copied from cannot be told, so none should be named."""
        return self.rivals > 0

    def explain(self) -> str:
        """One sentence: what matched, where and how."""
        how = []
        if self.mirrored:
            how.append("mirrored")
        if self.off_centre:
            how.append("cropped off-centre")
        elif self.zoomed:
            how.append("cropped to the centre")
        if self.padded:
            how.append("padded into a wider or taller frame")
        if self.filled:
            how.append("with a caption or banner over it")
        if self.speed != 1.0:
            how.append(f"played at {self.speed:g}x")
        kind = "still picture" if self.still else "moving picture"
        moves = (
            f", motion correlation {self.motion_correlation:.2f}"
            if self.motion_correlation is not None
            else ""
        )
        return (
            f"{kind}: {self.matched_samples} windows agree ({self.similarity:.0%} of the "
            f"overlap, temporal correlation {self.correlation:.2f}{moves}); "
            f"{self.a_start:.2f}-{self.a_end:.2f} s of the copy show "
            f"{self.b_start:.2f}-{self.b_end:.2f} s of the original"
            + (f" ({', '.join(how)})" if how else "")
            + (
                f"; but {self.rivals} other original(s) match about as closely "
                f"(closeness {self.closeness:.3f}): ambiguous, none is named"
                if self.rivals
                else ""
            )
        )


# -- computing ---------------------------------------------------------------------------


def _dct_basis(n: int, freqs: int = _FREQS) -> npt.NDArray[np.float64]:
    """Rows u = 0..freqs-1 of the orthonormal DCT-II over n points."""
    import numpy as np

    x = np.arange(n)
    u = np.arange(freqs)[:, None]
    basis = np.cos(np.pi * (2 * x[None, :] + 1) * u / (2 * n)) * math.sqrt(2 / n)
    basis[0] /= math.sqrt(2)
    return np.asarray(basis, dtype=np.float64)


def _bit_order() -> list[tuple[int, int]]:
    """v1: the 64 lowest-frequency AC coefficients, by total frequency then row."""
    coords = sorted(
        ((u, v) for u in range(_FREQS) for v in range(_FREQS) if 0 < u + v <= 10),
        key=lambda c: (c[0] + c[1], c[0]),
    )
    return coords[:64]


def _v2_order() -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """v2: the 32 lowest-frequency AC coefficients (row u, column v) with v even, and
    the 32 with v odd, each by total frequency then row."""
    coords = sorted(
        ((u, v) for u in range(_FREQS2) for v in range(_FREQS2) if u + v > 0),
        key=lambda c: (c[0] + c[1], c[0]),
    )
    even = [c for c in coords if c[1] % 2 == 0][:_HALF]
    odd = [c for c in coords if c[1] % 2 == 1][:_HALF]
    return even, odd


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
    """v1: the 64-bit hash of one averaged grey window, or None if it is nearly flat."""
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


def _hashes_of(descriptors: bytes) -> tuple[int, ...]:
    """v2: each window's 64-bit hash from its 64 descriptor bytes. Bits 0-31: the even
    half above its median (a mirror keeps them); bits 32-63: the odd half's signs (a
    mirror inverts them)."""
    import numpy as np

    if not descriptors:
        return ()
    even, odd, middle = _halves(np.frombuffer(descriptors, dtype=np.int8))
    low = 2 * even > middle[:, None]
    high = odd > 0
    weights = np.uint64(1) << np.arange(_HALF, dtype=np.uint64)
    lo = (low.astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)
    hi = (high.astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)
    return tuple((hi << np.uint64(32) | lo).tolist())


def _halves(
    raw: npt.NDArray[np.int8],
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int16], npt.NDArray[np.int16]]:
    """Descriptor rows as (even half, odd half, twice the even half's median): bit i of
    the hash is ``2 * even[i] > middle`` (i < 32) or ``odd[i - 32] > 0``."""
    import numpy as np

    q = raw.reshape(-1, 2 * _HALF).astype(np.int16)
    even, odd = q[:, :_HALF], q[:, _HALF:]
    # Above the median of 32 values: twice the value above the sum of the middle two.
    middle = np.sort(even, axis=1)[:, _HALF // 2 - 1 : _HALF // 2 + 1].sum(axis=1)
    return even, odd, middle


def compute(
    path: str | os.PathLike[str],
    *,
    algorithm: str = ALGORITHM,
    max_seconds: float = MAX_SECONDS,
    max_frames: int = MAX_FRAMES,
    max_pixels: int = MAX_PIXELS,
    timeout: float = TIMEOUT,
    query: bool = True,
) -> VideoFingerprint:
    """Fingerprint the first video stream of the file at ``path``.

    At most ``max_seconds`` of media, ``max_frames`` decoded frames and ``timeout``
    seconds of wall-clock time are spent: a longer clip is fingerprinted from its
    start. A stream whose frames are larger than ``max_pixels`` is refused before a
    frame is decoded (a decompression bomb). Raises :class:`InputError` naming the file
    when it is missing, not video, undecodable, too large, too slow to decode, or has
    no informative frame. ``query=False`` leaves out the views only a query is
    compared through (shifted, padded, filled): an original being registered or signed
    stores none of them, and skipping them saves their time.
    """
    return compute_many(
        path,
        (algorithm,),
        max_seconds=max_seconds,
        max_frames=max_frames,
        max_pixels=max_pixels,
        timeout=timeout,
        query=query,
    )[algorithm]


def compute_many(
    path: str | os.PathLike[str],
    algorithms: tuple[str, ...] = ALGORITHMS,
    *,
    max_seconds: float = MAX_SECONDS,
    max_frames: int = MAX_FRAMES,
    max_pixels: int = MAX_PIXELS,
    timeout: float = TIMEOUT,
    query: bool = True,
) -> dict[str, VideoFingerprint]:
    """:func:`compute` for several algorithms from one decode (each picked frame is
    shrunk once per algorithm): a clip looked up against entries registered with v1
    and with v2 is decoded once. Same bounds and errors as :func:`compute`."""
    unknown = [a for a in algorithms if a not in ALGORITHMS]
    if unknown or not algorithms:
        raise ProvenanceError(f"unknown fingerprint algorithm {(unknown or [''])[0]!r}")
    name = os.fspath(path)
    shown = os.path.basename(name) or name
    try:
        import av
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ProvenanceError(
            "video fingerprints need PyAV and NumPy (provcheck depends on both; the "
            "installation is incomplete): pip install av numpy"
        ) from exc
    if not os.path.isfile(name):
        raise InputError(f"{shown}: not a readable file")
    errors: tuple[type[Exception], ...] = (av.FFmpegError, UnicodeError, *_AV_ERRORS)
    try:
        # Stream probing decodes a frame already: the pixel bound and the thread count
        # apply from the first byte, not only from our own decode loop.
        container = av.open(name, metadata_errors="ignore", options=_decoder_options(max_pixels))
    except errors as exc:
        raise InputError(f"{shown}: not a video file PyAV can open ({_reason(exc)})") from exc
    wanted = tuple(dict.fromkeys(algorithms))
    try:
        windows = {a: _Windows(_GRID if a == ALGORITHM_V1 else _GRID2) for a in wanted}
        duration = _decode(
            container,
            shown,
            list(windows.values()),
            max_seconds=max_seconds,
            max_frames=max_frames,
            max_pixels=max_pixels,
            timeout=timeout,
        )
    except InputError:
        raise
    except errors as exc:
        raise InputError(f"{shown}: video cannot be decoded ({_reason(exc)})") from exc
    finally:
        container.close()
    out: dict[str, VideoFingerprint] = {}
    for a, w in windows.items():
        fp = _finish_v1(w, duration) if a == ALGORITHM_V1 else _finish_v2(w, duration, query)
        if not fp.hashes:
            raise InputError(f"{shown}: every frame is blank; nothing to fingerprint")
        out[a] = fp
    return out


class _Windows:
    """Averages the picked frames of each sample window; keeps one grey image per window."""

    def __init__(self, grid: int) -> None:
        self.grid = grid
        self.slot = -1
        self.total: npt.NDArray[np.float32] | None = None
        self.count = 0
        self.images: list[npt.NDArray[Any]] = []
        self.slots: list[int] = []
        self.repeats: list[int] = []  # windows without a frame of their own that follow
        self.aspect = 0.0  # the frame's shape as shown (width / height); 0 if unknown

    def add(self, slot: int, image: npt.NDArray[np.uint8]) -> None:
        import numpy as np

        if slot != self.slot:
            self._close(until=slot)
            self.slot, self.total, self.count = slot, image.astype(np.float32), 1
        elif self.total is not None:
            self.total += image
            self.count += 1

    def finish(self, duration: float) -> None:
        if self.total is not None and duration - self.slot * SAMPLE_PERIOD < SAMPLE_PERIOD / 2:
            self.total = None  # a sliver at the end: too little to stand for a window
        self._close(until=self.slot + 1)

    def _close(self, until: int) -> None:
        """Keep the open window's mean; windows up to ``until`` without a frame of their
        own still show its last frame, so they repeat it."""
        import numpy as np

        if self.total is None:
            return
        mean = self.total / self.count
        if self.grid != _GRID:  # v2 keeps every window until the borders are known: bytes
            mean = np.clip(np.rint(mean), 0, 255).astype(np.uint8)
        self.images.append(mean)
        self.slots.append(self.slot)
        self.repeats.append(max(until, self.slot + 1) - self.slot - 1)
        self.total = None


def _decode(
    container: Any,
    shown: str,
    windows: list[_Windows],
    *,
    max_seconds: float,
    max_frames: int,
    max_pixels: int,
    timeout: float,
) -> float:
    """Decode into each of ``windows`` (at its own grid); returns the clip's duration."""
    import av
    import numpy as np
    from av.video.reformatter import VideoReformatter

    if not container.streams.video:
        raise InputError(f"{shown}: no video stream")
    stream = container.streams.video[0]
    ctx = stream.codec_context
    _check_size(shown, ctx.width, ctx.height, max_pixels)
    # The decoder itself refuses larger pictures (a header may understate them), and a
    # fixed thread count bounds the frames held in flight.
    ctx.options = {**ctx.options, "max_pixels": str(max_pixels)}
    ctx.thread_count = _DECODE_THREADS
    # Frames no other frame refers to are dropped undecoded (B-frames, mostly): the
    # next frame stands in, and averaging over a window hides the gap.
    ctx.skip_frame = "NONREF"
    demuxed = container.demux(stream)
    first = next(demuxed, None)
    stream.thread_type = _thread_type(ctx, first)
    rate = stream.average_rate or stream.guessed_rate
    nominal_step = 1.0 / float(rate) if rate else 1 / 25
    deadline = time.monotonic() + timeout
    scalers = [VideoReformatter() for _ in windows]  # one per grid for the clip, not per frame
    origin: float | None = None
    last_time = frame_step = 0.0
    frames = packets = bad = 0
    last_pick = -1
    past_end = False
    for packet in itertools.chain(() if first is None else (first,), demuxed):
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
            _check_size(shown, frame.width, frame.height, max_pixels)
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
            if not windows[0].aspect and frame.width and frame.height:
                sar = ctx.sample_aspect_ratio
                shape = frame.width * (float(sar) if sar else 1.0) / frame.height
                for w in windows:
                    w.aspect = shape if 0.01 < shape < 100 else 0.0
            for w, scaler in zip(windows, scalers, strict=True):
                grey = scaler.reformat(
                    frame,
                    width=w.grid,
                    height=w.grid,
                    format="gray",
                    interpolation="AREA",
                    threads=1,
                ).to_ndarray()
                w.add(pick // _PICKS_PER_WINDOW, np.asarray(grey, dtype=np.uint8))
        if past_end:
            break
    if origin is None:
        raise InputError(f"{shown}: no decodable video frames")
    duration = last_time + (frame_step or nominal_step)
    for w in windows:
        w.finish(duration)
    if duration < SAMPLE_PERIOD / 2:
        raise InputError(f"{shown}: a still image or a single frame, not a video")
    return duration


def _thread_type(ctx: Any, first: Any) -> str:
    """``SLICE`` when the first picture of an H.264 stream is cut into at least as many
    slices as there are decoder threads, else ``AUTO`` (frame threads, as FFmpeg picks).

    Slice threads decode one picture on every core at once; frame threads decode
    pictures side by side and copy state between them. On two-slice 720x1280 clips the
    fingerprint took 15% less time with slice threads (issue 19); the pictures are the
    same bit for bit either way (H.264 decoding is exact whatever the threading)."""
    if first is None or ctx.name != "h264":
        return "AUTO"
    extra = ctx.extradata or b""
    if len(extra) < 7 or extra[0] != 1:  # not avcC: Annex B start codes, left to FFmpeg
        return "AUTO"
    size = (extra[4] & 3) + 1
    data = bytes(first)
    pos = slices = 0
    for _ in range(64):  # NAL units looked at, at most
        if pos + size > len(data):
            break
        length = int.from_bytes(data[pos : pos + size], "big")
        pos += size
        if length <= 0 or pos + length > len(data):
            break
        if data[pos] & 0x1F in (1, 5):  # a coded slice (non-IDR or IDR)
            slices += 1
        pos += length
    return "SLICE" if slices >= _DECODE_THREADS else "AUTO"


def _decoder_options(max_pixels: int) -> dict[str, str]:
    return {"max_pixels": str(max_pixels), "threads": str(_DECODE_THREADS)}


def _check_size(shown: str, width: int | None, height: int | None, max_pixels: int) -> None:
    if width and height and width * height > max_pixels:
        raise InputError(
            f"{shown}: video frames of {width}x{height} are larger than the "
            f"{max_pixels:,}-pixel limit; refused before decoding"
        )


def _finish_v1(windows: _Windows, duration: float) -> VideoFingerprint:
    import numpy as np

    basis = _dct_basis(_GRID - 2 * _MARGIN)
    taper = _taper(_GRID - 2 * _MARGIN)
    hashes: list[int] = []
    stamps: list[float] = []
    for image, slot, repeat in zip(windows.images, windows.slots, windows.repeats, strict=True):
        h = _hash_window(np.asarray(image, dtype=np.float64), basis, taper)
        if h is None:
            continue
        for s in range(slot, slot + repeat + 1):
            hashes.append(h)
            stamps.append(round(s * SAMPLE_PERIOD, 3))
    return VideoFingerprint(ALGORITHM_V1, tuple(hashes), tuple(stamps), round(duration, 3))


def _content_box(stack: npt.NDArray[Any]) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the picture inside bars or a blurred fill.

    Detail is the mean absolute difference between neighbouring cells, per row and per
    column, taken as the median over (a sample of) the windows. Edge rows and columns
    whose detail stays below ``_BORDER_DETAIL`` of the centre's are border.
    """
    import numpy as np

    n = stack.shape[0]
    sample = stack[np.linspace(0, n - 1, min(n, 64)).astype(int)].astype(np.float32)
    gx = np.abs(np.diff(sample, axis=2))  # (k, H, W-1)
    gy = np.abs(np.diff(sample, axis=1))  # (k, H-1, W)
    size = stack.shape[1]
    col = np.median(gx.mean(axis=1), axis=0)  # detail between columns c and c+1
    row = np.median(gy.mean(axis=2), axis=0)

    def side(profile: npt.NDArray[np.float32], centre: float) -> int:
        """Cells of border at the start of ``profile``: the last edge (a step in detail
        well above the centre's) behind which detail stays low, or a flat run."""
        cum = np.cumsum(profile)
        peak = np.maximum.accumulate(profile)
        lo = 0
        for i in range(size // 50, int(len(profile) * (1 - _MIN_CONTENT) / 2)):
            outer = float(cum[i - 1]) / i
            if outer < _FLAT_BORDER * centre:
                lo = i  # bars of one colour: no detail at all
            elif (
                outer < _BORDER_DETAIL * centre
                and profile[i] >= _EDGE * centre
                and profile[i] >= peak[i]  # the first edge: not one inside the picture
            ):
                lo = i + 1  # a blurred fill or noisy bars, then a sharp edge
        return lo

    def extent(profile: npt.NDArray[np.float32]) -> tuple[int, int]:
        m = len(profile)
        # The busier part of the middle: calm stretches of the picture itself (sky, a
        # wall) must not make a blurred fill look busy by comparison.
        centre = float(np.percentile(profile[m // 4 : m - m // 4], 75))
        if centre <= 0.5:
            return 0, size  # no detail to tell a border by
        # Pads centre the picture: of two unequal borders only the narrower is taken on
        # both sides (a calm edge of the picture itself, a sky or a wall, is not a pad),
        # unless the other side shows a fill ending where the wider one does: a fill
        # beside a calm edge of the picture ends in a step too weak to find unaided.
        first, last = side(profile, centre), side(profile[::-1], centre)
        cut = min(first, last)
        if first != last:
            other = profile[::-1] if first > last else profile
            cut = max(cut, _confirmed(other, max(first, last), centre))
        lo, hi = cut, size - cut
        if hi - lo < _MIN_CONTENT * size:
            return 0, size
        return lo, hi

    top, bottom = extent(row)
    left, right = extent(col)
    return top, bottom, left, right


def _confirmed(profile: npt.NDArray[np.float32], width: int, centre: float) -> int:
    """``width`` (give or take a cell) if ``profile`` starts with that much calm fill
    ending in a step, else 0."""
    for lo in (width, width - 1, width + 1):
        if not 1 < lo < len(profile) // 2:
            continue
        outer = float(profile[: lo - 1].mean())
        step = float(profile[lo - 1])
        if (
            outer < _BORDER_DETAIL * centre
            and step >= _STEP * outer
            and step >= _CONFIRM_EDGE * centre
            and step >= float(profile[: lo - 1].max())
        ):
            return lo
    return 0


def _pad_boxes(
    aspect: float, box: tuple[int, int, int, int], size: int
) -> list[tuple[float, float, float, float]]:
    """(top, bottom, left, right) of the centred box a picture of each of
    ``_PAD_SHAPES`` fills in a frame of shape ``aspect`` (width / height), where that
    box is a ``_PAD_SHARE`` of the frame and the border finder's ``box`` is wider (or
    taller) than it by ``_PAD_MISSED`` of the frame or more: a pad it did not see. Pads
    are where a vertical clip posted to a landscape or square frame (or the reverse)
    sits; a fill as busy as the picture hides them."""
    top, bottom, left, right = box
    out: list[tuple[float, float, float, float]] = []
    if aspect <= 0:
        return out
    for shape in _PAD_SHAPES:
        pillar = shape < aspect  # bars left and right, else above and below
        share = shape / aspect if pillar else aspect / shape
        found = ((right - left) if pillar else (bottom - top)) / size
        if shape == aspect or not _PAD_SHARE[0] <= share <= _PAD_SHARE[1]:
            continue
        if found < share + _PAD_MISSED:
            continue  # the border finder found this pad, or one at least as narrow
        lo, hi = (1 - share) * size / 2, (1 + share) * size / 2
        if pillar:
            out.append((float(top), float(bottom), lo, hi))
        else:
            out.append((lo, hi, float(left), float(right)))
    return out


def _overlay_bands(
    stack: npt.NDArray[np.float32], box: tuple[float, float, float, float]
) -> list[tuple[int, int, int, int]]:
    """(first row, last row, first column, last column; grid cells) of the boxes a
    caption, banner or logo lays over the content ``box`` of ``stack``: between two long
    straight horizontal edges of the clip's median picture, the lower one under most of
    the upper one's columns (see ``_BAND_*``), or a wide such edge and the content's top
    or bottom (a banner flush with it). A box across at least ``_BAND_RUN`` of the width
    is a caption or banner anywhere, and is filled across the frame; a shorter one
    (``_LOGO_RUN``) counts only in the top or bottom ``_LOGO_ZONE``, where logos sit. A
    fixed overlay keeps its edges in the median while moving content blurs."""
    import numpy as np

    top, bottom = math.ceil(box[0]), math.floor(box[1])
    left, right = math.ceil(box[2]), math.floor(box[3])
    height, width = bottom - top, right - left
    if height < 16 or width < 16:
        return []
    median = np.median(stack[:, top:bottom, left:right], axis=0)
    # Over two rows: an edge between grid rows is shared by both; and a row counts
    # where it or the one before steps, so an edge smeared over two rows stays whole.
    step = median[2:] - median[:-2]  # row r to row r + 2, for the edge at row r + 1
    # edges: (row, first column, end column, wide, sign of the step; 0 for the frame's)
    edges: list[tuple[int, int, int, bool, int]] = [(top, left, right, True, 0)]
    for r in range(len(step)):
        for sign in (1, -1):
            strong = sign * step[r] >= _BAND_STEP
            if r:
                strong |= sign * step[r - 1] >= _BAND_STEP
            for c0, c1 in _runs(_close_gaps(strong), _LOGO_RUN * width):
                wide = c1 - c0 >= _BAND_RUN * width
                edges.append((top + r + 1, left + c0, left + c1, wide, sign))
    edges.append((bottom - 1, left, right, True, 0))
    lo, hi = _BAND_HEIGHT[0] * height, _BAND_HEIGHT[1] * height
    last = len(edges) - 1
    found: list[tuple[int, int, int, int]] = []
    used: set[int] = set()
    for i, (y0, a0, a1, wide0, sign0) in enumerate(edges[:-1]):
        if i in used:
            continue
        best = None
        for j in range(i + 1, len(edges)):
            y1, b0, b1, wide1, sign1 = edges[j]
            if y1 - y0 > hi:
                break
            if (i == 0 and not wide1) or (j == last and not wide0):
                continue  # the frame's own top or bottom closes a banner only
            if sign0 * sign1 > 0:
                continue  # a box steps into it and back out: brighter or darker than both sides
            closes = y1 - y0 >= lo and min(a1, b1) - max(a0, b0) >= 0.8 * (a1 - a0)
            # the farthest edge that closes a box under the same columns; the frame's
            # bottom only where no edge of the picture does
            if closes and (j != last or best is None):
                best = j
        if best is None:
            continue
        y1, b0, b1, _, _ = edges[best]
        c0, c1 = max(a0, b0), min(a1, b1)
        wide = c1 - c0 >= _BAND_RUN * width
        in_zone = y1 <= top + _LOGO_ZONE * height or y0 >= bottom - _LOGO_ZONE * height
        if not (wide or in_zone):
            continue
        inside = median[y0 - top + 2 : y1 - top - 1, c0 - left : c1 - left]
        if not wide and (inside.size == 0 or float(inside.std()) > _LOGO_FLAT):
            continue  # a logo's box is a patch of flat colour; a picture's detail is not
        # rows y0..y1 take in both edges' rows; a caption's bar spans the frame (its
        # edges may fade out over dark parts of the picture), a logo only its own box
        found.append((y0, y1, left, right - 1) if wide else (y0, y1, c0, c1 - 1))
        # the edges inside the box (a text box within a caption bar), and its lower
        # edge's smear over the next rows, are part of it
        used.update(
            k
            for k in range(i + 1, last)
            if edges[k][0] <= y1 + 2 and min(c1, edges[k][2]) > max(c0, edges[k][1])
        )
    area = sum((r1 - r0 + 1) * (c1 - c0 + 1) for r0, r1, c0, c1 in found)
    if area > _BAND_MAX * height * width:
        return []  # more than overlays cover: the picture's own structure
    return found


def _close_gaps(flags: npt.NDArray[np.bool_], gap: int = 2) -> npt.NDArray[np.bool_]:
    """``flags`` with runs of False up to ``gap`` long between two Trues set (a star or
    a speck of noise on a box's edge)."""
    out = flags.copy()
    for g in range(1, gap + 1):
        bridged = flags[: -g - 1] & flags[g + 1 :]
        for k in range(1, g + 1):
            out[k : len(flags) - g - 1 + k] |= bridged
    return out


def _runs(flags: npt.NDArray[np.bool_], least: float) -> list[tuple[int, int]]:
    """(start, end) of the runs of True in ``flags`` at least ``least`` long."""
    import numpy as np

    if not flags.any():
        return []
    change = np.flatnonzero(np.diff(np.concatenate([[0], flags.astype(np.int8), [0]])))
    return [
        (int(a), int(b)) for a, b in zip(change[::2], change[1::2], strict=True) if b - a >= least
    ]


def _fill_bands(
    stack: npt.NDArray[np.float32], boxes: list[tuple[int, int, int, int]]
) -> npt.NDArray[np.float32]:
    """``stack`` with each box replaced, in every window, by a blend of the rows just
    above and below it (the nearer one alone at the frame's edge)."""
    import numpy as np

    out = stack.copy()
    rows = stack.shape[1]
    for first, last, c0, c1 in boxes:
        cols = slice(c0, c1 + 1)
        if first == 0 and last + 1 >= rows:
            continue  # nothing around it to fill from
        # the rows just outside the box; at the frame's edge, the one on the other side
        above = stack[:, first - 1 if first > 0 else last + 1, cols]
        below = stack[:, last + 1 if last + 1 < rows else first - 1, cols]
        n = last - first + 1
        w = ((np.arange(n) + 1) / (n + 1)).astype(np.float32)[None, :, None]
        out[:, first : last + 1, cols] = (1 - w) * above[:, None] + w * below[:, None]
    return out


def _resampler(n_out: int, lo: float, hi: float, n_in: int) -> npt.NDArray[np.float32]:
    """An (n_out, n_in) area-averaging matrix mapping cells lo..hi onto n_out cells."""
    import numpy as np

    edges = np.linspace(lo, hi, n_out + 1)
    m = np.zeros((n_out, n_in), dtype=np.float32)
    for i in range(n_out):
        a, b = edges[i], edges[i + 1]
        for c in range(math.floor(a), min(n_in, math.ceil(b))):
            overlap = min(b, c + 1) - max(a, c)
            if overlap > 0:
                m[i, c] = overlap
        m[i] /= max(m[i].sum(), 1e-9)
    return m


def _finish_v2(windows: _Windows, duration: float, query: bool = True) -> VideoFingerprint:
    import numpy as np

    if not windows.images:
        return VideoFingerprint(ALGORITHM_V2, (), (), round(duration, 3))
    stack = np.stack(windows.images).astype(np.float32)
    top, bottom, left, right = _content_box(stack)
    q, rms = _describe(stack, top, bottom, left, right)
    dy, dx = _ZOOM * (bottom - top), _ZOOM * (right - left)
    qz, _ = _describe(stack, top + dy, bottom - dy, left + dx, right - dx)
    moved = _motion(stack, top, bottom, left, right)
    path = _path(stack, top, bottom, left, right)
    height, width = bottom - top, right - left
    shifts = _SHIFTS if query else ()
    qs = [
        _describe(
            stack, top + y0 * height, top + y1 * height, left + x0 * width, left + x1 * width
        )[0]
        for (y0, y1), (x0, x1) in shifts
    ]  # per view: (windows, 64)
    box = (top, bottom, left, right)
    pads = _pad_boxes(windows.aspect, box, stack.shape[1]) if query else []
    pad_parts = [(_describe(stack, *b)[0], _motion(stack, *b), _path(stack, *b)) for b in pads]
    bands = _overlay_bands(stack, box) if query else []
    filled_parts = []
    if bands:
        plain = _fill_bands(stack, bands)
        filled_parts = [(_describe(plain, *box)[0], _motion(plain, *box), _path(plain, *box))]
    still = bytes(_MOTION_CELLS**2)  # a repeated window: nothing changed since the last
    chunks: list[bytes] = []
    zchunks: list[bytes] = []
    mchunks: list[bytes] = []
    pchunks: list[bytes] = []
    schunks: list[bytes] = []
    padchunks: list[bytes] = []
    fillchunks: list[bytes] = []
    stamps: list[float] = []
    for k, (slot, repeat) in enumerate(zip(windows.slots, windows.repeats, strict=True)):
        if rms[k] < _FLAT_STD:
            continue
        for s in range(slot, slot + repeat + 1):
            chunks.append(q[k].tobytes())
            zchunks.append(qz[k].tobytes())
            mchunks.append(moved[k].tobytes() if s == slot else still)
            pchunks.append(path[k].tobytes() if s == slot else bytes(_PATH_BYTES))
            schunks.extend(view[k].tobytes() for view in qs)
            for parts, out in ((pad_parts, padchunks), (filled_parts, fillchunks)):
                for pq, pm, pp in parts:
                    out.append(pq[k].tobytes())
                    out.append(pm[k].tobytes() if s == slot else still)
                    out.append(pp[k].tobytes() if s == slot else bytes(_PATH_BYTES))
            stamps.append(round(s * SAMPLE_PERIOD, 3))
    descriptors = b"".join(chunks)
    return VideoFingerprint(
        ALGORITHM_V2,
        _hashes_of(descriptors),
        tuple(stamps),
        round(duration, 3),
        descriptors,
        b"".join(zchunks),
        b"".join(mchunks),
        b"".join(pchunks),
        b"".join(schunks),
        b"".join(padchunks),
        b"".join(fillchunks),
    )


def _motion(
    stack: npt.NDArray[np.float32], top: float, bottom: float, left: float, right: float
) -> npt.NDArray[np.uint8]:
    """Each window's motion signature: per cell of the content box, the mean absolute
    grey difference from the window before, log-quantised (the first is unknown)."""
    import numpy as np

    rows = _resampler(_MOTION_GRID, top, bottom, stack.shape[1])
    cols = _resampler(_MOTION_GRID, left, right, stack.shape[2])
    small = rows @ stack @ cols.T
    k = _MOTION_GRID // _MOTION_CELLS
    n = len(small)
    out = np.full((n, _MOTION_CELLS**2), _MOTION_UNKNOWN, dtype=np.uint8)
    if n > 1:
        diff = np.abs(np.diff(small, axis=0))
        cells = diff.reshape(n - 1, _MOTION_CELLS, k, _MOTION_CELLS, k).mean(axis=(2, 4))
        q = np.rint(_MOTION_SCALE * np.log2(1 + 4 * cells.reshape(n - 1, -1)))
        out[1:] = np.clip(q, 0, _MOTION_UNKNOWN - 1).astype(np.uint8)
    return out


def _path(
    stack: npt.NDArray[np.float32], top: float, bottom: float, left: float, right: float
) -> npt.NDArray[np.int8]:
    """Each window's global motion since the window before, in cells of a
    _PATH_GRID grid of the content box: across, down, and in/out (the shift at the
    box's edges), fitted by least squares to the brightness change (unknown for the
    first window and where the fit explains too little of the change). A pan, a
    zoom and their mix give different paths: one photo animated two ways is told
    apart by them where its descriptors alone agree."""
    import numpy as np

    rows = _resampler(_PATH_GRID, top, bottom, stack.shape[1])
    cols = _resampler(_PATH_GRID, left, right, stack.shape[2])
    small = rows @ stack @ cols.T
    n = len(small)
    out = np.full((n, _PATH_BYTES), _PATH_UNKNOWN, dtype=np.int8)
    if n < 2:
        return out
    mid = (small[1:] + small[:-1]) / 2
    gy, gx = (np.asarray(g, dtype=np.float32) for g in np.gradient(mid, axis=(1, 2)))
    c = np.linspace(-1.0, 1.0, _PATH_GRID, dtype=np.float32)
    cx, cy = c[None, :], c[:, None]
    inner = (slice(None), slice(1, -1), slice(1, -1))  # one-sided gradients at the edges
    terms = [gx[inner], gy[inner], (cx * gx + cy * gy)[inner]]
    a = np.stack([t.reshape(n - 1, -1) for t in terms], axis=1)  # (n-1, 3, cells)
    b = (small[1:] - small[:-1])[inner].reshape(n - 1, -1, 1)
    ata = a @ a.transpose(0, 2, 1)
    ridge = 1e-3 * np.trace(ata, axis1=1, axis2=2) / 3 + 1.0  # flat pictures: no motion
    ata += ridge[:, None, None] * np.eye(3, dtype=np.float32)
    moved = -np.linalg.solve(ata, a @ b)
    miss = b + a.transpose(0, 2, 1) @ moved
    fit = 1 - (miss * miss).sum(axis=(1, 2)) / np.maximum((b * b).sum(axis=(1, 2)), 1e-9)
    q = np.clip(np.rint(moved[..., 0] * _PATH_SCALE), -127, 127).astype(np.int8)
    # Only a camera-like move (the whole picture pans or zooms) has a path; things
    # moving within a still view, or a view changing too fast to fit, have none.
    out[1:] = np.where((fit >= _PATH_FIT)[:, None], q, np.int8(_PATH_UNKNOWN))
    return out


def _describe(
    stack: npt.NDArray[np.float32], top: float, bottom: float, left: float, right: float
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32]]:
    """v2 descriptors (int8, one row per window) of the box (in grid cells, fractional
    edges allowed) of every window, and each window's weighted RMS (flatness)."""
    import numpy as np

    rows = _resampler(_SIDE2, top, bottom, stack.shape[1])
    cols = _resampler(_SIDE2, left, right, stack.shape[2])
    small = rows @ stack @ cols.T
    taper = _taper(_SIDE2).astype(np.float32)
    basis = _dct_basis(_SIDE2, _FREQS2).astype(np.float32)
    means = (small * taper).sum(axis=(1, 2)) / taper.sum()
    weighted = (small - means[:, None, None]) * taper
    rms = np.sqrt((weighted * weighted).mean(axis=(1, 2)))
    coeffs = basis @ weighted @ basis.T
    even, odd = _v2_order()
    order = even + odd
    vec = coeffs[:, [u for u, _ in order], [v for _, v in order]]
    peak = np.abs(vec).max(axis=1, keepdims=True)
    q = np.clip(np.rint(vec / np.maximum(peak, 1e-9) * 127), -127, 127).astype(np.int8)
    return q, rms


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
    """Find the alignment under which ``a`` (a query) and ``b`` (an original) show the
    same content, or None. Both must use the same algorithm.

    v2 fingerprints are compared by :func:`_compare_v2` (the keyword thresholds are
    v1's). v1: every whole-window offset is scored by how many sample pairs it lines up
    within ``max_distance`` bits; the best few are checked in full. A match needs at
    least ``min_matches`` such pairs, ``min_ratio`` of the samples both clips have over
    the shared span, ``min_distinct`` mutually different matching samples, and a
    temporal correlation of at least ``min_correlation`` (see :class:`Match`).
    """
    import numpy as np

    if a.algorithm != b.algorithm or not a.hashes or not b.hashes:
        return None
    if a.algorithm == ALGORITHM_V2:
        return _compare_v2(a, b)[0]
    if a.algorithm != ALGORITHM_V1:
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
            closeness=round(1.0 - float(dist[ia, ib].mean()) / 32.0, 4),
        )
        if best is None or (found.similarity, found.correlation) > (
            best.similarity,
            best.correlation,
        ):
            best = found
    return best


def _correlation(a: npt.NDArray[np.floating[Any]], b: npt.NDArray[np.floating[Any]]) -> float:
    """Do the two clips change the same way over time? Correlation of their aligned
    per-window vectors (hash bits, descriptors) after each clip's mean is removed.

    What a scene has throughout (a static background, a still picture) cancels out;
    what remains is motion and cuts, which two unrelated clips do not share.
    """
    return _centred_correlation(a - a.mean(axis=0), b - b.mean(axis=0))


def _centred_correlation(
    ra: npt.NDArray[np.floating[Any]], rb: npt.NDArray[np.floating[Any]]
) -> float:
    """:func:`_correlation` of runs whose means are removed already (0 if either is constant)."""
    norm = math.sqrt(float((ra * ra).sum()) * float((rb * rb).sum()))
    return float((ra * rb).sum()) / norm if norm > 0 else 0.0


def _distinct(hashes: npt.NDArray[np.uint64]) -> int:
    """How many of ``hashes`` differ by more than _DISTINCT_BITS from each one counted before."""
    import numpy as np

    kept: list[int] = []
    for h in hashes:
        if kept and int(_popcount(np.array(kept, dtype=np.uint64) ^ h).min()) <= _DISTINCT_BITS:
            continue
        kept.append(int(h))
    return len(kept)


def _unit_descriptors(
    fp: VideoFingerprint, zoomed: bool = False, raw_bytes: bytes | None = None
) -> npt.NDArray[np.float32]:
    """Each window's descriptor (or zoomed descriptor, or ``raw_bytes``: one shifted
    view) as a unit vector; from the hash bits (+-1) when the fingerprint carries
    hashes only."""
    import numpy as np

    d: npt.NDArray[np.float32]
    if fp.descriptors:
        if raw_bytes is None:
            raw_bytes = fp.zoomed if zoomed else fp.descriptors
        raw = np.frombuffer(raw_bytes, dtype=np.int8).reshape(-1, 2 * _HALF)
        d = raw.astype(np.float32)
    else:
        bits = (np.array(fp.hashes, dtype=np.uint64)[:, None] >> np.arange(64, dtype=np.uint64)) & 1
        d = bits.astype(np.float32) * 2 - 1
    norm = np.linalg.norm(d, axis=1, keepdims=True)
    return np.asarray(d / np.maximum(norm, 1e-9), dtype=np.float32)


def _compare_v2(
    a: VideoFingerprint, b: VideoFingerprint
) -> tuple[Match | None, tuple[float, float, float] | None]:
    """v2: vote for (orientation, zoom, speed, offset) with the hashes, judge with
    descriptors. ``b``'s zoomed descriptors (if any) stand for a cropped copy of it.
    Also returns the closest alignment tried, matching or not, as (closeness, start,
    end in ``a``): a near miss still makes ``b`` a rival of another original."""
    import numpy as np

    ha = _as_array(a)
    sa = np.rint(np.array(a.timestamps) / SAMPLE_PERIOD).astype(np.int64)
    sb = np.rint(np.array(b.timestamps) / SAMPLE_PERIOD).astype(np.int64)
    da = _unit_descriptors(a)
    # Views: (how, a's hashes, a's descriptors, b's hashes, b's descriptors, which of
    # a's shifted views or -1, a's motion signatures and path), how being 0 (whole
    # against whole), 1 (a, or its centre, against b's centre), 2 (a shifted view of a,
    # an off-centre crop, against b's centre), 3 (the inside of an assumed pad of a,
    # with its own motion, against b's whole) or 4 (a with its overlay bands filled in,
    # likewise).
    ma, pa = _motion_values(a.motion), _path_values(a.path)
    hw, dw = _as_array(b), _unit_descriptors(b)
    views = [(0, ha, da, hw, dw, -1, ma, pa)]
    if b.zoomed and a.descriptors:
        hz, dz = np.array(b.zoomed_hashes, dtype=np.uint64), _unit_descriptors(b, True)
        views.append((1, ha, da, hz, dz, -1, ma, pa))
        for v, (raw, hashes) in enumerate(a.shifted_views):  # none unless a is a query
            hs = np.array(hashes, dtype=np.uint64)
            how = 1 if _SHIFTS[v] == (_HALF_CROP, _HALF_CROP) else 2
            views.append((how, hs, _unit_descriptors(a, raw_bytes=raw), hz, dz, v, ma, pa))
    if b.descriptors:
        whole = [(3, v) for v in a.padded_views] + [(4, v) for v in a.filled_views]
        for how, (raw, hashes, motion, path) in whole:  # none unless a is a query
            hp = np.array(hashes, dtype=np.uint64)
            ud = _unit_descriptors(a, raw_bytes=raw)
            views.append((how, hp, ud, hw, dw, -1, _motion_values(motion), _path_values(path)))
    flip = np.ones(2 * _HALF, dtype=np.float32)
    flip[_HALF:] = -1  # a mirror negates the odd half of every descriptor
    mb, pb = _motion_values(b.motion), _path_values(b.path)
    span = int(sb.max()) + math.ceil(max(SPEEDS) * float(sa.max())) + 2
    candidates: list[tuple[float, int, bool, float, int]] = []
    for view, (_, hav, _, hb, *_) in enumerate(views):
        for mirrored in (False, True):
            hb_o = hb ^ np.uint64(_FLIP_MASK) if mirrored else hb
            dist = _popcount(hav[:, None] ^ hb_o[None, :])
            hit = dist <= V2_VOTE_DISTANCE
            ia, ib = np.nonzero(hit)
            if len(ia) == 0:
                continue
            w = 1.0 - dist[ia, ib] / (2.0 * (V2_VOTE_DISTANCE + 1))
            for speed in SPEEDS:
                bins = np.rint(sb[ib] - speed * sa[ia]).astype(np.int64) + span
                votes = np.bincount(bins, weights=w, minlength=2 * span + 1)
                for _ in range(2):  # the two best offsets, if they have votes enough
                    o = int(votes.argmax())
                    if votes[o] < V2_MIN_MATCHES / 2:
                        break  # as few as this never make an alignment that holds
                    candidates.append((float(votes[o]), view, mirrored, speed, o - span))
                    votes[o] = 0
    candidates.sort(key=lambda c: -c[0])
    index_b = np.full(int(sb.max()) + 1, -1, dtype=np.int64)  # slot -> sample of b
    index_b[sb] = np.arange(len(sb))
    best: Match | None = None
    near: tuple[float, float, float] | None = None
    best_hashes = ha
    for votes_for, view, mirrored, speed, off in candidates[: _CANDIDATES * len(views)]:
        how, hav, dav, _, db, shifted, ma, pa = views[view]
        if votes_for < V2_MIN_MATCHES / 2:
            break  # too few votes for any alignment to hold
        ia, ib = _pairs(sa, index_b, speed, off)
        if len(ia) < V2_MIN_MATCHES:
            continue
        x = dav[ia]
        y = db[ib] * flip if mirrored else db[ib]
        cos = (x * y).sum(axis=1)
        closeness = float(cos.mean())
        rx, ry = x - x.mean(axis=0), y - y.mean(axis=0)
        ex, ey = float((rx * rx).sum(axis=1).mean()), float((ry * ry).sum(axis=1).mean())
        still = max(ex, ey) < V2_MOVING
        changes = _centred_correlation(rx, ry)
        moves = None
        if ma is not None and mb is not None:
            moves = _motion_agreement(ma[ia], mb[ib], mirrored)
            # A still picture lines up at every offset and speed: of so many tries
            # some agree by chance, the more so the fewer windows; ask for more.
            least = max(V2_MIN_MOTION_CORRELATION, V2_STILL_MOTION / math.sqrt(len(ia)))
            if moves is not None and moves < (least if still else V2_MIN_MOTION_CORRELATION):
                continue  # looks alike, moves differently: other footage, not even near
            motion_of = functools.partial(_motion_agreement, mirrored=mirrored)
            if moves is not None and not _peaks(
                moves, motion_of, ma, mb, sa, index_b, speed, off, V2_MOTION_PEAK
            ):
                # Where the motion signatures are too coarse to single the alignment
                # out (a crowd far off in a cropped view, a smooth zoom shrunk to a
                # quarter), the descriptors may: they change together clearly best at
                # it, or agree near-exactly. A still picture has no such evidence.
                exact = closeness >= V2_EXACT_CLOSENESS and changes >= V2_EXACT_CORRELATION
                if still or not (
                    exact
                    or _peaks(
                        changes,
                        _correlation,
                        dav,
                        db * flip if mirrored else db,
                        sa,
                        index_b,
                        speed,
                        off,
                        V2_CHANGES_PEAK,
                    )
                ):
                    continue
        if (
            pa is not None
            and pb is not None
            and not _paths_agree(pa[ia], pb[ib], mirrored, _view_centre(a, shifted))
        ):
            continue  # the same picture moved another way: another animation of it
        if near is None or closeness > near[0]:
            t_a = np.array(a.timestamps)[ia]
            near = (closeness, float(t_a.min()), float(t_a.max()) + SAMPLE_PERIOD)
        ok = cos >= V2_PAIR_COSINE
        matched, shared = int(ok.sum()), len(ia)
        if matched < V2_MIN_MATCHES or matched < V2_MIN_RATIO * shared:
            continue
        if still:
            if float(np.median(cos)) < V2_STILL_COSINE or matched < V2_STILL_RATIO * shared:
                continue
            corr = 1.0
        else:
            corr = changes
            if corr < (V2_MIN_CORRELATION_MIRRORED if mirrored or how == 4 else V2_MIN_CORRELATION):
                continue
            if max(ex, ey) + V2_MOTION_NOISE > V2_MAX_MOTION_RATIO * (
                min(ex, ey) + V2_MOTION_NOISE
            ):
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
            offset=round(off * SAMPLE_PERIOD, 3),
            matched_samples=matched,
            distinct_samples=0,  # counted once, for the alignment that wins
            mirrored=mirrored,
            zoomed=how in (1, 2),
            off_centre=how == 2,
            padded=how == 3,
            filled=how == 4,
            speed=speed,
            still=still,
            algorithm=ALGORITHM_V2,
            closeness=round(closeness, 4),
            motion_correlation=None if moves is None else round(moves, 4),
        )
        if best is None or _rank(found) > _rank(best):
            best, best_hashes = found, hav[ia[ok]]
    if best is None:
        return None, near
    return dataclasses.replace(best, distinct_samples=_distinct(best_hashes)), near


def _peaks(
    here: float,
    measure: Callable[[npt.NDArray[np.float32], npt.NDArray[np.float32]], float | None],
    xa: npt.NDArray[np.float32],
    yb: npt.NDArray[np.float32],
    sa: npt.NDArray[np.int64],
    index_b: npt.NDArray[np.int64],
    speed: float,
    off: int,
    margin: float,
) -> bool:
    """Is ``here``, an agreement of ``a``'s and ``b``'s per-window rows ``xa`` and
    ``yb`` at this alignment, at least ``margin`` above the same ``measure`` of the
    rows paired up 0.5-1 s either side of it? Agreement about as good at other
    alignments (footage that holds each frame for a fixed time, a regular sway, a smooth
    zoom) is no evidence of this one: of the many alignments a still picture allows,
    some line such motion up by chance."""
    around = [-1.0]
    for shift in _MOTION_SHIFTS:
        ia, ib = _pairs(sa, index_b, speed, off + shift)
        if len(ia) >= V2_MIN_MATCHES:
            m = measure(xa[ia], yb[ib])
            around.append(-1.0 if m is None else m)
    return here - max(around) >= margin


def _pairs(
    sa: npt.NDArray[np.int64], index_b: npt.NDArray[np.int64], speed: float, off: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The samples of ``a`` and ``b`` (indices) that the alignment (speed, offset in
    windows) pairs up; ``index_b`` maps b's window numbers to its samples (or -1)."""
    import numpy as np

    j = np.rint(speed * sa + off).astype(np.int64)
    inside = (j >= 0) & (j < len(index_b))
    ia = np.nonzero(inside)[0]
    ib = index_b[j[inside]]
    keep = ib >= 0
    return ia[keep], ib[keep]


def _motion_values(raw: bytes) -> npt.NDArray[np.float32] | None:
    """Motion signatures (bytes) as grey-level differences (NaN: unknown), or None."""
    import numpy as np

    if not raw:
        return None
    q = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _MOTION_CELLS**2)
    values = (np.exp2(q.astype(np.float32) / _MOTION_SCALE) - 1) / 4
    return np.where(q == _MOTION_UNKNOWN, np.float32(np.nan), values).astype(np.float32)


def _path_values(raw: bytes) -> npt.NDArray[np.float32] | None:
    """A motion path (bytes) in grid cells per window (NaN: unknown), or None."""
    import numpy as np

    if not raw:
        return None
    q = np.frombuffer(raw, dtype=np.int8).reshape(-1, _PATH_BYTES)
    values = q.astype(np.float32) / _PATH_SCALE
    return np.where(q == _PATH_UNKNOWN, np.float32(np.nan), values).astype(np.float32)


def _view_centre(a: VideoFingerprint, shifted: int) -> tuple[float, float]:
    """Where the centre of ``a`` lies from the centre of the original it is compared
    with (across, down; in the original's half-widths), when its shifted view number
    ``shifted`` (if any) is that original's centre: a zoom seen off-centre pans."""
    if not 0 <= shifted < len(a.shifted_views):
        return 0.0, 0.0

    def along(lo: float, hi: float) -> float:
        return 2 * (_ZOOM + (0.5 - lo) * (1 - 2 * _ZOOM) / (hi - lo)) - 1

    (y0, y1), (x0, x1) = _SHIFTS[shifted]
    return along(x0, x1), along(y0, y1)


def _paths_agree(
    x: npt.NDArray[np.float32],
    y: npt.NDArray[np.float32],
    mirrored: bool,
    centre: tuple[float, float] = (0.0, 0.0),
) -> bool:
    """Did the two pictures, over the aligned windows, move the same way on the
    whole: the mean pan (up to a scale: a crop, a speed) and the mean zoom within
    V2_PATH_RESIDUAL of the larger mean motion? ``y``'s zoom pans the picture ``x``
    shows by as much as ``centre`` (see :func:`_view_centre`) is off its centre.
    Pictures that hardly move as a whole, or not steadily one way, give no evidence
    (True)."""
    import numpy as np

    known = ~(np.isnan(x).any(axis=1) | np.isnan(y).any(axis=1))
    if known.sum() < V2_MIN_MATCHES:
        return True
    x, y = x[known], y[known]
    mx, my = x.mean(axis=0), y.mean(axis=0)
    for path, mean in ((x, mx), (y, my)):
        # a hand-held camera wanders back and forth: its mean move says little
        if np.linalg.norm(mean) < V2_PATH_STEADY * math.sqrt(float((path * path).sum(1).mean())):
            return True
    if mirrored:
        my[0] = -my[0]
    my[:2] += my[2] * np.array(centre, dtype=np.float32)
    size = max(float(np.linalg.norm(mx)), float(np.linalg.norm(my)))
    if size < V2_PATH_STILL:
        return True
    pan_x, pan_y = mx[:2], my[:2]
    both = float(pan_y @ pan_y)
    scale = float(pan_x @ pan_y) / both if both > 0 else 1.0
    scale = min(max(scale, 1 / V2_PATH_PAN_SCALE), V2_PATH_PAN_SCALE)
    miss = np.append(pan_x - scale * pan_y, mx[2] - my[2])
    return float(np.linalg.norm(miss)) <= V2_PATH_RESIDUAL * size


def _motion_agreement(
    x: npt.NDArray[np.float32], y: npt.NDArray[np.float32], mirrored: bool
) -> float | None:
    """Correlation of two aligned runs of motion signatures (cell by cell, each cell's
    mean removed), or None when either hardly varies over time: no evidence."""
    import numpy as np

    known = ~(np.isnan(x).any(axis=1) | np.isnan(y).any(axis=1))
    x, y = x[known], y[known]
    if len(x) < V2_MIN_MATCHES:
        return None
    if mirrored:  # cells are stored row by row: mirror each row
        y = y.reshape(-1, _MOTION_CELLS, _MOTION_CELLS)[:, :, ::-1].reshape(len(y), -1)
    if min(float(x.mean(axis=1).std()), float(y.mean(axis=1).std())) < V2_MOTION_SPREAD:
        return None
    x = x - x.mean(axis=1, keepdims=True)
    y = y - y.mean(axis=1, keepdims=True)
    rx, ry = x - x.mean(axis=0), y - y.mean(axis=0)
    norm = math.sqrt(float((rx * rx).sum()) * float((ry * ry).sum()))
    return float((rx * ry).sum()) / norm if norm > 0 else None


def compare_detail(
    a: VideoFingerprint, b: VideoFingerprint
) -> tuple[Match | None, tuple[float, float, float] | None]:
    """:func:`compare`, and (v2) the closest alignment tried even when it did not match:
    (closeness, start, end) in ``a``. Used to count rival originals."""
    if a.algorithm == b.algorithm == ALGORITHM_V2 and a.hashes and b.hashes:
        return _compare_v2(a, b)
    return compare(a, b), None


def _rank(m: Match) -> float:
    """Of several alignments that hold, the closest wins; normal speed and orientation
    unless another is clearly better (a zoom sped up looks much like itself)."""
    return (
        m.similarity
        + m.correlation
        + m.closeness
        - 0.1 * (m.speed != 1.0)
        - 0.05 * m.mirrored
        - 0.05 * m.zoomed
        - 0.05 * m.off_centre
        - 0.05 * m.padded
        - 0.05 * m.filled
    )


def rank_key(m: Match) -> tuple[float, float, float]:
    """Sort key for matches of one copy against several originals: closest first."""
    return (-m.closeness, -m.similarity, -m.correlation)


def mark_rivals(
    matches: Sequence[tuple[_T, Match]], near: Sequence[tuple[float, float, float]] = ()
) -> list[tuple[_T, Match]]:
    """``(original, match)`` pairs of one copy, best first, with the best match's
    ``rivals`` set: the other originals that show the same part of the copy about as
    closely (their distance ``1 - closeness`` under :data:`RIVAL_RATIO` times the
    best's), whether they matched or narrowly missed (``near``: (closeness, start, end)
    of originals that did not match, from :func:`compare_detail`). Originals matching
    other parts of the copy (a compilation) are no rivals."""
    if not matches:
        return []
    top = matches[0][1]
    gap = max(1.0 - top.closeness, RIVAL_FLOOR)
    others = [
        (m.closeness, m.a_start, m.a_end)
        for _, m in matches[1:]
        if m.algorithm == top.algorithm and not _moves_clearly_less(m, top)
    ]
    if top.algorithm == ALGORITHM_V2:
        others += list(near)
    rivals = 0
    for closeness, start, end in others:
        overlap = min(top.a_end, end) - max(top.a_start, start)
        shorter = min(top.a_end - top.a_start, end - start)
        if overlap < 0.5 * shorter:
            continue
        if max(1.0 - closeness, RIVAL_FLOOR) < RIVAL_RATIO * gap:
            rivals += 1
    if not rivals:
        return list(matches)
    return [(matches[0][0], dataclasses.replace(top, rivals=rivals)), *matches[1:]]


def _moves_clearly_less(other: Match, top: Match) -> bool:
    """Does ``other`` look as alike as ``top`` but agree clearly less in motion (two
    stretches of one fixed camera's footage)? Then it is no rival."""
    if other.motion_correlation is None or top.motion_correlation is None:
        return False
    return top.motion_correlation - other.motion_correlation >= RIVAL_MOTION_MARGIN


def query_hashes(fp: VideoFingerprint) -> tuple[int, ...]:
    """The sample hashes a repository should look ``fp`` up by: its own, then (v2)
    those of its mirror image (the odd half inverted), so that a mirrored copy shares
    every index band with its original, not only the two mirror-invariant ones; then
    (v2 with descriptors) variants with the least certain bits of a band flipped.

    Re-encoding flips the bits whose coefficient sits closest to its threshold. A
    moving clip has many windows and so many chances to share a band with its
    original exactly; a still one has one or two, and a pad or crop may change a bit
    in every band of them. So the fewer distinct hashes a clip has, the more of its
    uncertain bits are tried (up to ``_QUERY_FLIPS`` per band, within about
    ``_QUERY_KEYS`` index keys)."""
    if fp.algorithm != ALGORITHM_V2:
        return fp.hashes
    mirrored = tuple(h ^ _FLIP_MASK for h in fp.hashes)
    return fp.hashes + mirrored + _uncertain_variants(fp) + _view_keys(fp)


def _view_keys(fp: VideoFingerprint) -> tuple[int, ...]:
    """The hashes of the shifted views (an off-centre crop) and of the views inside
    assumed pads, of every fourth window: a copy cropped on some sides shares them with
    its original's centre, a padded one with its original. A few windows are enough to
    bring the original up as a candidate; the comparison uses all."""
    views = [hashes for _, hashes in fp.shifted_views]
    views += [hashes for _, hashes, _, _ in (*fp.padded_views, *fp.filled_views)]
    return tuple(h for hashes in views for h in hashes[::4])


_BAND_BITS = 16  # the repository indexes 16-bit bands of the hash
_QUERY_KEYS = 512
_QUERY_FLIPS = 4


def _uncertain_variants(fp: VideoFingerprint) -> tuple[int, ...]:
    import numpy as np

    if not fp.descriptors:
        return ()
    hashes = np.array(fp.hashes, dtype=np.uint64)
    _, first = np.unique(hashes, return_index=True)
    flips = min(_QUERY_FLIPS, int(math.log2(max(1.0, _QUERY_KEYS / (16 * len(first))))))
    if flips < 1:
        return ()
    rows = np.frombuffer(fp.descriptors, dtype=np.int8).reshape(-1, 2 * _HALF)[np.sort(first)]
    even, odd, middle = _halves(rows)
    # How far each bit is from flipping (odd doubled: the same scale as ``middle``).
    margin = np.concatenate([np.abs(2 * even - middle[:, None]), 2 * np.abs(odd)], axis=1)
    out: list[int] = []
    for row, h in zip(margin, hashes[np.sort(first)].tolist(), strict=True):
        for band in range(64 // _BAND_BITS):
            lo = band * _BAND_BITS
            weak = lo + np.argsort(row[lo : lo + _BAND_BITS], kind="stable")[:flips]
            for subset in range(1, 1 << flips):
                mask = 0
                for j, bit in enumerate(weak.tolist()):
                    if subset >> j & 1:
                        mask |= 1 << bit
                out += (h ^ mask, h ^ mask ^ _FLIP_MASK)
    return tuple(out)


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
    Raises :class:`FingerprintError` when it claims one of our algorithms but is
    malformed or is not what its ``alg`` says.
    """
    body = data.get("data", data) if isinstance(data, dict) else None
    if not isinstance(body, dict) or body.get("alg") not in ALGORITHMS:
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
    fp = VideoFingerprint.from_bytes(raw)
    if fp.algorithm != body.get("alg"):
        raise FingerprintError("soft binding value is not of the algorithm it names")
    return fp


# -- repository prefilter ----------------------------------------------------------------


_PREFILTER_CELLS = 1 << 20  # query x stored sample pairs compared per block


def _v2_layout(blob: bytes) -> tuple[npt.NDArray[np.int64], bytes, bytes] | None:
    """A stored v2 fingerprint with descriptors as (slots, descriptors, zoomed), read
    without computing its hashes; None unless :meth:`VideoFingerprint.from_bytes`
    would read it as exactly that (anything else is left to it)."""
    import numpy as np

    if blob[:4] != _MAGIC2 or len(blob) < _HEADER2.size:
        return None
    _, period_ms, _, count, flags = _HEADER2.unpack_from(blob)
    if (
        period_ms != round(SAMPLE_PERIOD * 1000)
        or not flags & _HAS_DESCRIPTORS
        or flags & ~_KNOWN_FLAGS
    ):
        return None
    nbitmap = (count + 7) // 8
    bitmap = blob[_HEADER2.size : _HEADER2.size + nbitmap]
    if not count or len(bitmap) != nbitmap:
        return None
    slots = np.flatnonzero(np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8))[:count])
    per_slot = 2 * _HALF * (2 if flags & _HAS_ZOOMED else 1)
    per_slot += _MOTION_CELLS**2 if flags & _HAS_MOTION else 0
    per_slot += _PATH_BYTES if flags & _HAS_PATH else 0
    per_slot += len(_SHIFTS) * 2 * _HALF if flags & _HAS_SHIFTED else 0
    body = blob[_HEADER2.size + nbitmap :]
    if not len(slots) or slots[-1] != count - 1 or len(body) != per_slot * len(slots):
        return None
    half = 2 * _HALF * len(slots)
    zoomed = bytes(body[half : 2 * half]) if flags & _HAS_ZOOMED else b""
    return slots.astype(np.int64), bytes(body[:half]), zoomed


def stored_hashes(fp: VideoFingerprint) -> bytes | None:
    """What a repository may keep beside a v2 fingerprint with descriptors so that
    :func:`worth_comparing` need not derive them: its hashes, then its zoomed hashes,
    8 bytes big-endian each. None for other fingerprints."""
    import numpy as np

    if fp.algorithm != ALGORITHM_V2 or not fp.descriptors:
        return None
    return np.array(fp.hashes + fp.zoomed_hashes, dtype=">u8").tobytes()


def worth_comparing(
    query: VideoFingerprint,
    blobs: Sequence[bytes],
    hashes: Sequence[bytes | None] | None = None,
) -> list[bool]:
    """For stored v2 fingerprints (their bytes), False where :func:`compare_detail` of
    ``query`` with it provably gives ``(None, None)``: no match and no near miss.

    :func:`_compare_v2` tries only alignments that at least ``V2_MIN_MATCHES / 2``
    hash votes point to; this computes the same votes (same pairs, same weights,
    same bins) for all the blobs at once, vectorised, and says False only where no
    orientation, view and speed reaches that. True for everything else, including
    bytes it does not read itself (they go through the full path, errors and all).
    Saves a repository the parse and comparison of most chance candidates.
    ``hashes`` (per blob, optional) are its :func:`stored_hashes`; where one is
    missing or of the wrong size they are derived from the descriptors.
    """
    import numpy as np

    keep = [True] * len(blobs)
    if query.algorithm != ALGORITHM_V2 or not query.hashes:
        return keep
    # One group per (blob, view): its slots; its hashes as stored, or its descriptors.
    slots: list[npt.NDArray[np.int64]] = []
    kinds: list[int] = []  # 0: the whole picture, 1: its centre
    owner: list[int] = []
    given: list[npt.NDArray[np.uint64] | None] = []
    derive: list[bytes] = []
    for i, blob in enumerate(blobs):
        layout = _v2_layout(bytes(blob)) if isinstance(blob, bytes | bytearray) else None
        if layout is None:
            continue
        s, desc, zoomed = layout
        views = [desc, zoomed] if zoomed and query.descriptors else [desc]
        known = hashes[i] if hashes is not None else None
        if not isinstance(known, bytes) or len(known) != 8 * len(s) * (2 if zoomed else 1):
            known = None  # not what stored_hashes() makes of this fingerprint
        for v, data in enumerate(views):
            slots.append(s)
            kinds.append(v)
            owner.append(i)
            if known is None:
                given.append(None)
                derive.append(data)
            else:
                part = np.frombuffer(known, dtype=">u8")[v * len(s) : (v + 1) * len(s)]
                given.append(part.astype(np.uint64))
    if not owner:
        return keep
    for i in set(owner):
        keep[i] = False
    derived = np.array(_hashes_of(b"".join(derive)), dtype=np.uint64)
    parts: list[npt.NDArray[np.uint64]] = []
    at = 0
    for s, known_part in zip(slots, given, strict=True):
        if known_part is None:
            parts.append(derived[at : at + len(s)])
            at += len(s)
        else:
            parts.append(known_part)
    hb = np.concatenate(parts)
    sb = np.concatenate(slots)
    sizes = np.array([len(s) for s in slots], dtype=np.int64)
    group = np.repeat(np.arange(len(slots), dtype=np.int64), sizes)
    kind = np.array(kinds, dtype=np.int64)[group]
    ha = _as_array(query)
    sa = np.rint(np.array(query.timestamps) / SAMPLE_PERIOD).astype(np.int64)
    span = int(sb.max()) + math.ceil(max(SPEEDS) * float(sa.max())) + 2
    reached = np.zeros(len(slots), dtype=bool)
    step = max(1, _PREFILTER_CELLS // len(ha))  # stored samples per block: bounded memory
    # The query's views as _compare_v2 pairs them: its own hashes with every stored
    # view, each shifted view's with the stored centres only, each padded view's with
    # the stored wholes only.
    queries: list[tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]] = [
        (ha, np.arange(len(hb), dtype=np.int64))
    ]
    centres = np.flatnonzero(kind == 1)
    if len(centres):
        for _, view_hashes in query.shifted_views:
            queries.append((np.array(view_hashes, dtype=np.uint64), centres))
    wholes = np.flatnonzero(kind == 0)
    for _, view_hashes, _, _ in (*query.padded_views, *query.filled_views):
        queries.append((np.array(view_hashes, dtype=np.uint64), wholes))
    for (hq_view, cols), mirrored in itertools.product(queries, (False, True)):
        _votes_reach(
            hq_view ^ np.uint64(_FLIP_MASK) if mirrored else hq_view,
            sa,
            hb[cols],
            sb[cols],
            group[cols],
            reached,
            span,
            step,
        )
    for i, hit in zip(owner, reached.tolist(), strict=True):
        keep[i] = keep[i] or hit
    return keep


def _votes_reach(
    hq: npt.NDArray[np.uint64],
    sa: npt.NDArray[np.int64],
    hb: npt.NDArray[np.uint64],
    sb: npt.NDArray[np.int64],
    group: npt.NDArray[np.int64],
    reached: npt.NDArray[np.bool_],
    span: int,
    step: int,
) -> None:
    """Mark in ``reached`` the stored groups some alignment of the query hashes ``hq``
    gets at least ``V2_MIN_MATCHES / 2`` votes with (as :func:`_compare_v2` counts)."""
    import numpy as np

    width = 2 * span + 1
    nslots = len(reached)
    if not len(hb):
        return
    hits = []
    for lo in range(0, len(hb), step):
        dist = _popcount(hq[:, None] ^ hb[None, lo : lo + step])
        ia, jb = np.nonzero(dist <= V2_VOTE_DISTANCE)
        w = 1.0 - dist[ia, jb] / (2.0 * (V2_VOTE_DISTANCE + 1))
        hits.append((ia, jb + lo, w))
    ia = np.concatenate([h[0] for h in hits])
    jb = np.concatenate([h[1] for h in hits])
    w = np.concatenate([h[2] for h in hits])
    g = group[jb]
    # No alignment gets more votes than all of a group's pairs together.
    total = np.bincount(g, weights=w, minlength=nslots)
    live = np.flatnonzero(total >= V2_MIN_MATCHES / 2 - 1e-9)
    if not len(live):
        return
    renumber = np.full(nslots, -1, dtype=np.int64)
    renumber[live] = np.arange(len(live))
    sel = renumber[g] >= 0
    ia, jb, w, g = ia[sel], jb[sel], w[sel], renumber[g[sel]]
    for speed in SPEEDS:
        bins = np.rint(sb[jb] - speed * sa[ia]).astype(np.int64) + span
        votes = np.bincount(g * width + bins, weights=w, minlength=len(live) * width)
        best = votes.reshape(len(live), width).max(axis=1)
        reached[live] |= best >= V2_MIN_MATCHES / 2 - 1e-9
