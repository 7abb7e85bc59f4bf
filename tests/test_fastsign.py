"""Conformance of the fast signing path (provenance/_fastsign.py, issue 19).

Every output must validate Trusted in provcheck and in raw c2pa-python's Reader, play
back the same packets as its source (the chunk offsets were patched right), and any
change to the media, the moov or the XMP label must be detected. Files outside the
fast path are signed the normal way.
"""

from __future__ import annotations

import hashlib
import os
import signal
import struct
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import c2pa
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance import PemSigner, TrustConfig, Verdict, _fastsign, sign, verify
from provenance.xmp import XMP_UUID

from .conftest import FIXTURES, TEST_ROOT, media, sign_argv

CA = FIXTURES / "testca"
SIGNER = PemSigner.from_files(CA / "test-signer.key", CA / "test-signer-chain.pem")
TRUST = TrustConfig.from_files(anchors=[TEST_ROOT])

pytestmark = pytest.mark.skipif(
    not _fastsign.available(), reason="the loaded C2PA library has no embeddable calls"
)


def make_clip(
    path: Path,
    *,
    frames: int = 12,
    fmt: str = "mp4",
    faststart: bool = False,
    audio: bool = True,
    chunk_frames: int = 0,
) -> Path:
    """A real H.264 (+AAC) clip, 64x64, muxed by libavformat."""
    opts = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", format=fmt, options=opts) as out:
        vs = out.add_stream("libx264", rate=10)
        vs.width, vs.height, vs.pix_fmt = 64, 64, "yuv420p"
        vs.options = {"preset": "ultrafast", "g": "4"}
        aus = out.add_stream("aac", rate=8000) if audio else None
        apos = 0
        for i in range(frames):
            img = np.full((64, 64, 3), (i * 20) % 256, np.uint8)
            img[:, i % 64] = 255
            for pkt in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(pkt)
            if aus is not None:
                while apos < (i + 1) * 800:
                    tone = np.sin(np.arange(apos, apos + 1024) / 9).astype(np.float32)
                    af = av.AudioFrame.from_ndarray(tone[None, :], format="fltp", layout="mono")
                    af.sample_rate, af.pts, af.time_base = 8000, apos, Fraction(1, 8000)
                    for pkt in aus.encode(af):
                        out.mux(pkt)
                    apos += 1024
        for pkt in vs.encode():
            out.mux(pkt)
        if aus is not None:
            for pkt in aus.encode():
                out.mux(pkt)
    return path


def top_boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    out, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        out.append((kind, pos, size))
        pos += size
    return out


def packets(path: Path) -> list[tuple[int, int | None, str]]:
    with av.open(str(path)) as c:
        return [
            (p.stream.index, p.pts, hashlib.sha256(bytes(p)).hexdigest())
            for p in c.demux()
            if p.size
        ]


def raw_state(path: Path) -> str:
    settings_ = {"version": 1, "trust": {"user_anchors": TEST_ROOT.read_text()}}
    mime = "video/quicktime" if path.suffix == ".mov" else "video/mp4"
    with (
        c2pa.Context.from_dict(settings_) as ctx,
        open(path, "rb") as f,
        c2pa.Reader(mime, f, context=ctx) as r,
    ):
        return str(r.get_validation_state())


def fast_path_wrote(src: Path, out: Path, label: bool = True) -> bool:
    """The fast path adds the C2PA box and a free box of slack after ftyp (the normal
    path only the C2PA box); with a label both append the XMP box."""
    kinds = [k for k, _, _ in top_boxes(out.read_bytes())]
    extra = len(kinds) - len(top_boxes(src.read_bytes())) - (1 if label else 0)
    return kinds[:3] == [b"ftyp", b"uuid", b"free"] and extra == 2


def assert_fast_and_sound(src: Path, out: Path, label: bool = True) -> None:
    assert fast_path_wrote(src, out, label)
    assert verify(out, trust=TRUST).verdict is Verdict.TRUSTED
    assert raw_state(out) == "Trusted"
    assert packets(out) == packets(src)
    refused.append(not fast_path_wrote(src, out))


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"faststart": True},
        {"audio": False},
        {"fmt": "mov"},
        {"fmt": "mov", "faststart": True},
        {"frames": 60},
    ],
    ids=["mp4", "faststart", "video-only", "mov", "mov-faststart", "longer"],
)
@pytest.mark.parametrize("ai", ["fully", None])
def test_outputs_are_trusted_and_play_the_same(
    tmp_path: Path, kw: dict[str, object], ai: str
) -> None:
    ext = ".mov" if kw.get("fmt") == "mov" else ".mp4"
    src = make_clip(tmp_path / f"src{ext}", **kw)  # type: ignore[arg-type]
    out = tmp_path / f"out{ext}"
    sign(src, out, signer=SIGNER, ai=ai, ingredients=[media("photo_captured.jpg")])
    assert_fast_and_sound(src, out, label=ai is not None)
    has_xmp = XMP_UUID in out.read_bytes()
    assert has_xmp is (ai is not None)


