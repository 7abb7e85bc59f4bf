"""Forgeries, each with a real file and the exact verdict and reason expected.
None of them may ever come out `trusted`."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from provenance import (
    AIGeneration,
    TrustConfig,
    Verdict,
    _c2pa,
    inspect_report,
    keys,
    sign,
    verify,
    xmp,
)
from provenance.media import C2PA_BMFF_UUID as C2PA_UUID
from provenance.xmp import _jpeg_segments

from .conftest import (
    CA,
    FIXTURES,
    OTHER_CA,
    SIGNER,
    STRANGER,
    TRUST,
    find_box,
    media,
    short_lived_signer,
)

OTHER = OTHER_CA
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def _c2pa_box(data: bytes) -> tuple[int, int]:
    return find_box(data, b"uuid", C2PA_UUID)


def check(
    path: Path,
    verdict: Verdict,
    codes: tuple[str, ...] = (),
    reason: str = "",
    trust: TrustConfig = TRUST,
) -> object:
    report = inspect_report(verify(path, trust=trust))
    assert report.verdict is verdict, (report.verdict, report.status_codes, report.reason)
    for code in codes:
        assert code in report.status_codes
    assert reason in report.reason
    return report


def test_self_signed_certificate_claiming_a_famous_name(tmp_path: Path) -> None:
    key = keys.generate_key()
    cert = keys.issue_certificate(
        subject_key=key,
        issuer_key=key,
        issuer_cert=None,
        cn="Adobe Content Credentials",
        org="Adobe Inc.",
    )
    spec = _c2pa.NativeSignerSpec(
        "es256",
        cert.public_bytes(serialization.Encoding.PEM).decode(),
        private_key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
    )
    manifest = {
        "claim_generator_info": [{"name": "forger"}],
        "title": "t",
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {"action": "c2pa.created", "digitalSourceType": IPTC + "digitalCapture"}
                    ]
                },
            }
        ],
    }
    out = tmp_path / "selfsigned.mp4"
    with open(media("unsigned.mp4"), "rb") as s, open(out, "w+b") as d:
        _c2pa.sign_stream(manifest=manifest, signer=spec, mime="video/mp4", source=s, dest=d)
    report = check(
        out, Verdict.UNTRUSTED, ("signingCredential.untrusted",), "not on any configured trust list"
    )
    assert report.signer.organization == "Adobe Inc."  # type: ignore[attr-defined]
    assert any("self-signed" in n for n in report.notes)  # type: ignore[attr-defined]
    # Even trusting every official C2PA root does not help it.
    official = TrustConfig.from_files(
        anchors=[FIXTURES / "third_party" / "c2pa-trust-lists" / "C2PA-TRUST-LIST.pem"]
    )
    assert verify(out, trust=official).verdict is Verdict.UNTRUSTED


def test_chain_to_an_untrusted_root() -> None:
    check(
        media("untrusted.mp4"),
        Verdict.UNTRUSTED,
        ("signingCredential.untrusted",),
        "the signer is not on any configured trust list",
    )


def test_manifest_spliced_from_another_mp4(tmp_path: Path) -> None:
    signed, target = media("ai_generated.mp4").read_bytes(), media("unsigned.mp4").read_bytes()
    pos, size = _c2pa_box(signed)
    ftyp = find_box(target, b"ftyp")[1]
    out = tmp_path / "splice.mp4"
    out.write_bytes(target[:ftyp] + signed[pos : pos + size] + target[ftyp:])
    check(out, Verdict.TAMPERED, ("assertion.bmffHash.mismatch",), "changed after it was signed")


def test_manifest_spliced_from_another_jpeg(tmp_path: Path) -> None:
    signed = media("photo_captured.jpg").read_bytes()
    app11 = b"".join(signed[p : p + n] for p, m, n in _jpeg_segments(signed) if m == 0xEB)
    target = media("generated.png")  # any other picture, as JPEG:
    from provenance.thumbnails import frame_thumbnail

    other = frame_thumbnail(target)
    assert other is not None
    out = tmp_path / "splice.jpg"
    out.write_bytes(other[:2] + app11 + other[2:])
    check(out, Verdict.TAMPERED, ("assertion.dataHash.mismatch",), "bytes were changed")


def test_ai_label_edited_inside_a_valid_manifest(tmp_path: Path) -> None:
    data = bytearray(media("ai_generated.mp4").read_bytes())
    pos, size = _c2pa_box(bytes(data))
    i = data.find(b"trainedAlgorithmicMedia", pos, pos + size)
    data[i] = ord("x")  # trainedAlgorithmicMedia -> xrainedAlgorithmicMedia
    out = tmp_path / "edited.mp4"
    out.write_bytes(bytes(data))
    check(out, Verdict.INVALID, ("assertion.hashedURI.mismatch",), "does not match the hash")


def test_ai_label_removed_by_resigning_with_an_untrusted_key(tmp_path: Path) -> None:
    out = tmp_path / "resigned.mp4"
    sign(media("ai_generated.mp4"), out, signer=STRANGER, ai="no", source_type="digitalCapture")
    report = check(out, Verdict.UNTRUSTED, ("signingCredential.untrusted",))
    assert report.ai_generated is AIGeneration.NO  # type: ignore[attr-defined]


def test_expired_certificate_without_timestamp_and_untrusted_tsa(tmp_path: Path) -> None:
    import time

    from .tsa_server import TSAServer, make_tsa

    signer, root = short_lived_signer(tmp_path, seconds=2)
    bare, stamped = tmp_path / "bare.mp4", tmp_path / "stamped.mp4"
    tsa = make_tsa("rogue TSA")
    sign(media("unsigned.mp4"), bare, signer=signer, ai=None)
    with TSAServer(tsa):
        sign(media("unsigned.mp4"), stamped, signer=signer, tsa_url=tsa.url, ai=None)
    time.sleep(3)
    trust = TrustConfig.from_files(anchors=[root])  # the rogue TSA's root is not trusted
    check(bare, Verdict.INVALID, ("signingCredential.expired",), "expired")
    report = check(stamped, Verdict.INVALID, ("signingCredential.expired",), trust=trust)
    assert report.manifest.timestamp.trusted is False  # type: ignore[attr-defined]


def _first_manifest_box(data: bytes) -> bytes:
    first = data.find(b"jumb")
    second = data.find(b"jumb", first + 4)
    start = second - 4
    return data[start : start + int.from_bytes(data[start : start + 4], "big")]


def test_ingredient_swapped_for_another_file(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    sign(media("unsigned.mp4"), a / "src.mp4", signer=SIGNER, ai="fully", title="source")
    sign(media("stripped.mp4"), b / "src.mp4", signer=SIGNER, ai="fully", title="source")
    out = tmp_path / "edit.mp4"
    sign(media("unsigned.mp4"), out, signer=SIGNER, ingredients=[a / "src.mp4"], ai=None)
    check(out, Verdict.TRUSTED)
    ma = _first_manifest_box((a / "src.mp4").read_bytes())
    mb = _first_manifest_box((b / "src.mp4").read_bytes())
    assert len(ma) == len(mb)
    data = out.read_bytes()
    assert data.count(ma) == 1
    swapped = tmp_path / "swapped.mp4"
    swapped.write_bytes(data.replace(ma, mb))
    check(swapped, Verdict.INVALID, ("ingredient.manifest.missing",), "ingredient's manifest")


def test_two_manifest_stores_in_one_file(tmp_path: Path) -> None:
    data = media("ai_generated.mp4").read_bytes()
    pos, size = _c2pa_box(data)
    out = tmp_path / "two.mp4"
    out.write_bytes(data[: pos + size] + data[pos : pos + size] + data[pos + size :])
    check(out, Verdict.INVALID, ("manifest.unreadable",), "more than one manifest store")


@pytest.mark.parametrize(
    ("xmp_type", "ai", "expected_ai", "flag"),
    [
        ("digitalCapture", "fully", AIGeneration.FULLY, "XMP metadata says it is not"),
        ("trainedAlgorithmicMedia", "no", AIGeneration.NO, "credentials say not AI-generated"),
    ],
)
def test_xmp_contradicts_the_credentials(
    tmp_path: Path, xmp_type: str, ai: str, expected_ai: AIGeneration, flag: str
) -> None:
    labelled = tmp_path / "labelled.mp4"
    xmp.embed(media("unsigned.mp4"), labelled, "video/mp4", xmp.build_packet(IPTC + xmp_type))
    out = tmp_path / "out.mp4"
    sign(
        labelled,
        out,
        signer=SIGNER,
        ai=ai,
        source_type="digitalCapture" if ai == "no" else None,
        write_xmp=False,
    )
    report = check(out, Verdict.TRUSTED)  # the credentials themselves are intact
    assert report.ai_generated is expected_ai  # type: ignore[attr-defined]
    assert any(flag in n for n in report.inconsistencies)  # type: ignore[attr-defined]


def test_jpeg_mp4_polyglots(tmp_path: Path) -> None:
    from provenance.thumbnails import frame_thumbnail

    jpeg = frame_thumbnail(media("captured.mp4"))
    assert jpeg is not None
    signed_mp4 = media("ai_generated.mp4").read_bytes()
    a = tmp_path / "jpeg_then_mp4.jpg"
    a.write_bytes(jpeg + signed_mp4)  # the MP4's manifest must not speak for the JPEG
    check(a, Verdict.UNSIGNED, reason="no C2PA manifest found")
    b = tmp_path / "mp4_then_jpeg.mp4"
    b.write_bytes(signed_mp4 + media("photo_captured.jpg").read_bytes())
    check(b, Verdict.ERROR, reason="could not be parsed")


def test_a_hashless_bmff_binding_is_invalid_not_trusted(tmp_path: Path) -> None:
    """A manifest that brings its own `c2pa.hash.bmff.v3` with no hash and no Merkle tree
    is signed as given by the C2PA library, which then reports the binding as matching any
    content. Signed by the *trusted* test signer through the native library directly
    (provcheck's sign refuses such assertions), then its media bytes changed: never
    trusted, and not even intact."""
    chain = (CA / "test-signer-chain.pem").read_text()
    spec = _c2pa.NativeSignerSpec(
        "es256", chain, private_key_pem=(CA / "test-signer.key").read_text()
    )
    manifest = {
        "claim_generator_info": [{"name": "forger"}],
        "title": "binds nothing",
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {"action": "c2pa.created", "digitalSourceType": IPTC + "digitalCapture"}
                    ]
                },
            },
            {
                "label": "c2pa.hash.bmff.v3",
                "data": {"exclusions": [{"xpath": "/uuid"}], "alg": "sha256", "name": "x"},
            },
        ],
    }
    out = tmp_path / "hashless.mp4"
    with open(media("unsigned.mp4"), "rb") as s, open(out, "w+b") as d:
        _c2pa.sign_stream(manifest=manifest, signer=spec, mime="video/mp4", source=s, dest=d)
    data = bytearray(out.read_bytes())
    pos, size = find_box(bytes(data), b"mdat")
    data[pos + size // 2] ^= 0xFF  # a changed picture
    changed = tmp_path / "changed.mp4"
    changed.write_bytes(bytes(data))
    for path in (out, changed):
        report = check(path, Verdict.INVALID, ("assertion.bmffHash.malformed",), "binds no content")
        assert report.claims == "unverified"  # type: ignore[attr-defined]
