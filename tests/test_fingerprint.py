"""The perceptual video fingerprint: what it survives, what it tells apart, how it fails.

Every clip is real H.264/VP9 made by tests/videogen.py with PyAV: textured
backgrounds, moving shapes, pans and cuts, 160x120, 8 s, 25 fps, AAC audio.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.errors import InputError, ProvenanceError
from provenance.fingerprint import (
    ALGORITHM,
    SAMPLE_PERIOD,
    SOFT_BINDING_LABEL,
    FingerprintError,
    Match,
    VideoFingerprint,
    compare,
    compute,
    from_soft_binding,
    soft_binding_assertion,
)

from .videogen import (
    TRANSFORMS,
    ClipSpec,
    cached_clip,
    cached_transform,
    encode_frames,
    make_audio_only,
    write_garbage,
)

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
    ],
)
def test_transformed_copy_is_recovered_in_place(
    transform: str, clip_dir: Path, original: Path, original_fp: VideoFingerprint
) -> None:
    match = _recovered(original_fp, cached_transform(clip_dir, original, transform))
    assert match.offset == 0.0
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


def test_a_still_picture_alone_never_matches() -> None:
    """Thirty identical samples are one piece of evidence, not thirty."""
    still = VideoFingerprint(
        ALGORITHM, (0x0123_4567_89AB_CDEF,) * 30, tuple(i * SAMPLE_PERIOD for i in range(30)), 7.5
    )
    assert compare(still, still) is None


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
    assert len(data) <= 14 + 8 * len(original_fp.hashes) + len(original_fp.hashes) // 8 + 1


@st.composite
def fingerprints(draw: st.DrawFn) -> VideoFingerprint:
    slots = sorted(draw(st.sets(st.integers(0, 2000), max_size=60)))
    hashes = draw(st.lists(st.integers(0, 2**64 - 1), min_size=len(slots), max_size=len(slots)))
    duration = draw(st.integers(0, 600_000)) / 1000
    stamps = tuple(round(s * SAMPLE_PERIOD, 3) for s in slots)
    return VideoFingerprint(ALGORITHM, tuple(hashes), stamps, duration)


@given(fingerprints())
def test_any_fingerprint_round_trips(fp: VideoFingerprint) -> None:
    assert VideoFingerprint.from_bytes(fp.to_bytes()) == fp
    assert from_soft_binding(soft_binding_assertion(fp)) == fp


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
    assert assertion["data"]["alg"] == ALGORITHM == "org.provcheck.vphash.v1"
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
