"""Keys and certificates: loading PEM signers, checking them, and test-only CAs.

``create_test_ca`` writes a root and a signer certificate that the C2PA library
accepts (end-entity profile: digitalSignature key usage, a C2PA EKU, AKI/SKI,
not a CA). Every name it writes says TEST ONLY: such a CA must never be
installed as a real trust anchor.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .errors import DestinationExistsError, SigningError
from .trust import atomic_write_bytes

__all__ = [
    "TestCA",
    "create_test_ca",
    "issue_certificate",
    "generate_key",
    "load_private_key",
    "check_signing_certificate",
    "algorithm_for_key",
    "PrivateKey",
]

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey

EKU_DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
_C2PA_SIGNER_EKUS = {
    ExtendedKeyUsageOID.EMAIL_PROTECTION.dotted_string,
    EKU_DOCUMENT_SIGNING.dotted_string,
    "1.3.6.1.4.1.311.76.59.1.9",
    "1.3.6.1.4.1.62558.2.1",
}


def generate_key(alg: str = "es256") -> PrivateKey:
    """A fresh private key of the type a C2PA signing algorithm needs."""
    alg = alg.lower()
    if alg == "es256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "es384":
        return ec.generate_private_key(ec.SECP384R1())
    if alg == "es512":
        return ec.generate_private_key(ec.SECP521R1())
    if alg in ("ps256", "ps384", "ps512"):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise SigningError(f"unsupported signing algorithm {alg!r}")


def algorithm_for_key(key: object) -> str:
    """The natural C2PA algorithm for a key: ES* by curve, PS256 for RSA, Ed25519."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}.get(
            key.curve.name, "es256"
        )
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    raise SigningError(f"unsupported key type {type(key).__name__}; use EC, RSA or Ed25519")


def _hash_for(key: PrivateKey) -> hashes.HashAlgorithm | None:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {"secp384r1": hashes.SHA384(), "secp521r1": hashes.SHA512()}.get(
            key.curve.name, hashes.SHA256()
        )
    return hashes.SHA256()


def load_private_key(data: bytes, passphrase: bytes | None, origin: str) -> PrivateKey:
    """Parse a PEM private key; the message never contains key material or passphrase."""
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except TypeError as exc:
        if passphrase is None:
            raise SigningError(
                f"{origin}: the private key is encrypted; give its passphrase "
                "(environment variable or prompt)"
            ) from None
        raise SigningError(
            f"{origin}: the key is not encrypted, but a passphrase was given"
        ) from exc
    except ValueError:
        raise SigningError(
            f"{origin}: not a readable PEM private key, or wrong passphrase"
        ) from None
    except UnsupportedAlgorithm:
        raise SigningError(f"{origin}: unsupported private key type") from None
    if not isinstance(
        key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
    ):
        raise SigningError(f"{origin}: unsupported key type {type(key).__name__}")
    return key


def check_signing_certificate(
    cert: x509.Certificate, *, origin: str, now: dt.datetime | None = None
) -> None:
    """Refuse, before any output is written, a certificate C2PA would reject."""
    now = now or dt.datetime.now(dt.UTC)
    problems = []
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        if bc.ca:
            problems.append(
                "it is a CA certificate (basicConstraints CA:TRUE); sign with an "
                "end-entity certificate issued by that CA"
            )
    except x509.ExtensionNotFound:
        pass
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        if not ku.digital_signature:
            problems.append("its key usage lacks digitalSignature")
    except x509.ExtensionNotFound:
        problems.append("it has no key usage extension (needs digitalSignature)")
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        oids = {o.dotted_string for o in eku}
        if not oids & _C2PA_SIGNER_EKUS:
            problems.append(
                "its extended key usage has none of the C2PA signing purposes "
                "(emailProtection, documentSigning, C2PA claim signing)"
            )
    except x509.ExtensionNotFound:
        problems.append(
            "it has no extended key usage (needs e.g. emailProtection or documentSigning)"
        )
    if cert.not_valid_after_utc < now:
        problems.append(f"it expired on {cert.not_valid_after_utc:%Y-%m-%d}")
    if cert.not_valid_before_utc > now:
        problems.append(f"it is not valid before {cert.not_valid_before_utc:%Y-%m-%d}")
    if cert.issuer == cert.subject:
        problems.append("it is self-signed; C2PA needs a certificate issued by a CA")
    if problems:
        raise SigningError(
            f"{origin}: the signing certificate cannot be used for C2PA: " + "; ".join(problems)
        )


