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
