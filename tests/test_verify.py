"""Verification on real files: every verdict and every AI value, and bad input."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import pytest

from provenance import AIGeneration, TrustConfig, Verdict, Verifier, verify, verify_bytes

from .conftest import SHARED_TRUST, TEST_ROOT, UNTRUSTED_ROOT, media

FIXTURE_EXPECTATIONS = [
    ("photo_captured.jpg", Verdict.TRUSTED, AIGeneration.NO),
    ("ai_generated.mp4", Verdict.TRUSTED, AIGeneration.FULLY),
    ("captured.mp4", Verdict.TRUSTED, AIGeneration.NO),
    ("algorithmic.mp4", Verdict.TRUSTED, AIGeneration.NO),
    ("partly.mp4", Verdict.TRUSTED, AIGeneration.PARTLY),
    ("possibly.mp4", Verdict.TRUSTED, AIGeneration.POSSIBLY),
    ("edit_of_ai.mp4", Verdict.TRUSTED, AIGeneration.FULLY),
    ("https_uri.mp4", Verdict.TRUSTED, AIGeneration.FULLY),
    ("untrusted.mp4", Verdict.UNTRUSTED, AIGeneration.NO),
    ("tampered.mp4", Verdict.TAMPERED, AIGeneration.FULLY),
    ("invalid.mp4", Verdict.INVALID, AIGeneration.NO),
    ("stripped.mp4", Verdict.UNSIGNED, AIGeneration.UNKNOWN),
    ("unsigned.mp4", Verdict.UNSIGNED, AIGeneration.UNKNOWN),
    ("generated.mov", Verdict.TRUSTED, AIGeneration.FULLY),
    ("generated.png", Verdict.TRUSTED, AIGeneration.FULLY),
    ("generated.webp", Verdict.TRUSTED, AIGeneration.FULLY),
    ("synthetic_voice.wav", Verdict.TRUSTED, AIGeneration.FULLY),
]


@pytest.mark.parametrize(("name", "verdict", "ai"), FIXTURE_EXPECTATIONS)
def test_fixture_verdicts(
    name: str, verdict: Verdict, ai: AIGeneration, test_trust: TrustConfig
) -> None:
    report = verify(media(name), trust=test_trust)
    assert (report.verdict, report.ai_generated) == (verdict, ai), report.reason


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("generated.mov", "video/quicktime"),
        ("generated.png", "image/png"),
        ("generated.webp", "image/webp"),
        ("synthetic_voice.wav", "audio/wav"),
        ("photo_captured.jpg", "image/jpeg"),
        ("captured.mp4", "video/mp4"),
    ],
)
def test_formats_are_sniffed(name: str, mime: str, test_trust: TrustConfig) -> None:
    assert verify(media(name), trust=test_trust).format == mime


def test_tampered_names_the_hash_code(test_trust: TrustConfig) -> None:
    report = verify(media("tampered.mp4"), trust=test_trust)
    assert "assertion.bmffHash.mismatch" in report.status_codes
    assert "changed" in report.reason


def test_invalid_names_the_signature_code(test_trust: TrustConfig) -> None:
    report = verify(media("invalid.mp4"), trust=test_trust)
    assert report.status_codes == ("claimSignature.mismatch",)
    assert report.problems[0].message.startswith("the claim's signature does not match")


def test_without_trust_nothing_is_trusted() -> None:
    for name, verdict, _ in FIXTURE_EXPECTATIONS:
        report = verify(media(name), trust=TrustConfig())
        assert report.verdict is not Verdict.TRUSTED
        if verdict is Verdict.TRUSTED:
            assert report.verdict is Verdict.UNTRUSTED
            assert any("trust update" in n for n in report.notes)


def test_official_trust_list_does_not_trust_test_signers() -> None:
    official = TrustConfig.from_files(
        anchors=[SHARED_TRUST / "C2PA-TRUST-LIST.pem"],
        tsa=[SHARED_TRUST / "C2PA-TSA-TRUST-LIST.pem"],
    )
    assert verify(media("ai_generated.mp4"), trust=official).verdict is Verdict.UNTRUSTED


def test_a_tsa_root_never_vouches_for_a_claim_signer() -> None:
    # The test root given only as a *TSA* anchor must not make its signer trusted.
    as_tsa = TrustConfig.from_files(tsa=[TEST_ROOT])
    assert verify(media("ai_generated.mp4"), trust=as_tsa).verdict is Verdict.UNTRUSTED


def test_wrong_root_is_untrusted() -> None:
    report = verify(media("captured.mp4"), trust=TrustConfig.from_files(anchors=[UNTRUSTED_ROOT]))
    assert report.verdict is Verdict.UNTRUSTED
    assert report.signer is not None and report.signer.trust_list is None


def test_allowed_list_accepts_one_end_entity(tmp_path: Path) -> None:
    chain = (UNTRUSTED_ROOT.parent / "test-signer-chain.pem").read_text()
    leaf = chain[: chain.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")]
    allowed = tmp_path / "allowed.pem"
    allowed.write_text(leaf + "\n")
    report = verify(media("untrusted.mp4"), trust=TrustConfig.from_files(allowed=[allowed]))
    assert report.verdict is Verdict.TRUSTED, report.reason
    # ...and only that one: the test CA's signer stays untrusted
    other = verify(media("captured.mp4"), trust=TrustConfig.from_files(allowed=[allowed]))
    assert other.verdict is Verdict.UNTRUSTED


def test_signer_timestamp_actions_and_chain(test_trust: TrustConfig) -> None:
    report = verify(media("ai_generated.mp4"), trust=test_trust)
    signer = report.signer
    assert signer is not None
    assert signer.common_name == "provcheck fixtures Signer (TEST ONLY)"
    assert signer.organization == "provcheck fixtures"
    assert signer.issuer == "provcheck fixtures Root CA (TEST ONLY)"
    assert signer.trust_list == "test-root-ca"
    assert report.manifest is not None
    created = report.manifest.actions[0]
    assert created.action == "c2pa.created"
    assert created.digital_source_type is not None
    assert created.digital_source_type.endswith("/trainedAlgorithmicMedia")
    assert created.software_agent == "Example Video Model 1.0"
    (photo,) = report.manifest.ingredients
    assert photo.title == "photo_captured.jpg"
    assert photo.relationship == "inputTo"
    assert photo.status == "valid"
    assert photo.manifest is not None and photo.manifest.ai_generated is AIGeneration.NO


def test_edit_reports_each_manifest_signal(test_trust: TrustConfig) -> None:
    report = verify(media("edit_of_ai.mp4"), trust=test_trust)
    assert report.manifest is not None
    assert report.manifest.ai_generated is AIGeneration.UNKNOWN  # its own signal
    parent = report.manifest.ingredients[0].manifest
    assert parent is not None and parent.ai_generated is AIGeneration.FULLY
    assert "ingredient ai_generated.mp4" in report.ai_reason


def test_format_comes_from_bytes_not_extension(tmp_path: Path, test_trust: TrustConfig) -> None:
    renamed = tmp_path / "clip.dat"
    shutil.copy(media("ai_generated.mp4"), renamed)
    report = verify(renamed, trust=test_trust)
    assert report.format == "video/mp4"
    assert report.verdict is Verdict.TRUSTED
    jpeg_as_mp4 = tmp_path / "photo.mp4"
    shutil.copy(media("photo_captured.jpg"), jpeg_as_mp4)
    assert verify(jpeg_as_mp4, trust=test_trust).format == "image/jpeg"


def test_binary_stream_input(test_trust: TrustConfig) -> None:
    with open(media("captured.mp4"), "rb") as f:
        report = verify(f, trust=test_trust)
    assert report.verdict is Verdict.TRUSTED
    data = media("tampered.mp4").read_bytes()
    assert verify_bytes(data, trust=test_trust).verdict is Verdict.TAMPERED


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"\x00" * 10 + os.urandom(500), "not a recognised media format"),
        (b"just some text\n" * 20, "not a recognised media format"),
    ],
)
def test_garbage_is_an_error(tmp_path: Path, content: bytes, fragment: str) -> None:
    p = tmp_path / "x.mp4"
    p.write_bytes(content)
    report = verify(p)
    assert report.verdict is Verdict.ERROR
    assert fragment in report.reason


def test_truncated_signed_video(tmp_path: Path, test_trust: TrustConfig) -> None:
    data = media("ai_generated.mp4").read_bytes()
    expected = {
        12: "the file could not be read (MP4 video)",
        200: "the file's structure could not be parsed (MP4 video)",
        len(data) // 2: "the file's structure could not be parsed (MP4 video)",
        len(data) - 10: "the file's structure could not be parsed (MP4 video)",
    }
    for cut, words in expected.items():
        p = tmp_path / f"cut{cut}.mp4"
        p.write_bytes(data[:cut])
        report = verify(p, trust=test_trust)
        assert report.verdict is Verdict.ERROR, (cut, report.reason)
        assert report.reason.startswith(words), (cut, report.reason)
        assert report.status_codes == ()


def test_missing_directory_empty_and_fifo(tmp_path: Path) -> None:
    assert verify(tmp_path / "nope.mp4").reason == "no such file"
    assert verify(tmp_path).reason == "is a directory, not a media file"
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert verify(empty).reason == "empty file"
    fifo = tmp_path / "x.mp4"
    os.mkfifo(fifo)
    report = verify(fifo)  # must not block
    assert report.verdict is Verdict.ERROR and report.reason == "not a regular file"


def test_report_json_contract(test_trust: TrustConfig) -> None:
    d = verify(media("ai_generated.mp4"), trust=test_trust).to_dict()
    assert {"path", "verdict", "ai_generated", "signer", "status_codes"} <= d.keys()
    assert d["signer"]["common_name"] and d["signer"]["organization"] and d["signer"]["issuer"]
    json.dumps(d)


def test_verifier_reuse_gives_the_same_answers(test_trust: TrustConfig) -> None:
    with Verifier(test_trust) as v:
        first = [v.verify(media(n)).verdict for n, _, _ in FIXTURE_EXPECTATIONS]
        second = [v.verify(media(n)).verdict for n, _, _ in FIXTURE_EXPECTATIONS]
    assert first == second == [v for _, v, _ in FIXTURE_EXPECTATIONS]


def test_input_is_not_modified(test_trust: TrustConfig) -> None:
    before = media("tampered.mp4").read_bytes()
    verify(media("tampered.mp4"), trust=test_trust)
    assert media("tampered.mp4").read_bytes() == before


def test_unseekable_object_is_an_error() -> None:
    report = verify(io.StringIO("x"))  # type: ignore[arg-type]
    assert report.verdict is Verdict.ERROR
    assert report.reason.endswith("not a seekable binary stream")