def test_existing_xmp_box_is_retired_and_label_hashed(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "src.mp4")
    once = tmp_path / "once.mp4"
    # a file that already has an XMP box (and no C2PA box): label it again
    from provenance import xmp

    xmp.embed(src, once, "video/mp4", xmp.build_packet("trainedAlgorithmicMedia"))
    out = tmp_path / "out.mp4"
    sign(once, out, signer=SIGNER, ai="fully")
    assert_fast_and_sound(once, out)


def test_large_mdat_header(tmp_path: Path) -> None:
    """[free 8][mdat 32-bit] rewritten as one mdat with a 64-bit size: same offsets."""
    src = make_clip(tmp_path / "src.mp4")
    data = bytearray(src.read_bytes())
    boxes = top_boxes(bytes(data))
    i = [k for k, _, _ in boxes].index(b"mdat")
    assert boxes[i - 1][0] == b"free" and boxes[i - 1][2] == 8
    _, off, size = boxes[i - 1]
    data[off : off + 16] = struct.pack(">I4sQ", 1, b"mdat", size + boxes[i][2])
    wide = tmp_path / "wide.mp4"
    wide.write_bytes(bytes(data))
    out = tmp_path / "out.mp4"
    sign(wide, out, signer=SIGNER, ai="fully")
    assert_fast_and_sound(wide, out)


def _flip(path: Path, offset: int, dest: Path) -> Path:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    dest.write_bytes(bytes(data))
    return dest


def test_tampering_anywhere_is_detected(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "src.mp4", frames=40)
    out = tmp_path / "out.mp4"
    sign(src, out, signer=SIGNER, ai="fully")
    data = out.read_bytes()
    boxes = {k: (o, s) for k, o, s in top_boxes(data)}
    mo, ms = boxes[b"mdat"]
    vo, vs = boxes[b"moov"]
    xmp_off = data.index(XMP_UUID) + 16
    stco = data.index(b"stco", vo) + 12  # the first chunk offset
    targets = {
        "mdat-first": mo + 16,
        "mdat-middle": mo + ms // 2,
        "mdat-last": mo + ms - 1,
        "moov-middle": vo + vs // 2,
        "stco-entry": stco + 3,
        "xmp-label": xmp_off + len(data[xmp_off:]) // 2,
    }  # (ftyp is outside every BMFF hash by C2PA's default exclusions, on both paths)
    for name, off in targets.items():
        bad = _flip(out, off, tmp_path / f"bad-{name}.mp4")
        report = verify(bad, trust=TRUST)
        assert report.verdict is not Verdict.TRUSTED, name
        assert raw_state(bad) != "Trusted", name


def test_refused_files_are_signed_the_normal_way(tmp_path: Path) -> None:
    # already signed: the fast path refuses, the normal path re-signs (as before)
    out = tmp_path / "out.mp4"
    sign(media("ai_generated.mp4"), out, signer=SIGNER, ai="fully")
    assert verify(out, trust=TRUST).verdict is Verdict.TRUSTED
    # fragmented MP4: refused, signed the normal way
    frag = tmp_path / "frag.mp4"
    src = make_clip(tmp_path / "src.mp4")
    with (
        av.open(str(src)) as inp,
        av.open(
            str(frag), "w", format="mp4", options={"movflags": "frag_keyframe+empty_moov"}
        ) as o,
    ):
        outs = {s.index: o.add_stream_from_template(s) for s in inp.streams}
        for p in inp.demux():
            if p.dts is not None:
                p.stream = outs[p.stream.index]
                o.mux(p)
    with open(frag, "rb") as f, open(tmp_path / "x.mp4", "w+b") as d:
        with pytest.raises(_fastsign.Refused):
            _fastsign.sign_bmff(
                manifest={"title": "t", "format": "video/mp4", "assertions": []},
                signer=SIGNER.native(None),
                mime="video/mp4",
                source=frag,
                patches={},
                suffix=b"",
                dest=d,
            )
        assert os.fstat(d.fileno()).st_size == 0
        del f
    # (signing it the normal way gives a `tampered` file on c2pa 0.91 with 1 MiB
    # leaves, on main as well: a separate bug, not the fast path's)


def test_off_switch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_fastsign, "ENABLED", False)
    src = make_clip(tmp_path / "src.mp4")
    out = tmp_path / "out.mp4"
    sign(src, out, signer=SIGNER, ai="fully")
    assert not fast_path_wrote(src, out)
    assert verify(out, trust=TRUST).verdict is Verdict.TRUSTED


