"""Shared by the policy tests: the signers, the trust, and clips signed once per module."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from provenance import Decision, PemSigner, TrustConfig, sign

from .conftest import FIXTURES, TEST_ROOT, UNTRUSTED_ROOT, find_box, media

CA = FIXTURES / "testca"
OTHER = FIXTURES / "testca-untrusted"
SIGNER = PemSigner.from_files(CA / "test-signer.key", CA / "test-signer-chain.pem")
STRANGER = PemSigner.from_files(OTHER / "test-signer.key", OTHER / "test-signer-chain.pem")
PHOTO = media("photo_captured.jpg")
TRUST = TrustConfig.from_files(anchors=[TEST_ROOT, UNTRUSTED_ROOT])
ONLY_TEST_ROOT = TrustConfig.from_files(anchors=[TEST_ROOT])


def fingerprint(chain: Path) -> str:
    """SHA-256 of the leaf certificate of a PEM chain (what allowed_signer_fingerprints lists)."""
    leaf = x509.load_pem_x509_certificates(chain.read_bytes())[0]
    return hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).hexdigest()


SIGNER_FP = fingerprint(CA / "test-signer-chain.pem")
STRANGER_FP = fingerprint(OTHER / "test-signer-chain.pem")


def failed(decision: Decision) -> dict[str, str]:
    return {o.rule: o.reason for o in decision.failures}


def make_clips(d: Path) -> dict[str, Path]:
    """good: labelled fully, trusted signer, photo as ingredient; unlabelled: same without
    an AI label; stranger: signed by the other CA; tampered: good with one mdat byte flipped."""
    out = {}
    out["good"] = d / "good.mp4"
    sign(media("unsigned.mp4"), out["good"], signer=SIGNER, ai="fully", ingredients=[PHOTO])
    out["unlabelled"] = d / "unlabelled.mp4"
    sign(media("unsigned.mp4"), out["unlabelled"], signer=SIGNER, ai="no", ingredients=[PHOTO])
    out["stranger"] = d / "stranger.mp4"
    sign(media("unsigned.mp4"), out["stranger"], signer=STRANGER, ai="fully", ingredients=[PHOTO])
    data = bytearray(out["good"].read_bytes())
    pos, _ = find_box(bytes(data), b"mdat")
    data[pos + 100] ^= 0xFF
    out["tampered"] = d / "tampered.mp4"
    out["tampered"].write_bytes(bytes(data))
    out["unsigned"] = media("unsigned.mp4")
    return out


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_clips(tmp_path_factory.mktemp("gate"))
