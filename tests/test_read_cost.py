"""What the verdict read asks of the native library (issue 19): the second read for CAWG
identities runs only for a manifest that has identity assertions."""

from __future__ import annotations

from provenance import TrustConfig, Verifier

from .conftest import CORPUS, media


def test_no_identity_read_without_identity_assertions(test_trust: TrustConfig) -> None:
    with Verifier(test_trust) as v:
        assert v.verify(media("captured.mp4")).verdict.value == "trusted"
        assert v._ctx is not None and v._ctx._identity_ctx is None


def test_identity_read_for_a_manifest_with_identities() -> None:
    trust = TrustConfig.from_files(anchors=[CORPUS / "test_cert_root_bundle.pem"])
    with Verifier(trust) as v:
        report = v.verify(CORPUS / "C_with_CAWG_data.jpg")
        assert report.manifest is not None and report.manifest.identities
        assert v._ctx is not None and v._ctx._identity_ctx is not None
