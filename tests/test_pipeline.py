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


# ---------------------------------------------------------------------------
# timestamps judged under the TSA list; headlines name the real cause


def test_a_legacy_timestamp_is_judged_under_the_configured_tsa_list(tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from provenance._certprofile import timestamp_certs

    anchors = CORPUS / "test_cert_root_bundle.pem"
    official = CORPUS.parent / "c2pa-trust-lists" / "C2PA-TSA-TRUST-LIST.pem"
    plain = verify(CORPUS / "CA.jpg", trust=TrustConfig.from_files(anchors=[anchors]))
    assert plain.manifest is not None and plain.manifest.timestamp is not None
    assert plain.manifest.timestamp.trusted is None  # no TSA list: not checked
    listed = verify(
        CORPUS / "CA.jpg", trust=TrustConfig.from_files(anchors=[anchors], tsa=[official])
    )
    assert listed.manifest is not None and listed.manifest.timestamp is not None
    assert listed.manifest.timestamp.trusted is False  # DigiCert's 2023 TSA is not listed
    assert listed.verdict is Verdict.TRUSTED
    assert any("not on the configured TSA trust list" in n for n in listed.notes)
    # a TSA list that holds the token's root vouches for it
    import io

    import c2pa

    with open(CORPUS / "CA.jpg", "rb") as f, c2pa.Reader("image/jpeg", f) as reader:
        label = json.loads(reader.json())["active_manifest"]
        buf = io.BytesIO()
        reader.resource_to_stream(f"self#jumbf=/c2pa/{label}/c2pa.signature", buf)
    certs = timestamp_certs(buf.getvalue())[label]
    root = next(c for c in certs if c.subject == certs[0].issuer)  # the TSA's issuer
    assert isinstance(root, x509.Certificate)
    (tmp_path / "tsa.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    ours = verify(
        CORPUS / "CA.jpg",
        trust=TrustConfig.from_files(anchors=[anchors], tsa=[tmp_path / "tsa.pem"]),
    )
    assert ours.manifest is not None and ours.manifest.timestamp is not None
    assert ours.manifest.timestamp.trusted is True


def test_the_headline_names_the_libraries_explanation(tmp_path: Path) -> None:
    """A code without words of our own is headlined with the library's explanation."""
    from provenance import _c2pa

    from .conftest import FIXTURES

    ca = FIXTURES / "testca"
    spec = _c2pa.NativeSignerSpec(
        "es256",
        (ca / "test-signer-chain.pem").read_text(),
        private_key_pem=(ca / "test-signer.key").read_text(),
    )
    manifest = {"claim_generator_info": [{"name": "t"}], "title": "t", "assertions": []}
    out = tmp_path / "no-created.mp4"
    with open(media("unsigned.mp4"), "rb") as s, open(out, "w+b") as d:
        _c2pa.sign_stream(manifest=manifest, signer=spec, mime="video/mp4", source=s, dest=d)
    report = verify(out, trust=TrustConfig.from_files(anchors=[TEST_ROOT]))
    assert report.verdict is Verdict.INVALID
    assert "assertion.action.malformed" in report.status_codes
    assert "first action must be created or opened" in report.reason


def test_an_unjudged_ingredient_signer_is_judged_under_the_configured_anchors() -> None:
    """When the library reports neither trusted nor untrusted for an ingredient's signer
    (it may accept the results recorded at ingestion), provcheck judges the chain itself,
    consistently with the active manifest: same root, same list."""
    import io

    import c2pa

    from provenance._certprofile import signature_chains
    from provenance._decode import trust_view

    with open(media("edit_of_ai.mp4"), "rb") as f, c2pa.Reader("video/mp4", f) as reader:
        store = json.loads(reader.json())
        buf = io.BytesIO()
        reader.resource_to_stream(
            f"self#jumbf=/c2pa/{store['active_manifest']}/c2pa.signature", buf
        )
    chains = signature_chains(buf.getvalue())
    ingredient = next(label for label in chains if label != store["active_manifest"])
    trusted = trust_view(TrustConfig.from_files(anchors=[TEST_ROOT]), chains)
    assert trusted.vouching_anchor(chains[ingredient]) == "test-root-ca"
    from .conftest import UNTRUSTED_ROOT

    other = trust_view(TrustConfig.from_files(anchors=[UNTRUSTED_ROOT]), chains)
    assert other.vouching_anchor(chains[ingredient]) is None
