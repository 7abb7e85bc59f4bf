"""The visible label: burned into real H.264 clips with a real AAC audio track (made by the
tests), signed, read back by provcheck and by raw c2pa-python."""

from __future__ import annotations

import hashlib
import json
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import av
import c2pa
import numpy as np
import pytest

import provenance
from provenance import (
    AIGeneration,
    InputError,
    PemSigner,
    SigningError,
    TrustConfig,
    Verdict,
    VisibleLabel,
)
from provenance.visible_label import LABEL_ACTION, LABEL_PARAMETER, burn, coded_origin, plan

from .conftest import TEST_ROOT, media, require_tool, run_cli, sign_argv
from .videogen import ClipSpec, cached_clip, make_dimension_bomb

TRUST = TrustConfig.from_files(anchors=[TEST_ROOT])


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("label-clips")


@pytest.fixture(scope="module")
def clip(clips: Path) -> Path:
    """3 s of 320x240 H.264 with an AAC tone."""
    return cached_clip(clips, ClipSpec(seed=21, width=320, height=240, seconds=3))


_run = run_cli


def _frames(path: Path) -> list[np.ndarray]:
    """Every frame's luma plane as displayed size (no rotation applied)."""
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="gray") for f in c.decode(video=0)]


def _audio_packets(path: Path) -> list[tuple[int | None, str]]:
    with av.open(str(path)) as c:
        return [(p.pts, hashlib.sha256(bytes(p)).hexdigest()) for p in c.demux(audio=0) if p.size]


def _raw(path: Path) -> tuple[str, list[dict[str, Any]]]:
    """Raw c2pa-python: the validation state with the test root trusted, and the actions."""
    settings = {"version": 1, "trust": {"user_anchors": TEST_ROOT.read_text()}}
    with (
        c2pa.Context.from_dict(settings) as ctx,
        open(path, "rb") as f,
        c2pa.Reader("video/mp4", f, context=ctx) as r,
    ):
        store = json.loads(r.json())
        state = str(r.get_validation_state())
    active = store["manifests"][store["active_manifest"]]
    acts: list[dict[str, Any]] = []
    for a in active["assertions"]:
        if a["label"].startswith("c2pa.actions"):
            acts.extend(a["data"]["actions"])
    return state, acts


def _box_changed(before: np.ndarray, after: np.ndarray, box: tuple[int, ...]) -> float:
    x, y, w, h = box
    return float(
        np.abs(after[y : y + h, x : x + w].astype(int) - before[y : y + h, x : x + w]).mean()
    )


# -- library, end to end -------------------------------------------------------------------


