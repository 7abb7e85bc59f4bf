"""The claim signer's certificate, checked by provcheck itself.

The C2PA library validates the claim signature and, with trust configured, the chain; it
has been seen to accept a signer whose only EKU is ``timeStamping`` when that signer chains
to a configured root. provcheck therefore reads each manifest's certificate chain (the
``x5chain`` of its COSE signature) and enforces the C2PA claim-signer certificate profile
on every verification, whatever the library did:

* the signer is an end-entity certificate (basicConstraints cA is not asserted);
* keyUsage is present and asserts digitalSignature (and not keyCertSign);
* extendedKeyUsage is present, not anyExtendedKeyUsage, holds a C2PA claim-signing
  purpose (emailProtection, documentSigning, c2pa-kp-claimSigning, Microsoft's C2PA EKU)
  and neither timeStamping nor OCSPSigning;
* the certificate was valid when the claim was signed (the timestamp's time, else now).

A violation is a ``signingCredential.invalid`` problem naming the rule that failed.

The signature boxes are found in the manifest store's JUMBF and their COSE structure read
with a small CBOR decoder that is bounded in depth, items and length: nothing here trusts
the bytes, and a structure it cannot read yields no chain (and no claim of a violation).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography import x509

from ._frozen import Value

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.serialization import Encoding

__all__ = [
    "CLAIM_SIGNER_EKUS",
    "ChainInfo",
    "ProfileViolation",
    "signature_chains",
    "check_profile",
    "chains_to",
]

CLAIM_SIGNER_EKUS = {
    "1.3.6.1.5.5.7.3.4": "emailProtection",
    "1.3.6.1.5.5.7.3.36": "documentSigning",
    "1.3.6.1.4.1.62558.2.1": "c2pa-kp-claimSigning",
    "1.3.6.1.4.1.311.76.59.1.9": "Microsoft C2PA signing",
}
_TIME_STAMPING = "1.3.6.1.5.5.7.3.8"  # id-kp-timeStamping
_FORBIDDEN_EKUS = {
    _TIME_STAMPING: "timeStamping",
    "1.3.6.1.5.5.7.3.9": "OCSPSigning",  # id-kp-OCSPSigning
}
_ANY_EKU = "2.5.29.37.0"

_MAX_BOX_DEPTH = 8
_MAX_CBOR_DEPTH = 16
_MAX_CBOR_ITEMS = 20_000
_MAX_CERTS = 16


@dataclass(frozen=True, eq=False, repr=False)  # _frozen.Value: eq, hash, repr
class ProfileViolation(Value):
    """One rule of the C2PA claim-signer certificate profile that the certificate breaks."""

    rule: str  # short key: eku, key-usage, ca, validity
    message: str


@dataclass(frozen=True, eq=False, repr=False)  # _frozen.Value: eq, hash, repr
class ChainInfo(Value):
    """A manifest's signing certificate chain (DER, leaf first) as found in its signature."""

    certs: tuple[bytes, ...]
    leaf_sha256: str = field(default="")


