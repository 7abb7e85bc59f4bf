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
    DestinationExistsError,
    InputError,
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
            "--ai",
            "no",
            str(media("unsigned.mp4")),
            "-o",
            str(tmp_path / "out.mp4"),
            "--key",
            str(kp),
            "--cert",
            str(cp),
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
        "--ai",
        "no",
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
            "--ai",
            "no",
            str(media("unsigned.mp4")),
            "-o",
            str(tmp_path / "o.mp4"),
            "--key",
            str(key),
            "--cert",
            str(CA / "test-signer-chain.pem"),
        ],
    )
    assert r.exit_code == 0 and "readable by other users" in r.stderr


def test_output_rules(tmp_path: Path) -> None:
    src = tmp_path / "in.mp4"
    shutil.copy(media("unsigned.mp4"), src)
    before = digest(src)
    out = tmp_path / "out.mp4"
    out.write_bytes(b"keep me")
    with pytest.raises(DestinationExistsError, match=r"out\.mp4: already exists") as info:
        sign(src, out, signer=SIGNER, ai="no")
    assert "=" not in str(info.value) and "--" not in str(info.value)  # no Python, no flags
    assert info.value.path == str(out)
    assert out.read_bytes() == b"keep me"
    sign(src, out, signer=SIGNER, ai="no", force=True)
    assert verify(out, trust=TRUST).verdict is Verdict.TRUSTED
    with pytest.raises(SigningError, match="is the input file; signing onto it needs in-place"):
        sign(src, src, signer=SIGNER, ai="no")
    assert digest(src) == before
    sign(src, src, signer=SIGNER, ai="fully", in_place=True)
    assert verify(src, trust=TRUST).verdict is Verdict.TRUSTED
    assert not [p for p in tmp_path.iterdir() if "provcheck-tmp" in p.name]


def test_failed_signing_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.jpg"
    with pytest.raises(SigningError, match=r"could not decode assertion c2pa\.actions\.v2"):
        sign(
            media("photo_captured.jpg"),
            out,
            signer=SIGNER,
            ai="fully",
            extra_assertions=[{"label": "c2pa.actions.v2", "data": "broken"}],
        )
    assert list(tmp_path.iterdir()) == []


def test_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing\.mp4: no such file"):
        sign(tmp_path / "missing.mp4", tmp_path / "o.mp4", signer=SIGNER, ai="no")
    txt = tmp_path / "notes.txt"
    txt.write_text("hello")
    with pytest.raises(InputError, match="not a recognised media format"):
        sign(txt, tmp_path / "o.mp4", signer=SIGNER, ai="no")


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
    url = "http://127.0.0.1:9/tsa"  # the discard port: nothing listens on loopback
    with pytest.raises(SigningError) as info:
        sign(media("unsigned.mp4"), out, signer=SIGNER, ai="fully", tsa_url=url)
    message = str(info.value)
    assert message.startswith(f"timestamp authority {url} failed: cannot connect to 127.0.0.1:9")
    assert "internal error" not in message and "resolver" not in message
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_tsa_answering_an_http_error_is_named(tmp_path: Path) -> None:
    tsa = make_tsa()
    out = tmp_path / "o.mp4"
    with TSAServer(tsa), pytest.raises(SigningError) as info:
        sign(media("unsigned.mp4"), out, signer=SIGNER, ai="fully", tsa_url=tsa.url + "/nope")
    assert str(info.value).startswith(f"timestamp authority {tsa.url}/nope failed: ")
    assert "internal error" not in str(info.value)
    assert not out.exists()