def test_sign_burns_the_label_and_records_it(clip: Path, tmp_path: Path, signer: PemSigner):
    out = tmp_path / "labelled.mp4"
    label = VisibleLabel("AI-generated", position="bottom-right", size=0.1)
    layout = plan(clip, "video/mp4", label)
    result = provenance.sign(clip, out, signer=signer, ai="fully", visible_label=label)
    assert result.ai is AIGeneration.FULLY

    # the pixels: the label box changed a lot, the rest of the frame hardly (re-encoded)
    before, after = _frames(clip), _frames(out)
    assert len(before) == len(after) == 75
    x, y, w, h = layout.box
    assert x + w > 320 - 20 and y + h > 240 - 20  # bottom right
    assert _box_changed(before[10], after[10], layout.box) > 20
    far = (0, 0, 120, 100)
    assert _box_changed(before[10], after[10], far) < 3
    # white text inside a dark box
    region = after[10][y : y + h, x : x + w]
    assert region.max() > 200 and np.median(region) < np.median(before[10][y : y + h, x : x + w])

    # the audio packets are the very same bytes; timing and size kept
    assert _audio_packets(out) == _audio_packets(clip)
    with av.open(str(out)) as c:
        v = c.streams.video[0]
        assert (v.codec_context.width, v.codec_context.height) == (320, 240)
        assert v.average_rate == 25
        assert [s.type for s in c.streams] == ["video", "audio"]

    # raw c2pa-python: trusted, and the action reads back
    state, acts = _raw(out)
    assert state == "Trusted"
    assert acts[0]["action"] == "c2pa.created"
    added = [a for a in acts if a["action"] == LABEL_ACTION]
    assert len(added) == 1
    assert added[0]["parameters"][LABEL_PARAMETER]["text"] == "AI-generated"
    assert "digitalSourceType" not in added[0]  # labelling is not generative AI
    spatial = added[0]["changes"][0]["region"][0]
    assert spatial["shape"]["origin"] == {"x": x, "y": y}
    assert (spatial["shape"]["width"], spatial["shape"]["height"]) == (w, h)

    # provcheck reads it back
    report = provenance.verify(out, trust=TRUST)
    assert report.verdict is Verdict.TRUSTED, report.problems
    assert report.ai_generated is AIGeneration.FULLY
    assert report.ai_parts == ()
    (seen,) = report.visible_labels
    assert seen.text == "AI-generated"
    assert seen.signer == "provcheck fixtures Signer (TEST ONLY), provcheck fixtures"
    assert seen.region == (x, y, w, h)
    assert seen.start == 0.0 and seen.end is None
    assert report.to_dict()["visible_labels"][0]["text"] == "AI-generated"


def test_label_time_range_only_touches_those_frames(clip: Path, tmp_path: Path):
    label = VisibleLabel("AI", position="center", size=0.2, start=1.0, duration=0.5)
    layout = plan(clip, "video/mp4", label)
    out = tmp_path / "range.mp4"
    assert burn(layout, out) == 13  # frames at 1.00, 1.04, ... 1.48 s (25 fps)
    before, after = _frames(clip), _frames(out)
    changed = [i for i in range(75) if _box_changed(before[i], after[i], layout.box) > 15]
    assert changed == list(range(25, 38))
    assert layout.action("t")["changes"][0]["region"][1]["time"] == {
        "type": "npt",
        "start": "1",
        "end": "1.5",
    }


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_clip_keeps_its_rotation_and_the_label_reads_upright(tmp_path: Path, rotation: int):
    ffmpeg = require_tool("ffmpeg", "ffmpeg")
    src = tmp_path / "rotated.mp4"
    with av.open(str(src), "w") as o:
        s = o.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 320, 240, "yuv420p"
        s.set_display_rotation(rotation)
        for i in range(10):
            f = av.VideoFrame.from_ndarray(np.full((240, 320, 3), 90, np.uint8), format="rgb24")
            f.pts = i
            o.mux(s.encode(f))
        o.mux(s.encode(None))
    layout = plan(src, "video/mp4", VisibleLabel("AI", position="top-left", size=0.1))
    shown_w, shown_h = (240, 320) if rotation != 180 else (320, 240)
    assert layout.display_size == (shown_w, shown_h) and layout.rotation == rotation
    out = tmp_path / "labelled.mp4"
    burn(layout, out)
    with av.open(str(out)) as c:
        assert next(c.decode(video=0)).rotation % 360 == rotation
    # as a player shows it: ffmpeg applies the display matrix (autorotate)
    raw = subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-i",
            str(out),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    shown = np.frombuffer(raw, np.uint8).reshape(shown_h, shown_w)
    x, y, w, h = layout.box
    assert x < 20 and y < 20
    assert shown[y : y + h, x : x + w].max() > 200  # the text is in the top-left as shown
    assert shown[y : y + h, x : x + w].min() < 60  # on its dark box
    assert shown[-60:, -60:].max() < 120  # and nowhere else


