"""The C2PA claim-signer certificate profile, enforced by provcheck on every verification:
each violation is a real file signed through the C2PA library directly (provcheck's own
pre-sign check bypassed), with a certificate minted under a TEST-ONLY root that is
configured as a trust anchor. None may come out ``trusted``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from provenance import SigningError, TrustConfig, Verdict, _c2pa, keys, verify
from provenance._certprofile import ChainInfo, check_profile, signature_chains

from .conftest import media

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
NOW = dt.datetime.now(dt.UTC)


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "provcheck tests (TEST ONLY)"),
        ]
    )


@pytest.fixture(scope="module")
def root() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = keys.issue_certificate(
        subject_key=key,
        issuer_key=key,
        issuer_cert=None,
        cn="profile root (TEST ONLY)",
        org="t",
        ca=True,
    )
    return key, cert


def _leaf(
    root: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
    *,
    ekus: list[x509.ObjectIdentifier] | None = None,
    ca: bool = False,
    digital_signature: bool = True,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    rkey, rcert = root
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name("profile signer (TEST ONLY)"))
        .issuer_name(rcert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - dt.timedelta(days=1))
        .not_valid_after(not_after or NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=digital_signature,
                content_commitment=not digital_signature,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(rkey.public_key()), False)
    )
    if ekus:
        builder = builder.add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
    return key, builder.sign(rkey, hashes.SHA256())


def _sign(
    out: Path,
    key: ec.EllipticCurvePrivateKey,
    leaf: x509.Certificate,
    root_cert: x509.Certificate,
) -> Path:
    spec = _c2pa.NativeSignerSpec(
        "es256", _pem(leaf) + _pem(root_cert), private_key_pem=_key_pem(key)
    )
    manifest = {
        "claim_generator_info": [{"name": "direct-c2pa"}],
        "title": "profile test",
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
    with open(media("unsigned.mp4"), "rb") as s, open(out, "w+b") as d:
        _c2pa.sign_stream(manifest=manifest, signer=spec, mime="video/mp4", source=s, dest=d)
    return out


EMAIL = ExtendedKeyUsageOID.EMAIL_PROTECTION
CASES: dict[str, tuple[dict[str, object], str]] = {
    "timestamping-only": (
        {"ekus": [ExtendedKeyUsageOID.TIME_STAMPING]},
        "for timeStamping (extended key usage), not for signing C2PA claims",
    ),
    "ocsp-only": (
        {"ekus": [ExtendedKeyUsageOID.OCSP_SIGNING]},
        "for OCSPSigning (extended key usage), not for signing C2PA claims",
    ),
    "no-digital-signature": (
        {"ekus": [EMAIL], "digital_signature": False},
        "key usage does not allow digital signatures (digitalSignature is not set)",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_profile_violation_signed_through_c2pa_is_invalid(
    case: str, root: tuple[ec.EllipticCurvePrivateKey, x509.Certificate], tmp_path: Path
) -> None:
    kwargs, words = CASES[case]
    key, leaf = _leaf(root, **kwargs)  # type: ignore[arg-type]
    (tmp_path / "root.pem").write_text(_pem(root[1]))
    out = _sign(tmp_path / f"{case}.mp4", key, leaf, root[1])
    report = verify(out, trust=TrustConfig.from_files(anchors=[tmp_path / "root.pem"]))
    assert report.verdict is Verdict.INVALID, (report.verdict, report.reason)
    assert "signingCredential.invalid" in report.status_codes
    assert words in report.reason
    problem = next(p for p in report.problems if p.code == "signingCredential.invalid")
    assert problem.where == "active manifest" and words in problem.message
    assert report.claims == "unverified"


# Shapes the C2PA library itself refuses to sign with; provcheck's check still names each
# (on the certificate chain as it would be read from a signature).
REFUSED: dict[str, tuple[dict[str, object], str, str]] = {
    "timestamping-with-email": (
        {"ekus": [EMAIL, ExtendedKeyUsageOID.TIME_STAMPING]},
        "eku",
        "for timeStamping (extended key usage)",
    ),
    "ca-certificate": ({"ekus": [EMAIL], "ca": True}, "ca", "is a CA certificate"),
    "no-eku": ({}, "eku", "has no extended key usage extension"),
    "server-auth-only": (
        {"ekus": [ExtendedKeyUsageOID.SERVER_AUTH]},
        "eku",
        "has no C2PA claim-signing purpose",
    ),
    "any-eku": (
        {"ekus": [EMAIL, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE]},
        "eku",
        "allows any extended key usage",
    ),
    "expired": (
        {
            "ekus": [EMAIL],
            "not_before": NOW - dt.timedelta(days=60),
            "not_after": NOW - dt.timedelta(days=30),
        },
        "validity",
        "was not valid now (no timestamp)",
    ),
    "not-yet-valid": (
        {
            "ekus": [EMAIL],
            "not_before": NOW + dt.timedelta(days=30),
            "not_after": NOW + dt.timedelta(days=60),
        },
        "validity",
        "was not valid now",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_every_profile_rule_is_named(
    case: str, root: tuple[ec.EllipticCurvePrivateKey, x509.Certificate], tmp_path: Path
) -> None:
    kwargs, rule, words = REFUSED[case]
    key, leaf = _leaf(root, **kwargs)  # type: ignore[arg-type]
    violations = check_profile(ChainInfo((leaf.public_bytes(serialization.Encoding.DER),)))
    named = [v for v in violations if v.rule == rule]
    assert named and words in named[0].message, violations
    # and the C2PA library does refuse to sign with it (so the check above is the only
    # line against a file made by other means)
    with pytest.raises(
        SigningError,
        match=r"could not sign: the certificate (is invalid|was not valid at time of signing)",
    ):
        _sign(tmp_path / f"{case}.mp4", key, leaf, root[1])


def test_a_conforming_signer_is_trusted(
    root: tuple[ec.EllipticCurvePrivateKey, x509.Certificate], tmp_path: Path
) -> None:
    key, leaf = _leaf(root, ekus=[EMAIL])
    (tmp_path / "root.pem").write_text(_pem(root[1]))
    out = _sign(tmp_path / "good.mp4", key, leaf, root[1])
    report = verify(out, trust=TrustConfig.from_files(anchors=[tmp_path / "root.pem"]))
    assert report.verdict is Verdict.TRUSTED, report.reason
    assert report.status_codes == ()


def test_chains_are_read_from_every_manifest_of_the_store() -> None:
    import io

    import c2pa

    with open(media("edit_of_ai.mp4"), "rb") as f, c2pa.Reader("video/mp4", f) as reader:
        import json

        store = json.loads(reader.json())
        label = store["active_manifest"]
        buf = io.BytesIO()
        reader.resource_to_stream(f"self#jumbf=/c2pa/{label}/c2pa.signature", buf)
    chains = signature_chains(buf.getvalue())
    assert set(chains) == set(store["manifests"])
    assert all(check_profile(c) == [] for c in chains.values())


@pytest.mark.parametrize(
    "mangle",
    [
        lambda b: b[: len(b) // 2],
        lambda b: b.replace(b"c2pa.signature", b"c2pa.signaturX"),
        lambda b: bytes(x ^ 0x5A for x in b),
        lambda b: b"\x00\x00\x00\x08jumb" * 1000,
    ],
)
def test_unreadable_signature_structures_yield_no_chain(mangle: Callable[[bytes], bytes]) -> None:
    import io
    import json

    import c2pa

    with open(media("captured.mp4"), "rb") as f, c2pa.Reader("video/mp4", f) as reader:
        label = json.loads(reader.json())["active_manifest"]
        buf = io.BytesIO()
        reader.resource_to_stream(f"self#jumbf=/c2pa/{label}/c2pa.signature", buf)
    got = signature_chains(mangle(buf.getvalue()))
    assert isinstance(got, dict)
    assert all(isinstance(c, ChainInfo) for c in got.values())