# ---------------------------------------------------------------------------
# JUMBF: find each manifest's c2pa.signature content


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes in data[start:end]."""
    out: list[tuple[bytes, int, int]] = []
    pos = start
    while pos + 8 <= end and len(out) < 10_000:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            if pos + 16 > end:
                break
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            break
        out.append((kind, pos + header, pos + size))
        pos += size
    return out


def _label(data: bytes, start: int, end: int) -> str | None:
    """The label of a JUMBF description box (16-byte type, toggles, null-terminated label)."""
    if end - start < 17:
        return None
    toggles = data[start + 16]
    if not toggles & 0x02:
        return None
    raw = data[start + 17 : end].split(b"\x00", 1)[0]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _signature_payloads(store: bytes) -> dict[str, bytes]:
    """Manifest label -> the CBOR content of its c2pa.signature box."""
    out: dict[str, bytes] = {}

    def superbox(start: int, end: int) -> tuple[str | None, list[tuple[bytes, int, int]]]:
        kids = _boxes(store, start, end)
        label = None
        if kids and kids[0][0] == b"jumd":
            label = _label(store, kids[0][1], kids[0][2])
        return label, kids[1:]

    for kind, s, e in _boxes(store, 0, len(store)):
        if kind != b"jumb":
            continue
        _, manifests = superbox(s, e)  # the "c2pa" store
        for mk, ms, me in manifests:
            if mk != b"jumb":
                continue
            mlabel, parts = superbox(ms, me)
            if not mlabel:
                continue
            for pk, ps, pe in parts:
                if pk != b"jumb":
                    continue
                plabel, content = superbox(ps, pe)
                if plabel == "c2pa.signature":
                    for ck, cs, ce in content:
                        if ck == b"cbor":
                            out[mlabel] = store[cs:ce]
                            break
    return out


# ---------------------------------------------------------------------------
# a bounded CBOR reader, enough for a COSE_Sign1 header


class _CborError(ValueError):
    pass


class _Cbor:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.items = 0

    def _take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise _CborError("truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def _arg(self, info: int) -> int | None:
        if info < 24:
            return info
        if info in (24, 25, 26, 27):
            n = 1 << (info - 24)
            return int.from_bytes(self._take(n), "big")
        if info == 31:
            return None  # indefinite
        raise _CborError("reserved additional information")

    def read(self, depth: int = 0) -> Any:
        if depth > _MAX_CBOR_DEPTH:
            raise _CborError("too deep")
        self.items += 1
        if self.items > _MAX_CBOR_ITEMS:
            raise _CborError("too many items")
        initial = self._take(1)[0]
        major, info = initial >> 5, initial & 0x1F
        if major == 7:
            if info in (20, 21):
                return info == 21
            if info in (22, 23):
                return None
            if info in (25, 26, 27):
                self._take(1 << (info - 24))
                return 0.0
            if info < 24:
                return None
            if info == 24:
                self._take(1)
                return None
            raise _CborError("unexpected break")
        arg = self._arg(info)
        if major == 0:
            return arg
        if major == 1:
            return -1 - (arg or 0)
        if major in (2, 3):
            if arg is None:
                chunks = []
                while self.data[self.pos : self.pos + 1] != b"\xff":
                    chunk = self.read(depth + 1)
                    if not isinstance(chunk, bytes | str):
                        raise _CborError("bad chunk")
                    chunks.append(chunk.encode() if isinstance(chunk, str) else chunk)
                self._take(1)
                raw = b"".join(chunks)
            else:
                raw = self._take(arg)
            return raw if major == 2 else raw.decode("utf-8", "replace")
        if major == 4:
            out = []
            if arg is None:
                while self.data[self.pos : self.pos + 1] != b"\xff":
                    out.append(self.read(depth + 1))
                self._take(1)
            else:
                for _ in range(arg):
                    out.append(self.read(depth + 1))
            return out
        if major == 5:
            result: dict[Any, Any] = {}
            count = 0
            while True:
                if arg is None:
                    if self.data[self.pos : self.pos + 1] == b"\xff":
                        self._take(1)
                        break
                elif count >= arg:
                    break
                key = self.read(depth + 1)
                value = self.read(depth + 1)
                if isinstance(key, int | str):
                    result[key] = value
                count += 1
            return result
        if major == 6:
            return self.read(depth + 1)  # the tag itself (COSE_Sign1 = 18) is not needed
        raise _CborError("unknown major type")


def _x5chain(cose: bytes) -> tuple[bytes, ...]:
    value = _Cbor(cose).read()
    if not isinstance(value, list) or len(value) < 2:
        return ()
    headers: list[Mapping[Any, Any]] = []
    if isinstance(value[0], bytes) and value[0]:
        protected = _Cbor(value[0]).read()
        if isinstance(protected, Mapping):
            headers.append(protected)
    if isinstance(value[1], Mapping):
        headers.append(value[1])
    for h in headers:
        chain = h.get(33, h.get("x5chain"))
        if isinstance(chain, bytes):
            return (chain,)
        if isinstance(chain, list):
            return tuple(c for c in chain[:_MAX_CERTS] if isinstance(c, bytes))
    return ()


def signature_chains(store: bytes | None) -> dict[str, ChainInfo]:
    """Manifest label -> its signing certificate chain, for every manifest in the store
    whose signature could be read. Never raises: unreadable structures are left out."""
    if not store:
        return {}
    out: dict[str, ChainInfo] = {}
    try:
        payloads = _signature_payloads(store)
    except (ValueError, struct.error, IndexError):
        return {}
    for label, cose in payloads.items():
        try:
            certs = _x5chain(cose)
        except (_CborError, ValueError, IndexError, RecursionError):
            continue
        if certs:
            out[label] = ChainInfo(certs, hashlib.sha256(certs[0]).hexdigest())
    return out


# ---------------------------------------------------------------------------
# the profile


def _parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def check_profile(
    chain: ChainInfo, signed_at: str | None = None, *, now: dt.datetime | None = None
) -> list[ProfileViolation]:
    """The profile rules the chain's leaf (the claim signer) breaks; [] when it conforms."""
    try:
        cert = x509.load_der_x509_certificate(chain.certs[0])
    except ValueError as exc:
        return [ProfileViolation("parse", f"the signing certificate cannot be parsed: {exc}")]
    out: list[ProfileViolation] = []
    try:
        exts = cert.extensions
    except ValueError as exc:
        return [
            ProfileViolation("parse", f"the signing certificate's extensions are malformed: {exc}")
        ]
    if cert.version is not x509.Version.v3:
        out.append(
            ProfileViolation("version", "the signing certificate is not an X.509 v3 certificate")
        )
    try:
        bc = exts.get_extension_for_class(x509.BasicConstraints).value
        if bc.ca:
            out.append(
                ProfileViolation(
                    "ca",
                    "the signing certificate is a CA certificate (basicConstraints cA); "
                    "a claim must be signed by an end-entity certificate",
                )
            )
    except x509.ExtensionNotFound:
        pass
    try:
        ku = exts.get_extension_for_class(x509.KeyUsage).value
        if not ku.digital_signature:
            out.append(
                ProfileViolation(
                    "key-usage",
                    "the signing certificate's key usage does not allow digital signatures "
                    "(digitalSignature is not set)",
                )
            )
        if ku.key_cert_sign:
            out.append(
                ProfileViolation(
                    "key-usage",
                    "the signing certificate's key usage allows signing certificates "
                    "(keyCertSign), which a claim signer must not",
                )
            )
    except x509.ExtensionNotFound:
        out.append(
            ProfileViolation("key-usage", "the signing certificate has no key usage extension")
        )
    try:
        eku = {o.dotted_string for o in exts.get_extension_for_class(x509.ExtendedKeyUsage).value}
        forbidden = sorted(name for oid, name in _FORBIDDEN_EKUS.items() if oid in eku)
        if forbidden:
            out.append(
                ProfileViolation(
                    "eku",
                    "the signing certificate is for "
                    + " and ".join(forbidden)
                    + " (extended key usage), not for signing C2PA claims",
                )
            )
        if _ANY_EKU in eku:
            out.append(
                ProfileViolation(
                    "eku",
                    "the signing certificate allows any extended key usage (anyExtendedKeyUsage)",
                )
            )
        if not forbidden and not eku & CLAIM_SIGNER_EKUS.keys():
            out.append(
                ProfileViolation(
                    "eku",
                    "the signing certificate's extended key usage has no C2PA claim-signing "
                    "purpose (one of " + ", ".join(CLAIM_SIGNER_EKUS.values()) + ")",
                )
            )
    except x509.ExtensionNotFound:
        out.append(
            ProfileViolation("eku", "the signing certificate has no extended key usage extension")
        )
    when = _parse_time(signed_at)
    at = when or now or dt.datetime.now(dt.UTC)
    nb, na = cert.not_valid_before_utc, cert.not_valid_after_utc
    if at < nb or at > na:
        what = "when the claim was signed (its timestamp)" if when else "now (no timestamp)"
        out.append(
            ProfileViolation(
                "validity",
                f"the signing certificate was not valid {what}: valid from "
                f"{nb.isoformat()} to {na.isoformat()}, checked at {at.isoformat()}",
            )
        )
    return out


