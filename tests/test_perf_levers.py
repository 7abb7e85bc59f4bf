"""The cheap speed levers of issue 19 change no result: MediaInfo's quick parse reports
the same container facts, and the ingredient thumbnail we make is in the manifest."""

from __future__ import annotations

import io
import json
from pathlib import Path

import c2pa
import pytest

from provenance import PemSigner, TrustConfig, Verdict, inspection, sign, verify

from .conftest import CORPUS, FIXTURES, MEDIA, TEST_ROOT, media

CA = FIXTURES / "testca"
SIGNER = PemSigner.from_files(CA / "test-signer.key", CA / "test-signer-chain.pem")
MEDIA_FILES = sorted(
    p for root in (MEDIA, CORPUS) for p in root.rglob("*") if p.is_file() and p.suffix != ".json"
)


@pytest.mark.parametrize("path", MEDIA_FILES, ids=lambda p: p.name)
def test_quick_parse_reports_the_same_facts(path: Path) -> None:
    assert inspection.container_facts(path) == inspection.container_facts(path, parse_speed=None)


@pytest.mark.parametrize("ingredient", ["photo_captured.jpg", "captured.mp4", "generated.png"])
def test_ingredient_thumbnail_is_ours_and_kept(tmp_path: Path, ingredient: str) -> None:
    out = tmp_path / "out.mp4"
    sign(media("unsigned.mp4"), out, signer=SIGNER, ai="fully", ingredients=[media(ingredient)])
    report = verify(out, trust=TrustConfig.from_files(anchors=[TEST_ROOT]))
    assert report.verdict is Verdict.TRUSTED
    with open(out, "rb") as f, c2pa.Reader("video/mp4", f) as r:
        store = json.loads(r.json())
        (ing,) = store["manifests"][store["active_manifest"]]["ingredients"]
        thumb = ing["thumbnail"]
        assert thumb["format"] == "image/jpeg"
        sink = io.BytesIO()
        r.resource_to_stream(thumb["identifier"], sink)
    data = sink.getvalue()
    assert data.startswith(b"\xff\xd8")
    assert len(data) < 64 * 1024  # a small thumbnail of ours, not a 1024 px one


@pytest.mark.parametrize(
    ("codec", "width", "wanted", "shrink"),
    [
        ("mjpeg", 4032, 256, 3),
        ("mjpeg", 1920, 256, 2),
        ("mjpeg", 512, 256, 1),
        ("mjpeg", 511, 256, 1),  # rounded up, as the decoder does
        ("mjpeg", 510, 256, 0),
        ("mjpeg", 300, 256, 0),
        ("h264", 4032, 256, 0),  # only JPEG has DCT scaling in the decoder
    ],
)
def test_jpeg_shrink_keeps_the_thumbnail_width(
    codec: str, width: int, wanted: int, shrink: int
) -> None:
    from provenance.thumbnails import _jpeg_shrink

    assert _jpeg_shrink(codec, width, wanted) == shrink


@pytest.mark.parametrize("variant", ["baseline", "progressive", "grey", "odd-portrait"])
def test_a_shrunk_jpeg_decode_makes_the_same_thumbnail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variant: str
) -> None:
    """A JPEG ingredient decoded at a quarter or an eighth of its size (issue 19) gives
    the thumbnail of a full decode: same shape, nearly the same pixels."""
    import numpy as np
    from PIL import Image

    from provenance import thumbnails

    photo = Image.open(FIXTURES / "third_party" / "scikit-image" / "chelsea.jpg").convert("RGB")
    photo = photo.resize((photo.width * 4, photo.height * 4))  # a phone photo's size
    options: dict[str, object] = {"quality": 92}
    if variant == "progressive":
        options["progressive"] = True
    if variant == "grey":
        photo = photo.convert("L")
    if variant == "odd-portrait":
        photo = photo.resize((1001, 1777))
    path = tmp_path / f"{variant}.jpg"
    photo.save(path, "JPEG", **options)

    shrunk = thumbnails.frame_thumbnail(path, 256)
    monkeypatch.setattr(thumbnails, "_MAX_SHRINK", 0)
    full = thumbnails.frame_thumbnail(path, 256)
    assert shrunk is not None and full is not None
    a = np.asarray(Image.open(io.BytesIO(shrunk)).convert("L"), dtype=np.float64)
    b = np.asarray(Image.open(io.BytesIO(full)).convert("L"), dtype=np.float64)
    assert a.shape == b.shape
    assert a.shape[1] == 256 and a.shape[0] == int(photo.height * 256 / photo.width) // 2 * 2
    assert np.abs(a - b).mean() < 3.0