def _big_mdat_clip(path: Path, mib: int) -> Path:
    """A real clip whose mdat is enlarged by unreferenced data at its end (legal; no
    chunk offset moves): the fast path hashes it leaf by leaf, so a kill lands mid-hash."""
    data = media("unsigned.mp4").read_bytes()
    boxes = top_boxes(data)
    (_, off, size) = next(b for b in boxes if b[0] == b"mdat")
    extra = mib * 1024 * 1024
    with open(path, "wb") as f:
        f.write(data[:off])
        f.write(struct.pack(">I4s", size + extra, b"mdat"))
        f.write(data[off + 8 : off + size])
        block = os.urandom(1024 * 1024)
        for _ in range(mib):
            f.write(block)
        f.write(data[off + size :])
    return path


@pytest.mark.parametrize("delay", [0.2, 0.5, 0.9, 1.4])
def test_sigkill_mid_fast_sign(tmp_path: Path, delay: float) -> None:
    src = _big_mdat_clip(tmp_path / "big.mp4", 64)
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    out = tmp_path / "out.mp4"
    cmd = [sys.executable, "-m", "provcheck", *sign_argv(src, out, "--ai", "fully")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before
    if out.exists():  # killed after the rename: whole and valid
        assert verify(out, trust=TRUST).verdict is Verdict.TRUSTED
    # and unkilled, the same command gives a trusted file through the fast path
    if delay == 1.4:
        subprocess.run([*cmd, "--force"], check=True, capture_output=True, timeout=300)
        assert_fast_and_sound(src, out)


refused: list[bool] = []  # per fuzz example: did the fast path refuse it?

_JUNK = st.tuples(
    st.sampled_from([b"free", b"skip", b"junk", b"uuid"]), st.binary(min_size=0, max_size=64)
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    faststart=st.booleans(),
    audio=st.booleans(),
    frames=st.integers(min_value=2, max_value=30),
    fmt=st.sampled_from(["mp4", "mov"]),
    junk=st.lists(_JUNK, max_size=3),
    wide=st.booleans(),
)
def test_fuzz_structure(
    tmp_path: Path,
    faststart: bool,
    audio: bool,
    frames: int,
    fmt: str,
    junk: list[tuple[bytes, bytes]],
    wide: bool,
) -> None:
    """Varied real structures (moov first or last, 1-2 tracks, chunk counts, wide mdat
    headers, extra top-level boxes after the media): the fast path either refuses or
    writes a file that is trusted and plays the same packets."""
    ext = "." + fmt
    src = make_clip(
        tmp_path / f"f-src{ext}", frames=frames, fmt=fmt, faststart=faststart, audio=audio
    )
    data = bytearray(src.read_bytes())
    if wide:
        boxes = top_boxes(bytes(data))
        kinds = [k for k, _, _ in boxes]
        i = kinds.index(b"mdat")
        if i and boxes[i - 1][0] == b"free" and boxes[i - 1][2] == 8:
            off = boxes[i - 1][1]
            data[off : off + 16] = struct.pack(">I4sQ", 1, b"mdat", 8 + boxes[i][2])
    for kind, payload in junk:
        if kind == b"uuid":
            payload = bytes(16 - min(16, len(payload))) + payload  # a usertype
            payload = b"\x11" + payload[1:] if payload[:16] == bytes(16) else payload
        data += struct.pack(">I4s", 8 + len(payload), kind) + payload
    src.write_bytes(bytes(data))
    out = tmp_path / f"f-out{ext}"
    sign(src, out, signer=SIGNER, ai="fully", force=True)
    assert verify(out, trust=TRUST).verdict is Verdict.TRUSTED
    assert raw_state(out) == "Trusted"
    assert packets(out) == packets(src)
    refused.append(not fast_path_wrote(src, out))


def test_fuzz_mostly_took_the_fast_path() -> None:
    """The fuzz above is about the offset patching: most examples must reach it."""
    if refused:
        assert refused.count(False) >= len(refused) // 2, refused


_MOOV_CLIP: list[bytes] = []


def _real_moov() -> bytes:
    if not _MOOV_CLIP:
        data = media("unsigned.mp4").read_bytes()
        (_, off, size) = next(b for b in top_boxes(data) if b[0] == b"moov")
        _MOOV_CLIP.append(data[off : off + size])
    return _MOOV_CLIP[0]


@settings(max_examples=300, deadline=None)
@given(
    edits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=10_000), st.binary(min_size=1, max_size=4)),
        max_size=6,
    ),
    cut=st.integers(min_value=0, max_value=64),
    delta=st.integers(min_value=0, max_value=1 << 33),
)
def test_fuzz_offset_patching(edits: list[tuple[int, bytes]], cut: int, delta: int) -> None:
    """Corrupted moov boxes: the patcher refuses or rewrites, never crashes, never
    changes the length, and touches only chunk-offset tables."""
    moov = bytearray(_real_moov())
    for pos, data in edits:
        p = pos % len(moov)
        moov[p : p + len(data)] = data[: len(moov) - p]
    if cut:
        moov = moov[: max(8, len(moov) - cut)]
    try:
        out = _fastsign._patch_offsets(bytes(moov), delta)
    except _fastsign.Refused:
        return
    assert len(out) == len(moov)
    if delta == 0:
        assert out == bytes(moov)