def chains_to(chain: ChainInfo, anchors: Sequence[x509.Certificate]) -> bool:
    """Whether the chain's leaf is issued, through the chain's own certificates, by one of
    the anchors (or is one). Signatures are checked; the profile is checked separately."""
    try:
        certs = [x509.load_der_x509_certificate(d) for d in chain.certs]
    except ValueError:
        return False
    der = _der_encoding()
    anchor_der = {a.public_bytes(der) for a in anchors}
    try:
        for i, cert in enumerate(certs):
            if cert.public_bytes(der) in anchor_der:
                return True
            for a in anchors:
                if a.subject == cert.issuer and _issued_by(cert, a):
                    return True
            if i + 1 < len(certs) and not _issued_by(cert, certs[i + 1]):
                return False
    except ValueError:  # cryptography parses names lazily: a damaged issuer raises here
        return False
    return False


def _der_encoding() -> Encoding:
    # imported here: the serialization module costs ~8 ms of every verify's start-up
    # (its SSH key parser), and only these rarer checks need it
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, Exception):  # InvalidSignature and unsupported keys
        return False
    return True


# ---------------------------------------------------------------------------
# the timestamp authority of a (legacy) claim, judged under the TSA list


def _ders_in(token: bytes) -> list[x509.Certificate]:
    """The X.509 certificates carried in an RFC 3161 token (CMS SignedData), found by
    letting cryptography parse each DER SEQUENCE that could be one (bounded)."""
    out: list[x509.Certificate] = []
    pos = 0
    while len(out) < _MAX_CERTS:
        pos = token.find(b"\x30\x82", pos)
        if pos < 0 or pos + 4 > len(token):
            break
        length = 4 + int.from_bytes(token[pos + 2 : pos + 4], "big")
        if length > 300 and pos + length <= len(token):
            try:
                cert = x509.load_der_x509_certificate(token[pos : pos + length])
            except ValueError:
                pass
            else:
                out.append(cert)
                pos += length
                continue
        pos += 1
    return out


