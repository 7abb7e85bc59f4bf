"""The perceptual video fingerprint: what it survives, what it tells apart, how it fails.

Synthetic clips are real H.264/VP9 made by tests/videogen.py with PyAV: textured
backgrounds, moving shapes, pans and cuts, 160x120, 8 s, 25 fps, AAC audio. Real
material comes from fixtures/third_party: photographs (scikit-image, CC0 / public
domain) animated the way an app's photo-to-video feature does, and an excerpt of a film
(Big Buck Bunny, CC BY 3.0). The accuracy on a large real set is measured by
bench/fingerprint_accuracy.py, not here.
"""

from __future__ import annotations

import base64
import functools
import gzip
import itertools
import json
import math
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.errors import InputError, ProvenanceError
from provenance.fingerprint import (
    ALGORITHM,
    ALGORITHM_V1,
    ALGORITHM_V2,
    SAMPLE_PERIOD,
    SOFT_BINDING_LABEL,
    FingerprintError,
    Match,
    VideoFingerprint,
    compare,
    compute_many,
    from_soft_binding,
    query_hashes,
    soft_binding_assertion,
)
from provenance.fingerprint import compute as _compute

from .videogen import (
    TRANSFORMS,
    ClipSpec,
    cached_clip,
    cached_transform,
    encode_frames,
    make_audio_only,
    make_dimension_bomb,
    reencode,
    write_garbage,
)

# These tests measure v2 (the default; signing records it): every compute here asks for
# v2 unless it names v1.
compute = functools.partial(_compute, algorithm=ALGORITHM_V2)

ORIGINAL = ClipSpec(seed=1)
UNRELATED = [ClipSpec(seed=2), ClipSpec(seed=3, seconds=7.0)]
# Two unrelated clips on one static background, with different moving shapes.
# This background (a smooth gradient) dominates every frame's coarse structure.
SAME_BACKGROUND = [ClipSpec(seed=2005, background_seed=1), ClipSpec(seed=2006, background_seed=1)]


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "clips"


@pytest.fixture(scope="session")
def original(clip_dir: Path) -> Path:
    return cached_clip(clip_dir, ORIGINAL)


@pytest.fixture(scope="session")
def original_fp(original: Path) -> VideoFingerprint:
    return compute(original)


def _recovered(original_fp: VideoFingerprint, copy: Path) -> Match:
    match = compare(original_fp, compute(copy))
    assert match is not None, f"{copy.name} was not matched to its original"
    return match


# -- what it survives -------------------------------------------------------------------


@pytest.mark.parametrize(
    "transform",
    [
        "remux (mkv)",
        "audio removed",
        "re-encode CRF 32",
        "re-encode CRF 35",
        "VP9/WebM",
        "downscale 50%",
        "crop 5% each side",
        "fps 25 -> 15",
        "corner logo",
        "horizontal flip",
        "pad into 9:16, black bars",
        "pad into 16:9, blurred fill",
    ],
)
def test_transformed_copy_is_recovered_in_place(
    transform: str, clip_dir: Path, original: Path, original_fp: VideoFingerprint
) -> None:
    match = _recovered(original_fp, cached_transform(clip_dir, original, transform))
    assert match.offset == 0.0
    assert match.mirrored == (transform == "horizontal flip")
    assert match.similarity >= 0.6
    # Nearly the whole clip is covered, not a lucky stretch of it.
    assert match.a_end - match.a_start >= original_fp.duration - 1.0


def test_lossless_changes_give_identical_fingerprints(
    clip_dir: Path, original: Path, original_fp: VideoFingerprint
) -> None:
    for transform in ("remux (mkv)", "audio removed"):
        fp = compute(cached_transform(clip_dir, original, transform))
        assert fp.hashes == original_fp.hashes
        assert compare(original_fp, fp) == compare(original_fp, original_fp)


@pytest.mark.parametrize("slices", [1, 2, 4])
def test_decoder_threading_changes_no_fingerprint(
    original: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slices: int
) -> None:
    """H.264 cut into slices is decoded with slice threads (issue 19), anything else with
    FFmpeg's choice; the fingerprint is the same bit for bit either way."""
    import av

    from provenance import fingerprint as fp

    clip = reencode(original, tmp_path / "sliced.mp4", crf=23, slices=slices)
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        chosen = fp._thread_type(stream.codec_context, next(container.demux(stream)))
    assert chosen == ("SLICE" if slices > 1 else "AUTO")
    picked = compute(clip).to_bytes(shifted=True)
    monkeypatch.setattr(fp, "_thread_type", lambda ctx, first: "AUTO")
    assert compute(clip).to_bytes(shifted=True) == picked
    monkeypatch.setattr(fp, "_thread_type", lambda ctx, first: "SLICE")
    assert compute(clip).to_bytes(shifted=True) == picked


@pytest.mark.parametrize(
    "packet",
    [b"", b"\x00\x00\x00", b"\xff\xff\xff\xff\x65", b"\x00\x00\x00\x01\x65" * 200],
)
def test_slice_count_of_a_hostile_first_packet_is_bounded(packet: bytes) -> None:
    from provenance import fingerprint as fp

    class Ctx:
        name = "h264"
        extradata = bytes([1, 100, 0, 31, 0xFF, 0xE1, 0])

    assert fp._thread_type(Ctx(), packet) in ("AUTO", "SLICE")


