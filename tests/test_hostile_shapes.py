"""Denial-of-service shapes on real files, in the isolated workers (issue 13).

Each shape wraps a real MP4: a million empty top-level boxes (8 MB), thousands of boxes
inside ``moov``, boxes nested deeper than any real file, and an H.264 clip whose track
header, sample entry and SPS declare 16000x16000 frames (a decompression bomb of 4 KB).
They are verified the way ``audit`` does, with fingerprinting (a repository) and
thumbnails on, every worker's data segment limited (RLIMIT_DATA): the answer must be a
clear error or a bounded result, never a crash, a hang or an internal error.
"""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from provenance import fingerprint

from .conftest import media
from .mutations import audit_in_child, deep_boxes, dos_problem, huge_dimensions, many_boxes


def test_box_shapes_are_refused_with_a_clear_error(tmp_path: Path) -> None:
    unsigned = media("unsigned.mp4").read_bytes()
    shapes = {
        "top.mp4": many_boxes(unsigned, 1_000_000),
        "nested.mp4": many_boxes(unsigned, 12_000, where="nested"),
        "nested3.mp4": many_boxes(unsigned, 200_000, where="nested", depth=3),
        "deep.mp4": deep_boxes(unsigned, 5_000),
    }
    for name, data in shapes.items():
        (tmp_path / name).write_bytes(data)
    got = audit_in_child([tmp_path / n for n in shapes], tmp_path, timeout=60)
    assert len(got["reports"]) == len(shapes)
    for r in got["reports"]:
        assert r["verdict"] == "error", r
        assert "denial-of-service shape" in r["reason"], r


def test_the_huge_dimension_shape_declares_what_it_says(tmp_path: Path) -> None:
    path = tmp_path / "huge.mp4"
    path.write_bytes(huge_dimensions(media("unsigned.mp4").read_bytes()))
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (16000, 16000)  # from the SPS
    ok = tmp_path / "ok.mp4"
    ok.write_bytes(huge_dimensions(media("unsigned.mp4").read_bytes(), 640, 480))
    with av.open(str(ok)) as container:
        assert container.streams.video[0].codec_context.width == 640
        assert sum(1 for _ in container.decode(video=0)) > 0  # still a playable clip


@pytest.mark.skipif(
    not hasattr(fingerprint, "MAX_PIXELS"),
    reason="the decoder's pixel limit (issue 13, decompression bombs) is not on this branch",
)
def test_huge_declared_dimensions_stay_bounded(tmp_path: Path) -> None:
    unsigned = media("unsigned.mp4").read_bytes()
    paths = []
    for w, h in ((16000, 16000), (65520, 16), (8192, 8192)):
        p = tmp_path / f"bomb-{w}x{h}.mp4"
        p.write_bytes(huge_dimensions(unsigned, w, h))
        paths.append(p)
    got = audit_in_child(paths, tmp_path, timeout=60, rss_limit_mib=1536)
    for r in got["reports"]:
        assert dos_problem(r) is None, r
    # one decoded 16000x16000 frame alone is ~384 MB; the worker with PyAV is ~150 MB
    assert got["peak_worker_rss_mib"] < 512, got


_MEDIAINFO_PEAK = """
import resource, sys
resource.setrlimit(resource.RLIMIT_DATA, (1 << 30, resource.RLIM_INFINITY))
from provenance.inspection import container_facts
container_facts(sys.argv[1])
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across execve, so it would report the
# (forked) pytest process's own peak; VmHWM belongs to this program's memory alone.
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print(int(hwm.split()[1]) // 1024)
"""


def test_a_lying_edit_list_does_not_blow_up_mediainfo(tmp_path: Path) -> None:
    """Found by bench/fuzz.py (--seed 14): one byte of a real signed MP4's edit list
    flipped (the high byte of the entry count of ``moov/trak/edts/elst``: 1 becomes
    4,278,190,081). MediaInfo then peaks at ~1.6 GB and 21 s under a 4 GiB limit, ~12 GB
    without one (with a second, harmless change); under this test's 1 GiB limit it
    reaches the limit. A clip this size needs ~40 MiB."""
    import subprocess
    import sys

    from .mutations import _find_path

    data = bytearray(media("ai_generated.mp4").read_bytes())
    edts = _find_path(bytes(data), [b"moov", b"trak", b"edts"])
    assert edts, "the fixture has an edit list"
    elst = edts[-1][0] + 8
    data[elst + 12] ^= 0xFF  # elst: box header 8, version/flags 4, then the entry count
    path = tmp_path / "elst.mp4"
    path.write_bytes(bytes(data))
    done = subprocess.run(
        [sys.executable, "-c", _MEDIAINFO_PEAK, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert int(done.stdout.split()[-1]) < 256, f"MediaInfo peaked at {done.stdout.strip()} MiB"


def test_lying_tables_are_named_and_honest_ones_pass(tmp_path: Path) -> None:
    """The table check behind it: every real fixture passes; the flipped count is named;
    the verdict of the changed (signed) file is still judged, as tampered."""
    from provenance import TrustConfig, Verdict, verify
    from provenance.media import implausible_tables

    from .conftest import MEDIA, TEST_ROOT
    from .mutations import _find_path

    for clip in sorted(MEDIA.glob("*.m[po][4v]")):
        assert implausible_tables(clip) == (), clip.name
    data = bytearray(media("ai_generated.mp4").read_bytes())
    edts = _find_path(bytes(data), [b"moov", b"trak", b"edts"])
    data[edts[-1][0] + 8 + 12] ^= 0xFF
    path = tmp_path / "elst.mp4"
    path.write_bytes(bytes(data))
    (lie,) = implausible_tables(path)
    assert lie.startswith("elst declares 4,278,190,081 entries")
    report = verify(path, trust=TrustConfig.from_files(anchors=[TEST_ROOT]))
    assert report.verdict is Verdict.TAMPERED and report.container is None