def _name(cn: str, org: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "FOR TESTING ONLY"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        ]
    )


def issue_certificate(
    *,
    subject_key: PrivateKey,
    issuer_key: PrivateKey,
    issuer_cert: x509.Certificate | None,
    cn: str,
    org: str,
    ca: bool = False,
    ekus: list[x509.ObjectIdentifier] | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    critical_eku: bool = False,
) -> x509.Certificate:
    """Issue a certificate (self-signed when issuer_cert is None)."""
    now = dt.datetime.now(dt.UTC)
    not_before = not_before or now - dt.timedelta(days=1)
    not_after = not_after or now + dt.timedelta(days=365 * 20)
    subject = _name(cn, org)
    issuer = issuer_cert.subject if issuer_cert is not None else subject
    pub = subject_key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(pub)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
    )
    issuer_pub = issuer_key.public_key()
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_pub), critical=False
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        builder = builder.add_extension(
            x509.ExtendedKeyUsage(
                ekus or [ExtendedKeyUsageOID.EMAIL_PROTECTION, EKU_DOCUMENT_SIGNING]
            ),
            critical=critical_eku,
        )
    return builder.sign(issuer_key, _hash_for(issuer_key))  # type: ignore[arg-type]


@dataclass(frozen=True)
class TestCA:
    """Paths of a test CA written by ``create_test_ca``."""

    root_cert: Path
    root_key: Path
    signer_cert: Path  # chain: signer certificate then the root
    signer_key: Path


# X.509 upper bounds (RFC 5280 appendix A.1): ub-organization-name and ub-common-name.
_UB_NAME = 64


def _check_org(org: str) -> str:
    org = org.strip()
    if not org:
        raise SigningError("the organisation name is empty")
    size = len(org.encode("utf-8"))  # what the certificate stores (and cryptography counts)
    if size > _UB_NAME:
        raise SigningError(
            f"the organisation name is {size} bytes long (UTF-8); X.509 allows at most "
            f"{_UB_NAME} (ub-organization-name, RFC 5280): shorten it"
        )
    if any(not c.isprintable() for c in org):
        raise SigningError(f"the organisation name {org!r} holds control characters")
    return org


def _cn(org: str, suffix: str) -> str:
    # The common name repeats the organisation; cut that part so the name stays <= 64 bytes.
    room = _UB_NAME - len(suffix.encode("utf-8"))
    head = org.encode("utf-8")[:room].decode("utf-8", errors="ignore").rstrip()
    return head + suffix


def _pem_key(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def create_test_ca(
    directory: str | os.PathLike[str],
    *,
    alg: str = "es256",
    org: str = "provcheck test",
    force: bool = False,
) -> TestCA:
    """Write a TEST-ONLY root CA and a C2PA signer certificate issued by it."""
    d = Path(directory)
    org = _check_org(org)
    names = {
        "root_cert": "test-root-ca.pem",
        "root_key": "test-root-ca.key",
        "signer_cert": "test-signer-chain.pem",
        "signer_key": "test-signer.key",
    }
    if not force:
        existing = [n for n in names.values() if (d / n).exists()]
        if existing:
            raise DestinationExistsError(", ".join(str(d / n) for n in existing))
    root_key = generate_key("es256")
    root = issue_certificate(
        subject_key=root_key,
        issuer_key=root_key,
        issuer_cert=None,
        cn=_cn(org, " Root CA (TEST ONLY)"),
        org=org,
        ca=True,
    )
    signer_key = generate_key(alg)
    signer = issue_certificate(
        subject_key=signer_key,
        issuer_key=root_key,
        issuer_cert=root,
        cn=_cn(org, " Signer (TEST ONLY)"),
        org=org,
    )
    pem = serialization.Encoding.PEM
    atomic_write_bytes(d / names["root_cert"], root.public_bytes(pem))
    atomic_write_bytes(d / names["root_key"], _pem_key(root_key), mode=0o600)
    atomic_write_bytes(d / names["signer_cert"], signer.public_bytes(pem) + root.public_bytes(pem))
    atomic_write_bytes(d / names["signer_key"], _pem_key(signer_key), mode=0o600)
    return TestCA(**{k: d / v for k, v in names.items()})