def test_coded_origin_matches_numpy_rotation():
    rng = np.random.default_rng(1)
    for k in range(4):
        coded = np.zeros((24, 40), np.uint8)
        shown = np.rot90(coded, k).copy()
        box = (
            int(rng.integers(0, shown.shape[1] - 6)),
            int(rng.integers(0, shown.shape[0] - 4)),
            6,
            4,
        )
        x, y, w, h = box
        shown[y : y + h, x : x + w] = np.arange(1, 25, dtype=np.uint8).reshape(4, 6)
        back = np.rot90(shown, -k)
        patch = np.rot90(shown[y : y + h, x : x + w], -k)
        r0, c0 = coded_origin(box, k, 40, 24)
        assert (back[r0 : r0 + patch.shape[0], c0 : c0 + patch.shape[1]] == patch).all()
        assert back.sum() == patch.sum()


# -- the command line ----------------------------------------------------------------------


def test_cli_sign_and_verify_say_it(clip: Path, tmp_path: Path):
    out = tmp_path / "cli.mp4"
    r = _run(
        *sign_argv(clip, out, "--ai", "fully", "--visible-label", "AI-generated"),
        "--label-position",
        "top-right",
        "--label-duration",
        "2",
    )
    assert r.exit_code == 0, r.output
    assert 'visible label "AI-generated"' in r.stderr
    t = _run("--trust", str(TEST_ROOT), str(out))
    assert t.exit_code == 0, t.output
    assert 'visible AI label "AI-generated" added by' in t.stdout
    j = json.loads(_run("--format", "json", "--trust", str(TEST_ROOT), str(out)).stdout)
    (seen,) = j["results"][0]["visible_labels"]
    assert seen["text"] == "AI-generated" and seen["position"] == "top-right"
    assert seen["end"] == 2.0
    assert set(seen["region"]) == {"x", "y", "width", "height"}

    # the audit's HTML report lists it among the claims
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(out, folder / "cli.mp4")
    page = tmp_path / "report.html"
    r = _run("audit", str(folder), "--format", "html", "-o", str(page), "--trust", str(TEST_ROOT))
    assert r.exit_code == 0, r.stderr
    (block,) = re.findall(
        r'<script type="application/json" id="details">(.*?)</script>', page.read_text(), re.S
    )
    strings = json.loads(block)["s"]
    assert "Visible label" in strings
    assert any(str(x).startswith('"AI-generated" added by provcheck') for x in strings)


def test_in_place_on_a_mov(clips: Path, tmp_path: Path):
    src = tmp_path / "clip.mov"
    mp4 = cached_clip(clips, ClipSpec(seed=22, width=160, height=120, seconds=1))
    with av.open(str(mp4)) as i, av.open(str(src), "w", format="mov") as o:
        smap = {s.index: o.add_stream_from_template(s) for s in i.streams}
        for p in i.demux():
            if p.dts is not None:
                p.stream = smap[p.stream.index]
                o.mux(p)
    before = _audio_packets(src)
    r = _run(*sign_argv(src, src, "--ai", "partly", "--visible-label", "AI", "--in-place"))
    assert r.exit_code == 0, r.output
    assert _audio_packets(src) == before
    report = provenance.verify(src, trust=TRUST)
    assert report.verdict is Verdict.TRUSTED and report.format == "video/quicktime"
    assert [v.text for v in report.visible_labels] == ["AI"]
    assert list(tmp_path.iterdir()) == [src]


def test_tampered_file_shows_the_label_as_claimed_not_verified(
    clip: Path, tmp_path: Path, signer: PemSigner
):
    out = tmp_path / "t.mp4"
    provenance.sign(clip, out, signer=signer, ai="fully", visible_label=VisibleLabel("AI"))
    data = bytearray(out.read_bytes())
    mdat = data.rfind(b"mdat")
    data[mdat + 5000] ^= 0xFF
    out.write_bytes(bytes(data))
    t = _run("--trust", str(TEST_ROOT), str(out))
    line = next(s for s in t.stdout.splitlines() if "visible AI label" in s)
    assert "claimed, not verified" in line


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("AI\x1b[2Jgenerated", "control"),
        ("AI\u202egenerated", "U\\+202E"),
        ("x" * 201, "at most 200"),
        ("   ", "empty"),
    ],
)
def test_hostile_label_text_is_refused(clip: Path, tmp_path: Path, text: str, message: str):
    with pytest.raises(SigningError, match=message):
        VisibleLabel(text)
    r = _run(*sign_argv(clip, tmp_path / "x.mp4", "--ai", "fully", "--visible-label", text))
    assert r.exit_code == 2
    assert "\x1b" not in r.output and "\u202e" not in r.output
    assert not (tmp_path / "x.mp4").exists()