def test_trim_at_both_ends_is_recovered_with_its_offset(
    clip_dir: Path, original: Path, original_fp: VideoFingerprint
) -> None:
    trimmed = compute(cached_transform(clip_dir, original, "trim 1 s both ends"))
    assert trimmed.duration == pytest.approx(original_fp.duration - 2.0, abs=0.1)
    match = _recovered(original_fp, cached_transform(clip_dir, original, "trim 1 s both ends"))
    # Second 1.0 of the original is second 0.0 of the trimmed copy.
    assert match.offset == pytest.approx(-1.0)
    assert match.a_start == pytest.approx(1.0, abs=SAMPLE_PERIOD)
    assert match.b_start == pytest.approx(0.0, abs=SAMPLE_PERIOD)
    assert match.a_end == pytest.approx(original_fp.duration - 1.0, abs=2 * SAMPLE_PERIOD)
    # The other way round the offset changes sign.
    back = compare(trimmed, original_fp)
    assert back is not None and back.offset == pytest.approx(1.0)


@pytest.mark.parametrize("seconds", [1.0, 2.0])
def test_trims_up_to_two_seconds_are_recovered(
    seconds: float, clip_dir: Path, original: Path, original_fp: VideoFingerprint
) -> None:
    name = "trim 1 s both ends" if seconds == 1.0 else "trim 2 s both ends"
    match = _recovered(original_fp, cached_transform(clip_dir, original, name))
    assert match.offset == pytest.approx(-seconds)


@pytest.mark.slow
@pytest.mark.parametrize("transform", list(TRANSFORMS))
def test_every_transform_at_320x240(transform: str, clip_dir: Path) -> None:
    """Larger frames, another clip, and the combined re-upload transform too."""
    src = cached_clip(clip_dir, ClipSpec(seed=11, width=320, height=240, seconds=10.0))
    _recovered(compute(src), cached_transform(clip_dir, src, transform))


# -- what it tells apart ----------------------------------------------------------------


def test_unrelated_clips_do_not_match(clip_dir: Path, original_fp: VideoFingerprint) -> None:
    others = [compute(cached_clip(clip_dir, spec)) for spec in UNRELATED]
    for other in others:
        assert compare(original_fp, other) is None
        assert compare(other, original_fp) is None
    assert compare(others[0], others[1]) is None


def test_clips_on_the_same_static_background_do_not_match(clip_dir: Path) -> None:
    a, b = (compute(cached_clip(clip_dir, spec)) for spec in SAME_BACKGROUND)
    # Sample by sample they look alike: the background dominates the picture ...
    dist = [bin(x ^ y).count("1") for x, y in zip(a.hashes, b.hashes, strict=False)]
    assert np.median(dist) < 20
    # ... but they do not change together over time, so they are not the same clip.
    assert compare(a, b) is None
    assert compare(b, a) is None


def test_speed_change_is_recovered_with_its_speed(
    clip_dir: Path, original: Path, original_fp: VideoFingerprint
) -> None:
    copy = compute(cached_transform(clip_dir, original, "speed 1.1x"))
    # The query is the copy: its second 1.0 shows the original's second 1.1.
    match = compare(copy, original_fp)
    assert match is not None and match.speed == pytest.approx(1.1)
    assert "1.1x" in match.explain()


def test_v1_still_pictures_never_match_v2_ones_match_only_themselves() -> None:
    """v1 took thirty identical samples for one piece of evidence and refused them; v2
    matches a still clip on its content, with a stricter threshold, and says so."""
    stamps = tuple(i * SAMPLE_PERIOD for i in range(30))
    v1 = VideoFingerprint(ALGORITHM_V1, (0x0123_4567_89AB_CDEF,) * 30, stamps, 7.5)
    assert compare(v1, v1) is None
    still = VideoFingerprint(ALGORITHM_V2, (0x0123_4567_89AB_CDEF,) * 30, stamps, 7.5)
    match = compare(still, still)
    assert match is not None and match.still and match.similarity == 1.0
    assert "still picture" in match.explain()
    other = VideoFingerprint(
        ALGORITHM_V2, (0x0123_4567_89AB_CDEF ^ 0x0F0F_0F0F_F0F0_F0F0,) * 30, stamps, 7.5
    )
    assert compare(still, other) is None
    # v1 and v2 fingerprints are never compared with each other.
    assert compare(v1, still) is None


def test_identical_fingerprints_match_fully(original_fp: VideoFingerprint) -> None:
    match = compare(original_fp, original_fp)
    assert match is not None
    assert (match.similarity, match.correlation, match.offset) == (1.0, 1.0, 0.0)
    assert match.matched_samples == len(original_fp.hashes)


def test_blank_frames_are_left_out(tmp_path: Path) -> None:
    """Two black seconds between two clips of content: those samples are absent."""
    rng = np.random.default_rng(0)
    texture = (rng.random((120, 160, 3)) * 255).astype(np.uint8)

    def frames() -> Iterator[tuple[float, np.ndarray]]:
        for i in range(6 * 25):
            t = i / 25
            img = np.zeros_like(texture) if 2 <= t < 4 else np.roll(texture, i, axis=1)
            yield t, img

    fp = compute(encode_frames(tmp_path / "gap.mp4", frames(), fps=25))
    assert not [t for t in fp.timestamps if 2.0 <= t < 4.0]
    assert [t for t in fp.timestamps if t < 2.0] and [t for t in fp.timestamps if t >= 4.0]


# -- how it fails -----------------------------------------------------------------------


def _empty(d: Path) -> Path:
    (d / "empty.mp4").write_bytes(b"")
    return d / "empty.mp4"


def _text(d: Path) -> Path:
    (d / "notes.txt").write_text("not a video\n" * 50)
    return d / "notes.txt"


def _one_frame(d: Path) -> Path:
    still = (np.random.default_rng(1).random((120, 160, 3)) * 255).astype(np.uint8)
    return encode_frames(d / "one-frame.mp4", iter([(0.0, still)]), fps=25)