def test_tsa_url_must_be_http(tmp_path: Path) -> None:
    with pytest.raises(SigningError, match="not an http:// or https:// URL"):
        sign(media("unsigned.mp4"), tmp_path / "o.mp4", signer=SIGNER, ai="no", tsa_url="tsa")


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
    r = CliRunner().invoke(cli, sign_argv(media("unsigned.mp4"), out, "--ai", "fully"))
    assert r.exit_code == 5 and "already exists" in r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    r = CliRunner().invoke(
        cli,
        sign_argv(
            media("unsigned.mp4"), tmp_path / "x.mp4", "--ai", "fully", "--manifest", str(bad)
        ),
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
        args = [
            "sign",
            "--ai",
            "no",
            str(media("unsigned.mp4")),
            "-o",
            str(tmp_path / "o.mp4"),
            *extra,
        ]
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


# --- issue 12 item 7: an explicit AI statement ---


def test_ai_is_required(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="'ai'"):
        sign(media("unsigned.mp4"), tmp_path / "o.mp4", signer=SIGNER)  # type: ignore[call-arg]
    with pytest.raises(SigningError, match=r"'maybe' is not one of: .*fully.*no"):
        sign(media("unsigned.mp4"), tmp_path / "o.mp4", signer=SIGNER, ai="maybe")
    assert list(tmp_path.iterdir()) == []


# --- issue 12 item 9: the BMFF exclusions provcheck's MP4s carry, and what still binds ---


def _bmff_exclusions(path: Path) -> list[dict[str, object]]:
    import json

    import c2pa

    with open(path, "rb") as f, c2pa.Reader("video/mp4", f) as reader:
        store = json.loads(reader.json())
    active = store["manifests"][store["active_manifest"]]
    (binding,) = [a for a in active["assertions"] if a["label"].startswith("c2pa.hash.bmff")]
    assert binding["data"]["merkle"], "the mdat payload must be bound by Merkle leaves"
    exclusions: list[dict[str, object]] = binding["data"]["exclusions"]
    return exclusions


def test_signed_mp4_exclusions_are_the_documented_ones(tmp_path: Path) -> None:
    """README "Signing": uuid (the manifest), ftyp, mfra (C2PA-required); free and skip
    (ISO BMFF free space, ignored by players); the mdat payload, hashed as Merkle leaves."""
    out = tmp_path / "o.mp4"
    sign(media("unsigned.mp4"), out, signer=SIGNER, ai="fully")
    paths = sorted(str(e["xpath"]) for e in _bmff_exclusions(out))
    assert paths == ["/free", "/ftyp", "/mdat", "/mfra", "/skip", "/uuid"]


def _flip(src: Path, dest: Path, offset: int) -> Path:
    data = bytearray(src.read_bytes())
    data[offset] ^= 0xFF
    dest.write_bytes(bytes(data))
    return dest


def test_what_the_exclusions_still_bind(tmp_path: Path) -> None:
    from .conftest import find_box

    out = tmp_path / "o.mp4"
    sign(media("unsigned.mp4"), out, signer=SIGNER, ai="fully")
    data = out.read_bytes()
    mdat, _ = find_box(data, b"mdat")
    free, _ = find_box(data, b"free")
    moov, _ = find_box(data, b"moov")
    for name, offset in [("mdat payload", mdat + 20), ("free type", free + 4), ("moov", moov + 12)]:
        report = verify(_flip(out, tmp_path / "t.mp4", offset), trust=TRUST)
        assert report.verdict is Verdict.TAMPERED, name
    # Free space cannot be grown or inserted in front of the media: box offsets are hashed.
    grown_in_front = data[:free] + b"\x00\x00\x00\x10free" + b"\x00" * 8 + data[free + 8 :]
    inserted = data[:free] + b"\x00\x00\x00\x08skip" + data[free:]
    for name, body in [("grown free", grown_in_front), ("inserted skip", inserted)]:
        (tmp_path / "t.mp4").write_bytes(body)
        assert verify(tmp_path / "t.mp4", trust=TRUST).verdict is Verdict.TAMPERED, name
    # What the exclusions allow: free space appended after the last box changes nothing
    # a player shows, and the signature still holds.
    grown = tmp_path / "grown.mp4"
    grown.write_bytes(data + b"\x00\x00\x00\x10free" + b"\x00" * 8)
    assert verify(grown, trust=TRUST).verdict is Verdict.TRUSTED


def test_caller_supplied_hash_assertions_are_refused(tmp_path: Path) -> None:
    """A hash assertion given by the caller would be signed without a hash in it (and
    c2pa-rs 0.91 accepts a hash-less BMFF binding for any content)."""
    for label in ("c2pa.hash.bmff.v3", "c2pa.hash.data", "c2pa.hash.boxes"):
        with pytest.raises(SigningError, match="content-binding"):
            sign(
                media("unsigned.mp4"),
                tmp_path / "o.mp4",
                signer=SIGNER,
                ai="no",
                extra_assertions=[{"label": label, "data": {"exclusions": []}}],
            )
    assert list(tmp_path.iterdir()) == []


# --- issue 13: absurd structures, special files, symbolic links ---


def _many_boxes(tmp_path: Path, count: int, *, inside_moov: bool) -> Path:
    """A real MP4 followed by (or with its moov padded by) ``count`` empty ``free`` boxes."""
    import struct

    data = media("unsigned.mp4").read_bytes()
    pad = b"\x00\x00\x00\x08free" * count
    path = tmp_path / f"boxes-{count}.mp4"
    if inside_moov:
        from .conftest import find_box

        pos, size = find_box(data, b"moov")
        assert pos + size == len(data)  # moov is last: growing it moves no chunk offset
        data = data[:pos] + struct.pack(">I", size + len(pad)) + data[pos + 4 :] + pad
        path.write_bytes(data)
    else:
        path.write_bytes(data + pad)
    return path


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("count", "inside_moov"), [(20_001, False), (10_001, True)])
def test_many_boxes_refused_before_the_native_library(
    tmp_path: Path, count: int, inside_moov: bool
) -> None:
    src = _many_boxes(tmp_path, count, inside_moov=inside_moov)
    out = tmp_path / "o.mp4"
    started = time.monotonic()
    with pytest.raises(InputError, match="refused as a denial-of-service shape") as info:
        sign(src, out, signer=SIGNER, ai="fully")
    assert str(src) in str(info.value)
    # and as an ingredient
    with pytest.raises(InputError, match="denial-of-service"):
        sign(media("unsigned.mp4"), out, signer=SIGNER, ai="fully", ingredients=[src])
    assert time.monotonic() - started < 20  # the native reader would take minutes
    assert not out.exists()