def test_right_to_left_and_long_text_fit_the_frame(clip: Path, tmp_path: Path, signer):
    text = "\u0645\u0648\u0644\u062f \u0628\u0627\u0644\u0630\u0643\u0627\u0621 " * 12
    label = VisibleLabel(text.strip()[:200], size=0.2)
    layout = plan(clip, "video/mp4", label)
    x, y, w, h = layout.box
    assert x + w <= 320 and y + h <= 240
    out = tmp_path / "rtl.mp4"
    provenance.sign(clip, out, signer=signer, ai="fully", visible_label=label)
    report = provenance.verify(out, trust=TRUST)
    assert report.verdict is Verdict.TRUSTED
    assert report.visible_labels[0].text == label.text


def test_bad_inputs_fail_with_the_file_named_and_nothing_written(
    clip: Path, tmp_path: Path, signer: PemSigner
):
    label = VisibleLabel("AI")
    audio_only = tmp_path / "tone.m4a"
    with av.open(str(audio_only), "w", format="mp4") as o:
        a = o.add_stream("aac", rate=48000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate, frame.pts = 48000, 0
        o.mux(a.encode(frame))
        o.mux(a.encode(None))
    with pytest.raises(SigningError, match=r"tone\.m4a: has no video stream"):
        provenance.sign(
            audio_only, tmp_path / "o.mp4", signer=signer, ai="fully", visible_label=label
        )
    with pytest.raises(SigningError, match="starts at 9 s"):
        provenance.sign(
            clip,
            tmp_path / "o.mp4",
            signer=signer,
            ai="fully",
            visible_label=VisibleLabel("AI", start=9),
        )
    with pytest.raises(SigningError, match="does not fit"):
        plan(clip, "video/mp4", VisibleLabel("AI", position=(310, 230)))
    photo = media("photo_captured.jpg")
    with pytest.raises(SigningError, match=r"photo_captured\.jpg: .*MP4 or MOV video only"):
        provenance.sign(photo, tmp_path / "o.jpg", signer=signer, ai="no", visible_label=label)
    r = _run(*sign_argv(clip, tmp_path / "o.mp4", "--ai", "fully", "--label-size", "0.1"))
    assert r.exit_code == 2 and "--label-size needs --visible-label" in r.stderr
    assert list(tmp_path.glob("o.mp4*")) == [] and not list(tmp_path.glob(".*provcheck*"))


def test_undecodable_video_is_named(clip: Path, tmp_path: Path, signer: PemSigner):
    broken = tmp_path / "broken.mp4"
    data = bytearray(clip.read_bytes())
    mdat = data.find(b"mdat")
    data[mdat + 8 : mdat + 8 + 20000] = bytes(20000)  # the first frames' slices zeroed
    broken.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"broken\.mp4: cannot decode the video"):
        provenance.sign(
            broken, tmp_path / "o.mp4", signer=signer, ai="fully", visible_label=VisibleLabel("AI")
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.mp4"]


def test_repository_fingerprint_is_of_the_labelled_picture(
    clip: Path, tmp_path: Path, signer: PemSigner
):
    repo = provenance.SQLiteRepository(tmp_path / "repo.db")
    out = tmp_path / "reg.mp4"
    label = VisibleLabel("AI-generated", size=0.1)
    provenance.sign(clip, out, signer=signer, ai="fully", visible_label=label, repository=repo)
    stripped = tmp_path / "stripped.mp4"  # a platform re-upload that dropped the manifest
    with av.open(str(out)) as i, av.open(str(stripped), "w") as o:
        smap = {s.index: o.add_stream_from_template(s) for s in i.streams}
        for p in i.demux():
            if p.dts is not None:
                p.stream = smap[p.stream.index]
                o.mux(p)
    report = provenance.verify(stripped, trust=TRUST, repository=repo)
    assert report.verdict is Verdict.STRIPPED
    assert report.recovered is not None and report.recovered.similarity == 1.0


def _label_cmd(src: Path, out: Path) -> list[str]:
    argv = sign_argv(src, out, "--ai", "fully", "--visible-label", "AI-generated")
    return [sys.executable, "-m", "provcheck", *argv]


@pytest.mark.parametrize("delay", [0.8, 1.6])
def test_sigkill_mid_burn_leaves_no_output(clips: Path, tmp_path: Path, delay: float):
    src = cached_clip(clips, ClipSpec(seed=23, width=640, height=360, seconds=8))
    before = src.read_bytes()
    out = tmp_path / "out.mp4"
    proc = subprocess.Popen(
        _label_cmd(src, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert src.read_bytes() == before
    if out.exists():  # killed after the atomic rename: then whole and valid
        assert provenance.verify(out, trust=TRUST).verdict is Verdict.TRUSTED


def test_full_disk_while_burning_is_a_clear_error(clip: Path, tmp_path: Path):
    out = tmp_path / "out.mp4"

    def limit() -> None:  # files this process writes may not grow past 64 KiB
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    proc = subprocess.run(
        _label_cmd(clip, out), capture_output=True, text=True, timeout=120, preexec_fn=limit
    )
    assert proc.returncode == 5, proc.stderr
    assert "cannot write the labelled video" in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_hostile_label_text_read_from_a_manifest_is_shown_as_data():
    from provcheck import render
    from provenance import Manifest, Report, VisibleLabelClaim

    evil = "AI\x1b[2J\x1b]8;;http://x\x07link\u202e\r\nfake line"
    claim = VisibleLabelClaim(text=evil, manifest="urn:x", signer="Evil\x1b[31m Corp")
    manifest = Manifest(
        label="urn:x",
        claim_generator=None,
        title=None,
        format=None,
        signer=None,
        timestamp=None,
        actions=(),
        ai_generated=AIGeneration.UNKNOWN,
        visible_labels=(claim,),
    )
    for verdict in (Verdict.UNTRUSTED, Verdict.INVALID):
        report = Report(path="p.mp4", verdict=verdict, reason="r", manifest=manifest)
        text = render.render_text(report)
        line = next(s for s in text.splitlines() if "visible AI label" in s)
        assert "\x1b[2J" not in text and "\u202e" not in text and "\r" not in text
        assert "\\x1b[2J" in line and "fake line" in line  # escaped, on the same line
        assert ("claimed, not verified" in line) is (verdict is Verdict.INVALID)
        assert report.to_dict()["visible_labels"][0]["text"] == evil  # JSON keeps the data


def test_dimension_bomb_is_refused_undecoded(tmp_path: Path, signer: PemSigner):
    label = VisibleLabel("AI")
    declared = make_dimension_bomb(tmp_path / "declared.mp4")
    with pytest.raises(SigningError, match=r"declared\.mp4: .*(over 8K|larger than)"):
        provenance.sign(
            declared, tmp_path / "o.mp4", signer=signer, ai="fully", visible_label=label
        )
    hidden = make_dimension_bomb(tmp_path / "hidden.mp4", header=False)  # only the bitstream lies
    with pytest.raises(InputError, match=r"hidden\.mp4: cannot decode the video"):
        provenance.sign(hidden, tmp_path / "o.mp4", signer=signer, ai="fully", visible_label=label)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["declared.mp4", "hidden.mp4"]