UNUSABLE: dict[str, Callable[[Path], Path]] = {
    "garbage": lambda d: write_garbage(d / "noise.mp4", 8192),
    "tiny": lambda d: write_garbage(d / "tiny.mp4", 7),
    "empty": _empty,
    "text": _text,
    "audio-only": lambda d: make_audio_only(d / "tone.m4a"),
    "one frame": _one_frame,
    "missing": lambda d: d / "missing.mp4",
    "directory": lambda d: d,
}


@pytest.mark.parametrize("kind", UNUSABLE)
def test_unusable_input_raises_input_error_naming_the_file(kind: str, tmp_path: Path) -> None:
    path = UNUSABLE[kind](tmp_path)
    with pytest.raises(InputError, match=re.escape(path.name)):
        compute(path)


def test_truncated_and_corrupted_clips_fail_cleanly_or_partially(
    tmp_path: Path, original: Path
) -> None:
    data = original.read_bytes()
    head = tmp_path / "head.mp4"
    head.write_bytes(data[:3000])  # the header promises frames that are not there
    with pytest.raises(InputError, match=r"head\.mp4"):
        compute(head)
    # Noise over the middle of the file: either a (partial) fingerprint or an InputError.
    noisy = bytearray(data)
    noisy[len(data) // 3 : len(data) // 3 + 20000] = write_garbage(
        tmp_path / "g", 20000
    ).read_bytes()
    (tmp_path / "noisy.mp4").write_bytes(noisy)
    try:
        fp = compute(tmp_path / "noisy.mp4")
    except InputError as exc:
        assert "noisy.mp4" in str(exc)
    else:
        assert fp.duration <= 8.5


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.floats(0.0, 1.0), st.binary(min_size=1, max_size=64)), max_size=8))
def test_damaged_clips_give_a_fingerprint_or_an_input_error(
    tmp_path: Path, original: Path, damage: list[tuple[float, bytes]]
) -> None:
    data = bytearray(original.read_bytes())
    for where, junk in damage:
        at = int(where * (len(data) - len(junk)))
        data[at : at + len(junk)] = junk
    path = tmp_path / "damaged.mp4"
    path.write_bytes(bytes(data))
    try:
        compute(path, timeout=30)
    except InputError as exc:
        assert "damaged.mp4" in str(exc)


def test_decoding_is_bounded(original: Path) -> None:
    short = compute(original, max_seconds=3.0)
    assert short.duration <= 3.1 and max(short.timestamps) < 3.0
    # 20 decoded frames: under a second and a half of this 25 fps clip, even with the
    # frames the decoder was allowed to skip.
    assert compute(original, max_frames=20).duration < 1.5
    with pytest.raises(InputError, match="took longer than"):
        compute(original, timeout=0)


def test_input_error_is_a_provenance_error() -> None:
    assert issubclass(InputError, ProvenanceError)
    assert issubclass(FingerprintError, ProvenanceError)


# -- serialisation and the soft-binding assertion --------------------------------------


def test_bytes_round_trip_and_size(original_fp: VideoFingerprint) -> None:
    data = original_fp.to_bytes()
    assert VideoFingerprint.from_bytes(data) == original_fp
    # 64 descriptor bytes, 64 zoomed ones, a 16-byte motion signature and a 3-byte
    # motion path per 0.25 s window: 35 KB a minute.
    assert original_fp.path
    assert len(data) <= 15 + 147 * len(original_fp.hashes) + len(original_fp.hashes) // 8 + 1


def test_v1_fingerprints_are_still_made_read_and_matched(clip_dir: Path, original: Path) -> None:
    v1 = compute(original, algorithm=ALGORITHM_V1)
    assert v1.algorithm == ALGORITHM_V1 and not v1.descriptors
    assert VideoFingerprint.from_bytes(v1.to_bytes()) == v1
    assert from_soft_binding(soft_binding_assertion(v1)) == v1
    copy = compute(cached_transform(clip_dir, original, "re-encode CRF 32"), algorithm=ALGORITHM_V1)
    match = compare(copy, v1)
    assert match is not None and match.algorithm == ALGORITHM_V1


@st.composite
def fingerprints(draw: st.DrawFn) -> VideoFingerprint:
    slots = sorted(draw(st.sets(st.integers(0, 2000), max_size=60)))
    hashes = draw(st.lists(st.integers(0, 2**64 - 1), min_size=len(slots), max_size=len(slots)))
    duration = draw(st.integers(0, 600_000)) / 1000
    stamps = tuple(round(s * SAMPLE_PERIOD, 3) for s in slots)
    algorithm = draw(st.sampled_from([ALGORITHM_V1, ALGORITHM_V2]))
    return VideoFingerprint(algorithm, tuple(hashes), stamps, duration)


@given(fingerprints())
def test_any_fingerprint_round_trips(fp: VideoFingerprint) -> None:
    assert VideoFingerprint.from_bytes(fp.to_bytes()) == fp
    assert from_soft_binding(soft_binding_assertion(fp)) == fp