def test_a_few_thousand_boxes_still_sign(tmp_path: Path) -> None:
    out = tmp_path / "o.mp4"
    sign(_many_boxes(tmp_path, 500, inside_moov=True), out, signer=SIGNER, ai="fully")
    assert verify(out, trust=TRUST).verdict is Verdict.TRUSTED


@pytest.mark.timeout(30)
def test_deep_nesting_refused(tmp_path: Path) -> None:
    import struct

    data = media("unsigned.mp4").read_bytes()
    nest = b""
    for _ in range(40):  # trak inside trak inside ...: a shape no real file has
        nest = struct.pack(">I4s", 8 + len(nest), b"trak") + nest
    src = tmp_path / "deep.mp4"
    src.write_bytes(data + struct.pack(">I4s", 8 + len(nest), b"moov") + nest)
    with pytest.raises(InputError, match="nested more than 32 levels"):
        sign(src, tmp_path / "o.mp4", signer=SIGNER, ai="fully")


@pytest.mark.timeout(20)
@pytest.mark.parametrize("role", ["key", "cert", "source", "ingredient"])
def test_fifo_is_refused_without_hanging(tmp_path: Path, role: str) -> None:
    fifo = tmp_path / "special"
    os.mkfifo(fifo)
    with pytest.raises((SigningError, InputError), match="is a named pipe"):
        if role == "key":
            PemSigner.from_files(fifo, CA / "test-signer-chain.pem")
        elif role == "cert":
            PemSigner.from_files(CA / "test-signer.key", fifo)
        elif role == "source":
            sign(fifo, tmp_path / "o.mp4", signer=SIGNER, ai="no")
        else:
            sign(
                media("unsigned.mp4"),
                tmp_path / "o.mp4",
                signer=SIGNER,
                ai="no",
                ingredients=[fifo],
            )
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.timeout(20)
def test_dev_zero_is_refused_without_reading_forever(tmp_path: Path) -> None:
    with pytest.raises(SigningError, match="/dev/zero: is a device"):
        PemSigner.from_files("/dev/zero", CA / "test-signer-chain.pem")
    with pytest.raises(InputError, match="/dev/zero: is a device"):
        sign("/dev/zero", tmp_path / "o.mp4", signer=SIGNER, ai="no")
    big = tmp_path / "big.key"
    with open(big, "wb") as f:
        f.truncate(64 * 1024 * 1024)
    with pytest.raises(SigningError, match="larger than"):
        PemSigner.from_files(big, CA / "test-signer-chain.pem")


def test_in_place_through_a_symlink_signs_the_target(tmp_path: Path) -> None:
    target = tmp_path / "real" / "clip.mp4"
    target.parent.mkdir()
    shutil.copy(media("unsigned.mp4"), target)
    link = tmp_path / "link.mp4"
    link.symlink_to(target)
    result = sign(link, link, signer=SIGNER, ai="fully", in_place=True)
    assert link.is_symlink() and os.readlink(link) == str(target)  # still a link
    assert result.path == link
    assert verify(target, trust=TRUST).verdict is Verdict.TRUSTED  # the target is signed
    leftovers = [p.name for p in target.parent.iterdir()] + [p.name for p in tmp_path.iterdir()]
    assert not [n for n in leftovers if "provcheck-tmp" in n]


def test_forced_output_through_a_symlink_and_a_dangling_link(tmp_path: Path) -> None:
    target = tmp_path / "existing.mp4"
    target.write_bytes(b"old")
    link = tmp_path / "out.mp4"
    link.symlink_to(target)
    with pytest.raises(DestinationExistsError):
        sign(media("unsigned.mp4"), link, signer=SIGNER, ai="no")
    sign(media("unsigned.mp4"), link, signer=SIGNER, ai="no", force=True)
    assert link.is_symlink() and verify(target, trust=TRUST).verdict is Verdict.TRUSTED
    dangling = tmp_path / "dangling.mp4"
    dangling.symlink_to(tmp_path / "nowhere" / "x.mp4")
    with pytest.raises(SigningError, match=r"symbolic link to .*, which does not exist"):
        sign(media("unsigned.mp4"), dangling, signer=SIGNER, ai="no")


@pytest.mark.parametrize("org", ["x" * 65, "é" * 33])
def test_create_test_ca_org_longer_than_x509_allows(tmp_path: Path, org: str) -> None:
    with pytest.raises(SigningError, match="ub-organization-name"):
        create_test_ca(tmp_path / "ca", org=org)
    r = CliRunner().invoke(cli, ["keys", "create-test-ca", str(tmp_path / "ca"), "--org", org])
    assert r.exit_code == 5 and "ub-organization-name" in r.stderr
    assert "internal error" not in r.stderr
    ca = create_test_ca(tmp_path / "ok", org="o" * 64)  # the limit itself is fine
    signer = PemSigner.from_files(ca.signer_key, ca.signer_cert)
    out = tmp_path / "o.jpg"
    sign(media("photo_captured.jpg"), out, signer=signer, ai="no")
    trust = TrustConfig.from_files(anchors=[ca.root_cert])
    assert verify(out, trust=trust).verdict is Verdict.TRUSTED
