"""Signing: AI labels round-trip, signers and algorithms, refused certificates, atomic output,
timestamps from a real RFC 3161 TSA on loopback."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from hypothesis import given, settings
from hypothesis import strategies as st

from provcheck.app import cli
from provenance import (
    AIGeneration,
    CallbackSigner,
    PemSigner,
    SigningError,
    TrustConfig,
    Verdict,
    create_test_ca,
    keys,
    sign,
    verify,
    xmp,
)

from .conftest import FIXTURES, media, require_tool, short_lived_signer, sign_argv
from .tsa_server import TSAServer, make_tsa

CA = FIXTURES / "testca"
SIGNER = PemSigner.from_files(CA / "test-signer.key", CA / "test-signer-chain.pem")
TRUST = TrustConfig.from_files(anchors=[CA / "test-root-ca.pem"])


def digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.mark.parametrize("ai", ["fully", "partly", "possibly", "no", None])
@pytest.mark.parametrize("with_parent", [False, True])
def test_ai_label_round_trips(tmp_path: Path, ai: str | None, with_parent: bool) -> None:
    out = tmp_path / "out.mp4"
    ingredients = [media("captured.mp4")] if with_parent else []
    sign(media("unsigned.mp4"), out, signer=SIGNER, ai=ai, ingredients=ingredients)
    report = verify(out, trust=TRUST)
    assert report.verdict is Verdict.TRUSTED, report.reason
    expected = AIGeneration(ai) if ai else AIGeneration.UNKNOWN
    if ai is None and with_parent:
        expected = AIGeneration.NO  # no signal of its own: the captured parent speaks
    assert report.ai_generated is expected, report.ai_reason


def test_source_type_for_no(tmp_path: Path) -> None:
    out = tmp_path / "cam.mp4"
    sign(media("unsigned.mp4"), out, signer=SIGNER, ai="no", source_type="digitalCapture")
    report = verify(out, trust=TRUST)
    assert report.manifest is not None
    assert report.manifest.actions[0].digital_source_type == (
        "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"
    )
    with pytest.raises(SigningError, match="not a non-generative"):
        sign(
            media("unsigned.mp4"),
            tmp_path / "x.mp4",
            signer=SIGNER,
            ai="no",
            source_type="trainedAlgorithmicMedia",
        )
    assert not (tmp_path / "x.mp4").exists()


def test_photo_to_video_chain(tmp_path: Path) -> None:
    out = tmp_path / "gen.mp4"
    sign(
        media("unsigned.mp4"),
        out,
        signer=SIGNER,
        ai="fully",
        ingredients=[media("photo_captured.jpg")],
        software_agent="Video Model 3",
    )
    report = verify(out, trust=TRUST)
    assert report.manifest is not None
    created = report.manifest.actions[0]
    assert created.software_agent == "Video Model 3"
    (photo,) = report.manifest.ingredients
    assert (photo.relationship, photo.status) == ("inputTo", "valid")
    assert photo.manifest is not None and photo.manifest.ai_generated is AIGeneration.NO


@pytest.mark.parametrize("alg", ["es256", "es384", "es512", "ps256", "ed25519"])
def test_algorithms(tmp_path: Path, alg: str) -> None:
    ca = create_test_ca(tmp_path / "ca", alg=alg)
    signer = PemSigner.from_files(ca.signer_key, ca.signer_cert)
    assert signer.alg == alg
    out = tmp_path / "out.jpg"
    sign(media("photo_captured.jpg"), out, signer=signer, ai="fully")
    report = verify(out, trust=TrustConfig.from_files(anchors=[ca.root_cert]))
    assert report.verdict is Verdict.TRUSTED, report.reason
    assert report.signer is not None and report.signer.algorithm == alg


def test_callback_signer_keeps_the_key_outside(tmp_path: Path) -> None:
    key = serialization.load_pem_private_key((CA / "test-signer.key").read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    calls: list[int] = []

    def kms_sign(data: bytes) -> bytes:  # stands in for a KMS/HSM call
        calls.append(len(data))
        return key.sign(data, ec.ECDSA(hashes.SHA256()))

    signer = CallbackSigner(kms_sign, (CA / "test-signer-chain.pem").read_bytes(), "es256")
    out = tmp_path / "kms.mp4"
    sign(media("unsigned.mp4"), out, signer=signer, ai="fully")
    assert calls and verify(out, trust=TRUST).verdict is Verdict.TRUSTED


def _bad_cert(tmp_path: Path, kind: str) -> tuple[Path, Path]:
    root_key = keys.generate_key()
    root = keys.issue_certificate(
        subject_key=root_key, issuer_key=root_key, issuer_cert=None, cn="bad root", org="t", ca=True
    )
    key = keys.generate_key()
    now = dt.datetime.now(dt.UTC)
    kwargs: dict[str, object] = {}
    if kind == "expired":
        kwargs = {
            "not_before": now - dt.timedelta(days=10),
            "not_after": now - dt.timedelta(days=1),
        }
    if kind == "wrong-eku":
        kwargs = {"ekus": [ExtendedKeyUsageOID.SERVER_AUTH]}
    cert = keys.issue_certificate(
        subject_key=key,
        issuer_key=root_key,
        issuer_cert=root,
        cn="bad",
        org="t",
        ca=(kind == "ca"),
        **kwargs,
    )  # type: ignore[arg-type]
    if kind == "self-signed":
        cert = keys.issue_certificate(
            subject_key=key, issuer_key=key, issuer_cert=None, cn="me", org="t"
        )
    if kind == "no-eku":
        b = (
            x509.CertificateBuilder()
            .subject_name(cert.subject)
            .issuer_name(root.subject)
            .public_key(key.public_key())
            .serial_number(7)
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=9))
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                critical=True,
            )
        )
        cert = b.sign(root_key, hashes.SHA256())  # type: ignore[arg-type]
    kp, cp = tmp_path / "k.pem", tmp_path / "c.pem"
    kp.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return kp, cp


@pytest.mark.parametrize(
    ("kind", "match"),
    [
        ("expired", "expired on"),
        ("ca", "CA certificate"),
        ("no-eku", "no extended key usage"),
        ("wrong-eku", "none of the C2PA signing purposes"),
        ("self-signed", "self-signed"),
    ],
)
def test_unusable_certificates_are_refused_before_writing(
    tmp_path: Path, kind: str, match: str
) -> None:
    kp, cp = _bad_cert(tmp_path, kind)
    with pytest.raises(SigningError, match=match):
        PemSigner.from_files(kp, cp)
    r = CliRunner().invoke(
        cli,
        [
            "sign",
            str(media("unsigned.mp4")),
            "-o",
            str(tmp_path / "out.mp4"),
            "--key",
            str(kp),
            "--cert",
            str(cp),
            "--ai",
            "no",
        ],
    )
    assert r.exit_code == 5 and match in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out.mp4").exists()


def test_key_and_certificate_must_match(tmp_path: Path) -> None:
    other = create_test_ca(tmp_path / "other")
    with pytest.raises(SigningError, match="does not belong"):
        PemSigner.from_files(other.signer_key, CA / "test-signer-chain.pem")


def test_encrypted_key_passphrase(tmp_path: Path) -> None:
    key = serialization.load_pem_private_key((CA / "test-signer.key").read_bytes(), None)
    enc = tmp_path / "enc.key"
    enc.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"s3cret"),
        )
    )
    os.chmod(enc, 0o600)
    chain = CA / "test-signer-chain.pem"
    with pytest.raises(SigningError, match="encrypted"):
        PemSigner.from_files(enc, chain)
    with pytest.raises(SigningError, match="wrong passphrase") as info:
        PemSigner.from_files(enc, chain, passphrase=b"nope")
    assert "nope" not in str(info.value)
    assert "s3cret" not in repr(PemSigner.from_files(enc, chain, passphrase=b"s3cret"))
    out = tmp_path / "o.mp4"
    args = [
        "sign",
        str(media("unsigned.mp4")),
        "-o",
        str(out),
        "--key",
        str(enc),
        "--cert",
        str(chain),
        "--ai",
        "fully",
    ]
    r = CliRunner().invoke(cli, args)  # no TTY, no variable: a clear error
    assert r.exit_code == 5 and "PROVCHECK_KEY_PASSPHRASE" in r.stderr and not out.exists()
    r = CliRunner(env={"PROVCHECK_KEY_PASSPHRASE": "s3cret"}).invoke(cli, args)
    assert r.exit_code == 0, r.stderr
    assert "s3cret" not in r.stderr + r.stdout
    assert verify(out, trust=TRUST).verdict is Verdict.TRUSTED


def test_world_readable_key_warns(tmp_path: Path) -> None:
    key = tmp_path / "k.key"
    shutil.copy(CA / "test-signer.key", key)
    os.chmod(key, 0o644)
    r = CliRunner().invoke(
        cli,
        [
            "sign",
            str(media("unsigned.mp4")),
            "-o",
            str(tmp_path / "o.mp4"),
            "--key",
            str(key),
            "--cert",
            str(CA / "test-signer-chain.pem"),
            "--ai",
            "no",
        ],
    )
    assert r.exit_code == 0 and "readable by other users" in r.stderr


def test_output_rules(tmp_path: Path) -> None:
    src = tmp_path / "in.mp4"
    shutil.copy(media("unsigned.mp4"), src)
    before = digest(src)
    out = tmp_path / "out.mp4"
    out.write_bytes(b"keep me")
    with pytest.raises(SigningError, match="already exists"):
        sign(src, out, signer=SIGNER)
    assert out.read_bytes() == b"keep me"
    sign(src, out, signer=SIGNER, force=True)
    assert verify(out, trust=TRUST).verdict is Verdict.TRUSTED
    with pytest.raises(SigningError, match="in_place"):
        sign(src, src, signer=SIGNER)
    assert digest(src) == before
    sign(src, src, signer=SIGNER, ai="fully", in_place=True)
    assert verify(src, trust=TRUST).verdict is Verdict.TRUSTED
    assert not [p for p in tmp_path.iterdir() if "provcheck-tmp" in p.name]


def test_failed_signing_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.jpg"
    with pytest.raises(Exception):  # noqa: B017 - any failure; the point is what is left
        sign(
            media("photo_captured.jpg"),
            out,
            signer=SIGNER,
            extra_assertions=[{"label": "c2pa.hash.data", "data": "broken"}],
        )
    assert list(tmp_path.iterdir()) == []


def test_input_errors(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no such file"):
        sign(tmp_path / "missing.mp4", tmp_path / "o.mp4", signer=SIGNER)
    txt = tmp_path / "notes.txt"
    txt.write_text("hello")
    with pytest.raises(Exception, match="not a recognised media format"):
        sign(txt, tmp_path / "o.mp4", signer=SIGNER)


@pytest.mark.parametrize("name", ["unsigned.mp4", "photo_captured.jpg", "generated.png"])
def test_xmp_label_written_and_read(tmp_path: Path, name: str) -> None:
    out = tmp_path / f"signed{Path(name).suffix}"
    sign(media(name), out, signer=SIGNER, ai="fully", force=True)
    fmt = verify(out, trust=TRUST).format
    facts = xmp.read(out, fmt)
    assert facts is not None
    assert facts.digital_source_type == (
        "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    )
    assert verify(out, trust=TRUST).verdict is Verdict.TRUSTED  # the hash covers the packet


@pytest.mark.parametrize("name", ["unsigned.mp4", "photo_captured.jpg"])
def test_exiftool_reads_the_label(tmp_path: Path, name: str) -> None:
    exiftool = require_tool("exiftool", "libimage-exiftool-perl")
    out = tmp_path / f"signed{Path(name).suffix}"
    sign(media(name), out, signer=SIGNER, ai="partly")
    proc = subprocess.run(
        [exiftool, "-s3", "-XMP-iptcExt:DigitalSourceType", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stdout.strip() == (
        "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
    )


def test_no_xmp_option(tmp_path: Path) -> None:
    out = tmp_path / "o.mp4"
    sign(media("unsigned.mp4"), out, signer=SIGNER, ai="fully", write_xmp=False)
    assert xmp.read(out, "video/mp4") is None


def test_timestamp_keeps_an_expired_signature_valid(tmp_path: Path) -> None:
    tsa = make_tsa()
    tsa_root = tsa.root_pem(tmp_path / "tsa-root.pem")
    signer, root = short_lived_signer(tmp_path, seconds=3)
    stamped, bare = tmp_path / "stamped.mp4", tmp_path / "bare.mp4"
    with TSAServer(tsa):
        sign(media("unsigned.mp4"), stamped, signer=signer, ai="fully", tsa_url=tsa.url)
    sign(media("unsigned.mp4"), bare, signer=signer, ai="fully")
    assert tsa.requests == 1
    time.sleep(4)  # the signing certificate is now expired
    with_tsa = TrustConfig.from_files(anchors=[root], tsa=[tsa_root])
    report = verify(stamped, trust=with_tsa)
    assert report.verdict is Verdict.TRUSTED, report.status_codes
    assert report.manifest is not None and report.manifest.timestamp is not None
    assert report.manifest.timestamp.trusted is True
    assert report.manifest.timestamp.authority == "provcheck test TSA Responder (TEST ONLY)"
    # without a timestamp, or with one from a TSA nobody trusts: expired, hence invalid
    bare_report = verify(bare, trust=with_tsa)
    assert bare_report.verdict is Verdict.INVALID
    assert "signingCredential.expired" in bare_report.status_codes
    untrusted_tsa = verify(stamped, trust=TrustConfig.from_files(anchors=[root]))
    assert untrusted_tsa.verdict is Verdict.INVALID
    assert untrusted_tsa.manifest is not None and untrusted_tsa.manifest.timestamp is not None
    assert untrusted_tsa.manifest.timestamp.trusted is False


def test_unreachable_tsa_is_a_clear_error(tmp_path: Path) -> None:
    out = tmp_path / "o.mp4"
    with pytest.raises(SigningError, match="could not sign"):
        sign(media("unsigned.mp4"), out, signer=SIGNER, tsa_url="http://127.0.0.1:9/tsa")
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_cli_sign_end_to_end(tmp_path: Path) -> None:
    extra = tmp_path / "extra.json"
    extra.write_text('[{"label": "com.example.prompt", "data": {"prompt_id": "p-42"}}]')
    out = tmp_path / "gen.mp4"
    r = CliRunner().invoke(
        cli,
        sign_argv(
            media("unsigned.mp4"),
            out,
            "--ai",
            "fully",
            "--ingredient",
            str(media("photo_captured.jpg")),
            "--title",
            "My clip",
            "--manifest",
            str(extra),
        ),
    )
    assert r.exit_code == 0, r.stderr
    assert "signed" in r.stderr and r.stdout == ""
    report = verify(out, trust=TRUST)
    assert (report.verdict, report.ai_generated) == (Verdict.TRUSTED, AIGeneration.FULLY)
    assert report.manifest is not None and report.manifest.title == "My clip"
    r = CliRunner().invoke(cli, sign_argv(media("unsigned.mp4"), out, "--ai", "no"))
    assert r.exit_code == 5 and "already exists" in r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    r = CliRunner().invoke(
        cli,
        sign_argv(media("unsigned.mp4"), tmp_path / "x.mp4", "--ai", "no", "--manifest", str(bad)),
    )
    assert r.exit_code == 2 and "not valid JSON" in r.stderr


def test_cli_create_test_ca(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["keys", "create-test-ca", str(tmp_path / "ca")])
    assert r.exit_code == 0 and "TEST ONLY" in r.stderr
    assert oct((tmp_path / "ca" / "test-signer.key").stat().st_mode & 0o777) == "0o600"
    r = CliRunner().invoke(cli, ["keys", "create-test-ca", str(tmp_path / "ca")])
    assert r.exit_code == 5 and "already exist" in r.stderr


@pytest.mark.parametrize("verbose", [False, True])
def test_key_material_never_appears_in_errors(tmp_path: Path, verbose: bool) -> None:
    key_text = (CA / "test-signer.key").read_text()
    secret_line = key_text.splitlines()[1]
    other = create_test_ca(tmp_path / "other")
    cases = [
        ["--key", str(other.signer_key), "--cert", str(CA / "test-signer-chain.pem")],
        ["--key", str(CA / "test-signer.key"), "--cert", str(CA / "test-signer.key")],
        ["--key", str(CA / "test-signer-chain.pem"), "--cert", str(CA / "test-signer-chain.pem")],
    ]
    for extra in cases:
        args = ["sign", str(media("unsigned.mp4")), "-o", str(tmp_path / "o.mp4"), "--ai", "no"]
        args += extra
        if verbose:
            args.append("--verbose")
        r = CliRunner().invoke(cli, args)
        assert r.exit_code == 5, r.stderr
        assert "PRIVATE KEY" not in r.stderr + r.stdout
        assert secret_line not in r.stderr + r.stdout
    assert "--key-pem" not in CliRunner().invoke(cli, ["sign", "--help"]).stdout


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 120_000), st.sampled_from([1, 7, 4096, 65536, 200_000]))
def test_labelled_view_reads_like_the_labelled_copy(
    tmp_path_factory: pytest.TempPathFactory, offset: int, size: int
) -> None:
    """Signing reads the XMP-labelled MP4 through a view instead of a copy: the bytes the
    signer sees must be exactly those of the copy it replaces."""
    src = media("ai_generated.mp4")  # already carries an XMP box: it must become `free`
    packet = xmp.build_packet("http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture")
    ref = tmp_path_factory.getbasetemp() / "labelled-reference.mp4"
    if not ref.exists():
        xmp.embed(src, ref, "video/mp4", packet)
    expected = ref.read_bytes()
    patches, suffix = xmp.bmff_edits(src, packet)
    assert patches  # the old XMP box is neutralised in place
    with xmp.EditedView(src, patches, suffix) as view:
        view.seek(offset)
        assert view.read(size) == expected[offset : offset + size]
        view.seek(0)
        assert view.read() == expected