@st.composite
def full_v2(draw: st.DrawFn) -> VideoFingerprint:
    """Any v2 fingerprint with every part, as a hostile soft-binding assertion may
    carry it: descriptors, centre, motion signature and motion path of arbitrary bytes;
    and the query-side views (shifted, inside assumed pads) of arbitrary bytes too."""
    from provenance.fingerprint import _hashes_of

    n = draw(st.integers(8, 40))
    first = draw(st.integers(0, 8))
    part = lambda size: draw(st.binary(min_size=size * n, max_size=size * n))  # noqa: E731
    desc = part(64)
    stamps = tuple((first + k) * SAMPLE_PERIOD for k in range(n))
    return VideoFingerprint(
        ALGORITHM_V2,
        _hashes_of(desc),
        stamps,
        (first + n) * SAMPLE_PERIOD,
        desc,
        part(64),
        part(16),
        part(3),
        part(9 * 64) if draw(st.booleans()) else b"",
        part(draw(st.integers(0, 3)) * 83),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(full_v2(), full_v2())
def test_any_full_v2_fingerprint_round_trips_and_compares(
    a: VideoFingerprint, b: VideoFingerprint
) -> None:
    assert VideoFingerprint.from_bytes(a.to_bytes()) == a
    query = VideoFingerprint.from_bytes(a.to_bytes(shifted=True))
    assert (query.shifted, query.padded) == (a.shifted, a.padded)
    for x, y in ((a, b), (a, a), (b, a)):
        m = compare(x, y)
        assert m is None or 0.0 <= m.similarity <= 1.0


@given(st.binary(max_size=200))
def test_malformed_bytes_raise_only_fingerprint_error(data: bytes) -> None:
    try:
        VideoFingerprint.from_bytes(data)
    except FingerprintError:
        pass


def test_unserialisable_fingerprints_are_refused() -> None:
    with pytest.raises(FingerprintError, match="timestamp"):
        VideoFingerprint(ALGORITHM, (1, 2), (0.0,), 1.0)
    with pytest.raises(FingerprintError, match="increasing"):
        VideoFingerprint(ALGORITHM, (1, 2), (0.5, 0.25), 1.0).to_bytes()
    with pytest.raises(FingerprintError, match="64-bit"):
        VideoFingerprint(ALGORITHM, (2**64,), (0.0,), 1.0).to_bytes()
    with pytest.raises(FingerprintError, match="algorithm"):
        VideoFingerprint("com.example.other", (1,), (0.0,), 1.0).to_bytes()


def test_soft_binding_assertion(original_fp: VideoFingerprint) -> None:
    assertion = soft_binding_assertion(original_fp)
    assert assertion["label"] == SOFT_BINDING_LABEL == "c2pa.soft-binding"
    assert assertion["data"]["alg"] == ALGORITHM_V2 == "org.provcheck.vphash.v2"
    assert ALGORITHM == ALGORITHM_V2  # what signing records by default
    (block,) = assertion["data"]["blocks"]
    assert block["scope"] == {}
    assert base64.b64decode(block["value"]) == original_fp.to_bytes()
    assert from_soft_binding(assertion) == original_fp
    assert from_soft_binding(assertion["data"]) == original_fp


def test_soft_binding_of_another_algorithm_is_ignored_and_ours_checked() -> None:
    assert from_soft_binding({"alg": "com.example.watermark", "blocks": []}) is None
    with pytest.raises(FingerprintError, match="blocks"):
        from_soft_binding({"alg": ALGORITHM, "blocks": []})
    with pytest.raises(FingerprintError, match="base64"):
        from_soft_binding({"alg": ALGORITHM, "blocks": [{"scope": {}, "value": "%%%"}]})
    with pytest.raises(FingerprintError):
        from_soft_binding({"alg": ALGORITHM, "blocks": [{"scope": {}, "value": "AAAA"}]})
    # A value that is not of the algorithm its alg names.
    v1 = VideoFingerprint(ALGORITHM_V1, (1,), (0.0,), 1.0)
    value = base64.b64encode(v1.to_bytes()).decode()
    with pytest.raises(FingerprintError, match="not of the algorithm"):
        from_soft_binding({"alg": ALGORITHM_V2, "blocks": [{"scope": {}, "value": value}]})


# -- real material: photographs animated like an app does, a film excerpt -----------------

THIRD_PARTY = Path(__file__).resolve().parents[1] / "fixtures" / "third_party"
PHOTOS = THIRD_PARTY / "scikit-image"
BUNNY = THIRD_PARTY / "big-buck-bunny" / "bbb-320x180-5s.mp4"

# (zoom at start, at end, centre x at start, at end): slow, eased, as photo-to-video apps do.
MOTIONS = {
    "zoom-in": (1.0, 1.2, 0.5, 0.5),
    "pan-right": (1.15, 1.15, 0.42, 0.58),
    "zoom-in-right": (1.0, 1.2, 0.42, 0.58),
    "still": (1.0, 1.0, 0.5, 0.5),
}


def _photo(stem: str) -> np.ndarray:
    import av

    with av.open(str(PHOTOS / f"{stem}.jpg")) as c:
        return np.asarray(next(c.decode(video=0)).to_ndarray(format="rgb24"))


def _animate(stem: str, motion: str, size: tuple[int, int] = (180, 320), seconds: float = 4.0):  # type: ignore[no-untyped-def]
    """(time, frame) of a photo covering a vertical frame, zoomed/panned smoothly."""
    import av

    img = _photo(stem)
    w, h = size
    ih, iw = img.shape[:2]
    z0, z1, x0, x1 = MOTIONS[motion]
    ch0 = ih if iw / ih > w / h else iw * h / w
    fps = 15
    n = round(seconds * fps)
    for k in range(n):
        s = 0.5 - 0.5 * math.cos(math.pi * k / (n - 1))
        zoom = z0 + (z1 - z0) * s
        ch = int(ch0 / zoom)
        cw = int(ch * w / h)
        cx = (x0 + (x1 - x0) * s) * iw
        left = int(min(max(cx - cw / 2, 0), iw - cw))
        top = (ih - ch) // 2
        crop = np.ascontiguousarray(img[top : top + ch, left : left + cw])
        frame = av.VideoFrame.from_ndarray(crop, format="rgb24").reformat(width=w, height=h)
        yield k / fps, frame.to_ndarray(format="rgb24")


@pytest.fixture(scope="session")
def real_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("real")


def _clip(real_dir: Path, stem: str, motion: str) -> Path:
    path = real_dir / f"{stem}-{motion}.mp4"
    return path if path.exists() else encode_frames(path, _animate(stem, motion), fps=15)


def test_photo_to_video_copy_mirrored_and_padded_is_recovered(real_dir: Path) -> None:
    """The way short clips travel: a vertical photo animation re-posted mirrored, inside a
    16:9 frame with a blurred fill, re-encoded."""
    from .videogen import _boxed, _decoded, _mirrored

    original = _clip(real_dir, "chelsea", "zoom-in")
    frames = ((t, _boxed(_mirrored(img), 320, 180, "blur")) for t, img in _decoded(original))
    copy = encode_frames(real_dir / "chelsea-reposted.mp4", frames, fps=15, crf=30)
    match = compare(compute(copy), compute(original))
    assert match is not None and match.mirrored and not match.still
    assert match.similarity >= 0.9 and match.offset == 0.0


def test_same_photo_with_another_motion_is_another_clip(real_dir: Path) -> None:
    """A different generation from one photo is not a copy of the first."""
    zoom = compute(_clip(real_dir, "chelsea", "zoom-in"))
    pan = compute(_clip(real_dir, "chelsea", "pan-right"))
    still = compute(_clip(real_dir, "chelsea", "still"))
    for a, b in itertools.permutations([zoom, pan, still], 2):
        assert compare(a, b) is None


def test_still_clip_matches_its_copy_and_no_other_still(real_dir: Path) -> None:
    from .videogen import reencode

    still = compute(_clip(real_dir, "coffee", "still"))
    copy = compute(reencode(_clip(real_dir, "coffee", "still"), real_dir / "coffee-crf35", crf=35))
    match = compare(copy, still)
    assert match is not None and match.still and match.correlation == 1.0
    for other in ("chelsea", "astronaut"):
        assert compare(compute(_clip(real_dir, other, "still")), still) is None


def test_film_excerpt_matches_its_copy_not_the_next_scene(real_dir: Path) -> None:
    from .videogen import trim

    first = trim(BUNNY, real_dir / "bunny-a", 0.0, 2.6)  # 0 - 2.6 s
    second = trim(BUNNY, real_dir / "bunny-b", 2.6, 0.0)  # 2.6 s - end
    whole = compute(BUNNY)
    a, b = compute(first), compute(second)
    assert compare(a, b) is None and compare(b, a) is None
    match = compare(b, whole)
    assert match is not None and match.offset == pytest.approx(2.5, abs=0.25)


TREE = THIRD_PARTY / "opencv-samples" / "tree.avi"  # 29.6 s, one fixed camera, a tree in wind


def _stretch(dst: Path, start: float, seconds: float = 8.0, fps: int = 15) -> Path:
    """``seconds`` of TREE from ``start`` at a constant ``fps`` (the AVI stores only the
    frames that changed, about 2.3 a second; a player repeats the others)."""
    from .videogen import _decoded

    frames = list(_decoded(TREE))

    def at(t: float) -> np.ndarray:
        return next(img for ft, img in reversed(frames) if ft <= t + 1e-6)

    n = round(seconds * fps)
    return encode_frames(dst, ((k / fps, at(start + k / fps)) for k in range(n)), fps=fps)


@pytest.fixture(scope="session")
def tree_parts(real_dir: Path) -> dict[str, Path]:
    """Three 8 s stretches of one fixed camera's footage; they look the same."""
    return {
        "first": _stretch(real_dir / "tree-0.mp4", 0.0),
        "next": _stretch(real_dir / "tree-8.mp4", 8.0),
        "later": _stretch(real_dir / "tree-16.mp4", 16.0),
    }


def test_stretches_of_one_fixed_camera_are_told_apart_by_their_motion(
    real_dir: Path, tree_parts: dict[str, Path], tmp_path: Path
) -> None:
    """The picture hardly changes, but the tree does not sway at the same times: a copy
    matches its own stretch (small motions correlate), not the others, and a
    repository holding two stretches names the right one, not "ambiguous"."""
    from provenance.fingerprint import V2_MIN_MOTION_CORRELATION, compare_detail, mark_rivals
    from provenance.repository import SQLiteRepository

    from .videogen import reencode

    fps = {k: compute(v) for k, v in tree_parts.items()}
    copy = compute(reencode(tree_parts["first"], real_dir / "tree-0-crf35", crf=35))
    match = compare(copy, fps["first"])
    assert match is not None and match.still and match.motion_correlation is not None
    assert match.motion_correlation >= V2_MIN_MOTION_CORRELATION
    assert "motion correlation" in match.explain()
    other, near = compare_detail(copy, fps["later"])
    assert other is None
    assert not mark_rivals([(0, match)], [near] if near else [])[0][1].ambiguous
    # The stretch between them was never registered: it is no copy of either.
    for registered in ("first", "later"):
        assert compare(fps["next"], fps[registered]) is None
    with SQLiteRepository(tmp_path / "repo.sqlite3") as repo:
        first = repo.add(b"first", fps["first"], {"title": "first"})
        repo.add(b"later", fps["later"], {"title": "later"})
        found = repo.lookup(copy)
        assert found and found[0][0].id == first.id and not found[0][1].ambiguous
        assert repo.lookup(fps["next"]) == []


def test_a_fill_beside_a_calm_edge_of_the_picture_is_cut_as_a_pad(
    real_dir: Path, tree_parts: dict[str, Path]
) -> None:
    """A fixed camera's 4:3 tree padded into 16:9 with a blurred fill: the picture's
    right edge is calm, so the fill there ends in a weak step; the strong step on the
    left, mirrored, finds it, and the copy hashes like the clip itself."""
    import av

    from provenance.fingerprint import _GRID2, _content_box, _decode, _Windows

    from .videogen import _boxed, _decoded

    src = tree_parts["later"]
    frames = ((t, _boxed(img, 640, 360, "blur")) for t, img in _decoded(src))
    copy = encode_frames(real_dir / "tree-16-blurred-16x9.mp4", frames, fps=15)
    windows = _Windows(_GRID2)
    with av.open(str(copy)) as container:
        _decode(
            container, "c", [windows], max_seconds=60, max_frames=5000, max_pixels=10**7, timeout=60
        )
    top, bottom, left, right = _content_box(np.stack(windows.images).astype(np.float32))
    assert (top, bottom) == (0, _GRID2)
    assert left == pytest.approx(_GRID2 / 8, abs=1) and right == pytest.approx(
        _GRID2 * 7 / 8, abs=1
    )
    assert compare(compute(copy), compute(src)) is not None


@pytest.mark.parametrize("width,height", [(640, 360), (360, 360)])
def test_a_pad_the_border_finder_misses_is_tried_where_pads_sit(
    real_dir: Path, width: int, height: int
) -> None:
    """A star field animated in a vertical frame and posted into a 16:9 or square frame
    with a blurred fill: the fill is about as busy as the picture, so the border finder
    finds no pad (or a sliver); the query's view inside the centred 9:16 box finds the
    original, and says so. Other photos' animations stay unmatched."""
    import av

    from provenance.fingerprint import _GRID2, _content_box, _decode, _Windows

    from .videogen import _boxed, _decoded

    original = _clip(real_dir, "hubble_deep_field", "zoom-in")
    frames = ((t, _boxed(img, width, height, "blur")) for t, img in _decoded(original))
    copy = encode_frames(real_dir / f"hubble-{width}x{height}.mp4", frames, fps=15, crf=30)
    windows = _Windows(_GRID2)
    with av.open(str(copy)) as container:
        _decode(
            container, "c", [windows], max_seconds=60, max_frames=5000, max_pixels=10**7, timeout=60
        )
    _, _, left, right = _content_box(np.stack(windows.images).astype(np.float32))
    assert right - left > 0.9 * _GRID2  # the pad is not seen
    query = compute(copy)
    match = compare(query, compute(original))
    assert match is not None and match.padded and not match.zoomed
    assert "padded" in match.explain()
    for other in ("chelsea", "coffee", "astronaut"):
        assert compare(query, compute(_clip(real_dir, other, "zoom-in"))) is None


def _captioned(img: np.ndarray, at: float, height: float) -> np.ndarray:
    """A caption as apps burn it in: a translucent dark bar across the frame with an
    opaque light text box inside it, and a small logo box in a top corner."""
    out = img.astype(np.float32)
    h, w = out.shape[:2]
    y0, y1 = int(at * h), int((at + height) * h)
    out[y0:y1] *= 0.35
    out[y0 + (y1 - y0) // 4 : y1 - (y1 - y0) // 4, w // 8 : w - w // 8] = 235.0
    out[int(0.03 * h) : int(0.09 * h), int(0.05 * w) : int(0.25 * w)] = (250.0, 60.0, 30.0)
    return np.clip(out, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    ("stem", "motion"),
    [("hubble_deep_field", "zoom-in"), ("retina", "still"), ("retina", "zoom-in")],
)
def test_a_caption_over_faint_content_is_filled_in(real_dir: Path, stem: str, motion: str) -> None:
    """A caption bar outweighs a star field or a dark, smooth photo in the descriptor:
    the query's view with the bar's band filled in from the rows around it finds the
    original, and says so. Other photos' animations stay unmatched."""
    from .videogen import _decoded

    original = _clip(real_dir, stem, motion)
    frames = ((t, _captioned(img, 0.7, 0.12)) for t, img in _decoded(original))
    copy = encode_frames(real_dir / f"{stem}-{motion}-captioned.mp4", frames, fps=15, crf=28)
    query = compute(copy)
    assert query.filled_views
    match = compare(query, compute(original))
    assert match is not None and match.filled
    assert "caption" in match.explain()
    for other in ("chelsea", "coffee", "astronaut"):
        assert compare(query, compute(_clip(real_dir, other, motion))) is None


@pytest.mark.parametrize("stem", ["chelsea", "coffee", "astronaut"])
def test_a_filled_view_of_a_picture_without_overlays_changes_no_answer(
    real_dir: Path, stem: str
) -> None:
    """A photo's own long straight edges (a table, a horizon) can look like a caption
    bar's: the query then carries a filled view too, but its copy still matches through
    its whole picture, and other photos' animations still do not match."""
    from .videogen import reencode

    original = _clip(real_dir, stem, "pan-right")
    copy = reencode(original, real_dir / f"{stem}-pan-right-crf32.mp4")
    match = compare(compute(copy), compute(original))
    assert match is not None and not match.filled
    query = compute(original)
    for other in ("chelsea", "coffee", "astronaut", "hubble_deep_field", "retina"):
        if other != stem:
            assert compare(query, compute(_clip(real_dir, other, "pan-right"))) is None


def test_overlay_bands_are_found_between_long_straight_edges() -> None:
    from provenance.fingerprint import _fill_bands, _overlay_bands

    rng = np.random.default_rng(3)
    stack = rng.normal(40, 6, (12, 128, 128)).astype(np.float32)
    stack[:, 90:104, 10:118] = 230.0  # a text box, 84% of the width
    stack[:, 0:9, :] = 200.0  # a banner flush with the top
    stack[:, 112:120, 90:120] = 180.0  # a logo box near the bottom
    boxes = _overlay_bands(stack, (0.0, 128.0, 0.0, 128.0))
    assert len(boxes) == 3
    banner, caption, logo = boxes
    # each box covers its overlay, with at most the two rows its edges smear over
    assert banner[0] == 0 and 8 <= banner[1] <= 10 and banner[2:] == (0, 127)
    assert 88 <= caption[0] <= 90 and 103 <= caption[1] <= 105 and caption[2:] == (0, 127)
    assert 110 <= logo[0] <= 112 and 119 <= logo[1] <= 121 and 88 <= logo[2] <= 90
    filled = _fill_bands(stack, [caption])
    inside = filled[:, caption[0] : caption[1] + 1]
    assert abs(float(inside.mean()) - 40.0) < 3  # blended from the rows around it
    assert np.array_equal(filled[:, : caption[0]], stack[:, : caption[0]])
    plain = rng.normal(40, 6, (12, 128, 128)).astype(np.float32)
    plain[:, 50:64, 50:70] = 230.0  # a small box mid-frame is no caption and no logo
    assert _overlay_bands(plain, (0.0, 128.0, 0.0, 128.0)) == []


def test_an_original_whose_motion_agrees_clearly_less_is_no_rival() -> None:
    """Two stretches of one fixed camera look the same (closeness ~1 for both); the
    one whose small motions agree far better with the copy is named."""
    import dataclasses

    from provenance.fingerprint import RIVAL_MOTION_MARGIN, mark_rivals

    top = Match(1.0, 1.0, 0.0, 8.0, 0.0, 8.0, 0.0, 32, 1, still=True, algorithm=ALGORITHM)
    top = dataclasses.replace(top, closeness=0.999, motion_correlation=0.9)
    far = dataclasses.replace(top, motion_correlation=0.9 - RIVAL_MOTION_MARGIN - 0.05)
    near = dataclasses.replace(top, motion_correlation=0.9 - RIVAL_MOTION_MARGIN + 0.05)
    unknown = dataclasses.replace(top, motion_correlation=None)
    assert not mark_rivals([("a", top), ("b", far)])[0][1].ambiguous
    assert mark_rivals([("a", top), ("b", near)])[0][1].ambiguous
    assert mark_rivals([("a", top), ("b", unknown)])[0][1].ambiguous


def test_one_photo_animated_two_ways_is_told_apart_by_its_motion_path(real_dir: Path) -> None:
    """A pan and a pan with a zoom of one photo: a different generation, not a copy.
    Their paths (how the whole picture moved) differ in the zoom; each one's own
    re-encoded copy still matches it."""
    from provenance.fingerprint import _path_values, _paths_agree

    from .videogen import reencode

    pan = compute(_clip(real_dir, "chelsea", "pan-right"))
    zoom = compute(_clip(real_dir, "chelsea", "zoom-in-right"))
    pan_path, zoom_path = _path_values(pan.path), _path_values(zoom.path)
    assert pan_path is not None and zoom_path is not None
    n = min(len(pan_path), len(zoom_path))
    assert not _paths_agree(pan_path[:n], zoom_path[:n], mirrored=False)
    assert compare(zoom, pan) is None and compare(pan, zoom) is None
    for stem, fp in (("pan-right", pan), ("zoom-in-right", zoom)):
        copy = reencode(_clip(real_dir, "chelsea", stem), real_dir / f"{stem}-crf30", crf=30)
        assert compare(compute(copy), fp) is not None


def test_copy_cropped_on_two_sides_only_is_recovered(real_dir: Path) -> None:
    """A re-post cut 10% off its left and top: the original's centre is off the copy's
    centre, found through the copy's shifted views."""
    from .videogen import _decoded

    original = _clip(real_dir, "chelsea", "zoom-in")

    def cut(img: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        c = img[round(h * 0.1) :, round(w * 0.1) :]
        return np.ascontiguousarray(c[: c.shape[0] // 2 * 2, : c.shape[1] // 2 * 2])

    frames = ((t, cut(img)) for t, img in _decoded(original))
    copy = encode_frames(real_dir / "chelsea-cut-left-top.mp4", frames, fps=15, crf=28)
    fp = compute(copy)
    match = compare(fp, compute(original))
    assert match is not None and match.zoomed and match.off_centre and not match.mirrored
    assert "cropped off-centre" in match.explain()
    # The shifted views are made for queries: never stored, never signed.
    assert fp.shifted and VideoFingerprint.from_bytes(fp.to_bytes()).shifted == b""
    assert VideoFingerprint.from_bytes(fp.to_bytes(shifted=True)).shifted == fp.shifted


def test_mirrored_copy_cropped_a_little_on_every_side_is_recovered(real_dir: Path) -> None:
    """A mirrored re-post cut 5% off every side: 11% larger than the original and 11%
    smaller than its centre, enough to lose a zoom; the copy's own centre matches."""
    from .videogen import _decoded, _mirrored

    original = _clip(real_dir, "chelsea", "zoom-in")

    def cut(img: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        dy, dx = round(h * 0.05), round(w * 0.05)
        c = _mirrored(img)[dy : h - dy, dx : w - dx]
        return np.ascontiguousarray(c[: c.shape[0] // 2 * 2, : c.shape[1] // 2 * 2])

    frames = ((t, cut(img)) for t, img in _decoded(original))
    copy = encode_frames(real_dir / "chelsea-mirrored-cut.mp4", frames, fps=15, crf=30)
    match = compare(compute(copy), compute(original))
    assert match is not None and match.mirrored and match.zoomed and not match.off_centre
    assert match.correlation >= 0.9 and "cropped to the centre" in match.explain()


# -- decompression bombs ------------------------------------------------------------------


@pytest.fixture(scope="session")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 0.75 MB H.264 MP4 of 16000x16000 frames (see fixtures/hostile/README.md)."""
    src = Path(__file__).resolve().parents[1] / "fixtures" / "hostile" / "h264-16000x16000.mp4.gz"
    path = tmp_path_factory.mktemp("bomb") / "huge.mp4"
    path.write_bytes(gzip.decompress(src.read_bytes()))
    return path


_MEASURE = """
import json, resource, sys
from provenance import fingerprint, thumbnails
out = {}
try:
    fingerprint.compute(sys.argv[1])
except Exception as exc:
    out["error"] = f"{type(exc).__name__}: {exc}"
out["thumbnail"] = thumbnails.frame_thumbnail(sys.argv[1]) is not None
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across execve (the forked test runner's
# own peak would count); VmHWM is this program's memory alone.
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
out["rss_mb"] = int(hwm.split()[1]) / 1024
print(json.dumps(out))
"""


def _measure(path: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return dict(json.loads(done.stdout))


def test_a_decompression_bomb_is_refused_before_a_frame_is_decoded(bomb: Path) -> None:
    got = _measure(bomb)
    assert "16000x16000" in str(got["error"]) and "huge.mp4" in str(got["error"])
    assert str(got["error"]).startswith("InputError")
    assert got["thumbnail"] is False
    # One decoded frame would be ~384 MB; the interpreter with NumPy and PyAV is ~120 MB.
    assert float(got["rss_mb"]) < 250  # type: ignore[arg-type]


def test_a_bitstream_that_understates_nothing_is_bounded_by_the_decoder(tmp_path: Path) -> None:
    """Declared 64x64 in the container, 16000x16000 in every JPEG frame: the decoder's
    own limit refuses the frames, so nothing is fingerprinted and memory stays small."""
    path = make_dimension_bomb(tmp_path / "liar.mp4", header=False)
    got = _measure(path)
    assert "error" in got and "liar.mp4" in str(got["error"])
    assert float(got["rss_mb"]) < 250  # type: ignore[arg-type]


def test_the_pixel_limit_is_a_parameter(bomb: Path, original: Path) -> None:
    with pytest.raises(InputError, match="larger than the 100-pixel limit"):
        compute(original, max_pixels=100)


def test_a_mirror_inverts_only_the_odd_half_of_each_hash(
    clip_dir: Path, original: Path, original_fp: VideoFingerprint
) -> None:
    """Bits 0-31 survive a mirror (the repository's first two index bands), bits 32-63
    are inverted: query_hashes() gives a repository both forms to look up."""
    mirrored = compute(cached_transform(clip_dir, original, "horizontal flip"))
    low = [
        bin((a ^ b) & 0xFFFFFFFF).count("1")
        for a, b in zip(mirrored.hashes, original_fp.hashes, strict=False)
    ]
    high = [
        bin((a ^ b) >> 32).count("1")
        for a, b in zip(mirrored.hashes, original_fp.hashes, strict=False)
    ]
    assert np.median(low) <= 4 and np.median(high) >= 28
    variants = query_hashes(mirrored)
    assert variants[: len(mirrored.hashes)] == mirrored.hashes
    back = [
        bin(a ^ b).count("1")
        for a, b in zip(
            variants[len(mirrored.hashes) : 2 * len(mirrored.hashes)],
            original_fp.hashes,
            strict=False,
        )
    ]
    assert np.median(back) <= 6


def test_one_decode_makes_both_algorithms(original: Path, original_fp: VideoFingerprint) -> None:
    both = compute_many(original)
    assert set(both) == {ALGORITHM_V1, ALGORITHM_V2}
    assert both[ALGORITHM_V2] == original_fp
    assert both[ALGORITHM_V1] == _compute(original, algorithm=ALGORITHM_V1)
    with pytest.raises(ProvenanceError, match="unknown fingerprint algorithm"):
        compute_many(original, ("com.example.other",))


def test_zoomed_descriptors_round_trip_and_unknown_flags_are_refused(
    original_fp: VideoFingerprint,
) -> None:
    assert len(original_fp.zoomed) == len(original_fp.descriptors) > 0
    data = bytearray(original_fp.to_bytes())
    assert VideoFingerprint.from_bytes(bytes(data)) == original_fp
    for flags in (2, 4, 0x83):  # zoomed without descriptors; bits nobody defined
        data[14] = flags
        with pytest.raises(FingerprintError, match="flags"):
            VideoFingerprint.from_bytes(bytes(data))


def test_a_copy_cropped_by_a_tenth_per_side_matches_the_centre_of_its_original(
    real_dir: Path,
) -> None:
    """The picture's centre is described too, so a re-post cropped by 10% on every side
    (a 25% zoom) is compared with what it shows: closely, not at the edge of a threshold."""
    from .videogen import _decoded

    original = _clip(real_dir, "chelsea", "pan-right")

    def cropped(img: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        dy, dx = h // 20 * 2, w // 20 * 2
        return np.ascontiguousarray(img[dy : h - dy, dx : w - dx])

    frames = ((t, cropped(img)) for t, img in _decoded(original))
    copy = encode_frames(real_dir / "chelsea-cropped.mp4", frames, fps=15, crf=28)
    match = compare(compute(copy), compute(original))
    assert match is not None and match.zoomed and not match.mirrored
    assert match.closeness >= 0.9 and "cropped to the centre" in match.explain()
