"""One evidence pipeline: `verify`, `provcheck FILE` and `audit` give the same per-file
result; the steps each add evidence (fragments, forensic notes, ingredients, assertions)."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from provenance import TrustConfig, Verdict, discover, run_audit, verify

from .conftest import CORPUS, MEDIA, ROOT, TEST_ROOT, media

TRUST = TrustConfig.from_files(anchors=[TEST_ROOT, CORPUS / "test_cert_root_bundle.pem"])
FILES = sorted(
    [p for p in MEDIA.iterdir() if p.is_file()]
    + [p for p in CORPUS.iterdir() if p.suffix in (".mp4", ".jpg", ".png", ".m4s")]
)


def test_verify_and_audit_give_the_same_object_for_every_file() -> None:
    candidates, _ = discover([str(p) for p in FILES])
    assert len(candidates) == len(FILES)
    audited = {r.path: r.to_dict() for r in run_audit(candidates, TRUST, jobs=1)}
    differ = []
    for path in FILES:
        mine = verify(path, trust=TRUST).to_dict()
        if mine != audited[str(path)]:
            differ.append(path.name)
    assert differ == []


def test_verify_reports_the_xmp_label_and_strip_traces() -> None:
    report = verify(media("stripped_keep_xmp.mp4"), trust=TRUST)
    assert report.verdict is Verdict.UNSIGNED
    assert report.xmp_digital_source_type is not None
    assert report.xmp_digital_source_type.endswith("trainedAlgorithmicMedia")
    assert report.stripped is True and report.traces
    assert any("XMP metadata says AI-generated" in n for n in report.inconsistencies)


def test_cli_json_is_the_library_object() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "provcheck",
            "--format",
            "json",
            "--trust",
            str(TEST_ROOT),
            str(media("stripped_keep_xmp.mp4")),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    got = json.loads(proc.stdout)["results"][0]
    want = verify(media("stripped_keep_xmp.mp4"), trust=TrustConfig.from_files(anchors=[TEST_ROOT]))
    assert got == json.loads(json.dumps(want.to_dict()))


def test_softbinding_does_not_import_verify() -> None:
    """verify calls into softbinding (recovery); never the other way round."""
    tree = ast.parse((ROOT / "provenance" / "softbinding.py").read_text())
    imported = {(node.module or "") for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "verify" not in imported and ".verify" not in imported
    assert not any(m.endswith("verify") for m in imported)


# ---------------------------------------------------------------------------
# fragmented MP4


def test_init_segment_without_its_fragments_is_an_error_naming_the_fix() -> None:
    report = verify(CORPUS / "dashinit.mp4", trust=TRUST)
    assert report.verdict is Verdict.ERROR
    assert "init segment without its fragments" in report.reason
    assert "--fragment" in report.reason
    assert "assertion.bmffHash.mismatch" not in report.status_codes
    assert report.claims == "unverified"  # the manifest is shown, not believed
    assert report.manifest is not None


def test_lone_fragment_is_an_error_naming_the_init_segment() -> None:
    report = verify(CORPUS / "dash1.m4s", trust=TRUST)
    assert report.verdict is Verdict.ERROR
    assert "without its init segment" in report.reason
    assert "--fragment" in report.reason


def test_init_segment_with_its_fragment_verifies() -> None:
    report = verify(
        CORPUS / "dashinit.mp4",
        trust=TrustConfig.from_files(anchors=[CORPUS / "test_cert_root_bundle.pem"]),
        fragments=[CORPUS / "dash1.m4s"],
    )
    assert report.verdict is Verdict.UNTRUSTED
    assert "signingCredential.untrusted" in report.status_codes


# ---------------------------------------------------------------------------
# forensic notes only with evidence


@pytest.mark.parametrize("name", ["tampered.mp4", "ai_generated.mp4", "invalid.mp4"])
def test_no_reencode_guess_without_evidence(name: str) -> None:
    report = verify(media(name), trust=TRUST)
    assert report.container is not None and report.container.writing_application
    assert not any("re-encode" in n or "last written" in n for n in report.inconsistencies)


# ---------------------------------------------------------------------------
# ingredients named; every assertion visible


def test_ingredient_problems_name_the_ingredient() -> None:
    report = verify(CORPUS / "adobe-20220124-E-clm-CAICAI.jpg", trust=TRUST)
    wheres = {p.where for p in report.problems}
    assert "ingredient CAI.jpg" in wheres
    assert "ingredient" not in wheres


def test_video1_ingredient_problem_names_its_title() -> None:
    report = verify(CORPUS / "video1.mp4", trust=TRUST)
    untrusted = [p for p in report.problems if p.code == "signingCredential.untrusted"]
    assert untrusted and all(p.where == "ingredient video1.mp4" for p in untrusted)


def test_every_assertion_is_in_the_manifest_json(tmp_path: Path) -> None:
    report = verify(CORPUS / "video1.mp4", trust=TRUST)
    assert report.manifest is not None
    labels = [a.label for a in report.manifest.assertions]
    assert "my.assertion" in labels and "c2pa.actions.v2" in labels
    as_json = json.loads(json.dumps(report.to_dict()))["manifest"]["assertions"]
    mine = next(a for a in as_json if a["label"] == "my.assertion")
    assert mine["data"] is not None
    thumb = CORPUS / "CA.jpg"
    ca = verify(thumb, trust=TRUST)
    assert ca.manifest is not None
    sizes = [len(json.dumps(a.to_dict())) for a in ca.manifest.assertions]
    assert max(sizes) < 20_000  # thumbnails and other binary data are summarised


def test_a_structure_refused_before_the_reader_names_the_file(tmp_path: Path) -> None:
    from provenance.media import MAX_TOP_LEVEL_BOXES

    data = media("unsigned.mp4").read_bytes()
    bomb = tmp_path / "many-boxes.mp4"
    bomb.write_bytes(data + b"\x00\x00\x00\x08free" * (MAX_TOP_LEVEL_BOXES + 10))
    report = verify(bomb, trust=TRUST)
    assert report.verdict is Verdict.ERROR
    assert "top-level boxes" in report.reason
    assert report.path == str(bomb)


def test_copy_is_judged_alike(tmp_path: Path) -> None:
    shutil.copy(media("captured.mp4"), tmp_path / "x.mp4")
    assert verify(tmp_path / "x.mp4", trust=TRUST).verdict is Verdict.TRUSTED