def timestamp_certs(store: bytes | None) -> dict[str, list[x509.Certificate]]:
    """Manifest label -> the certificates in its signature's timestamp token(s)."""
    if not store:
        return {}
    out: dict[str, list[x509.Certificate]] = {}
    try:
        payloads = _signature_payloads(store)
    except (ValueError, struct.error, IndexError):
        return {}
    for label, cose in payloads.items():
        try:
            value = _Cbor(cose).read()
        except (_CborError, ValueError, IndexError, RecursionError):
            continue
        if not isinstance(value, list) or len(value) < 2 or not isinstance(value[1], Mapping):
            continue
        certs: list[x509.Certificate] = []
        for key in ("sigTst", "sigTst2"):
            tst = value[1].get(key)
            tokens = tst.get("tstTokens") if isinstance(tst, Mapping) else None
            for t in tokens if isinstance(tokens, list) else []:
                val = t.get("val") if isinstance(t, Mapping) else None
                if isinstance(val, bytes):
                    certs.extend(_ders_in(val))
        if certs:
            out[label] = certs
    return out


def tsa_vouched(certs: Sequence[x509.Certificate], anchors: Sequence[x509.Certificate]) -> bool:
    """Whether the token's time-stamping certificate is issued (directly or through the
    token's other certificates) by one of the TSA anchors."""
    leaves = []
    for c in certs:
        try:
            eku = c.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (x509.ExtensionNotFound, ValueError):
            continue
        if _TIME_STAMPING in {o.dotted_string for o in eku}:
            leaves.append(c)
    der = _der_encoding()
    anchor_der = {a.public_bytes(der) for a in anchors}

    def up(cert: x509.Certificate, depth: int) -> bool:
        if cert.public_bytes(der) in anchor_der:
            return True
        if any(a.subject == cert.issuer and _issued_by(cert, a) for a in anchors):
            return True
        if depth >= 4:
            return False
        return any(
            p is not cert and p.subject == cert.issuer and _issued_by(cert, p) and up(p, depth + 1)
            for p in certs
        )

    return any(up(leaf, 0) for leaf in leaves)
