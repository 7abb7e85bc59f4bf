"""Property tests: any changed byte of signed content is caught; nothing is ever `trusted`
after a change; no input makes verification raise."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance import Verdict, verify_bytes

from .conftest import TRUST, find_box, media

CLIP = media("captured.mp4").read_bytes()
PHOTO = media("photo_captured.jpg").read_bytes()


_MDAT_POS, _MDAT_BOX = find_box(CLIP, b"mdat")
MDAT_START, MDAT_SIZE = _MDAT_POS + 8, _MDAT_BOX - 8
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.integers(0, MDAT_SIZE - 1), st.integers(1, 255))
def test_any_changed_media_byte_is_tampered(offset: int, xor: int) -> None:
    data = bytearray(CLIP)
    data[MDAT_START + offset] ^= xor
    report = verify_bytes(bytes(data), trust=TRUST)
    assert report.verdict is Verdict.TAMPERED
    assert "assertion.bmffHash.mismatch" in report.status_codes


def _same_claims(a: dict[str, object], b: dict[str, object]) -> bool:
    keys = ("verdict", "ai_generated", "signer", "manifest", "status_codes")
    return all(a[k] == b[k] for k in keys)


ORIGINAL = {
    n: verify_bytes(d, trust=TRUST).to_dict() for n, d in (("clip", CLIP), ("photo", PHOTO))
}


@FAST
@given(st.data(), st.sampled_from(["clip", "photo"]), st.integers(1, 255))
def test_no_changed_byte_makes_different_claims_trusted(
    data: st.DataObject, which: str, xor: int
) -> None:
    original = CLIP if which == "clip" else PHOTO
    offset = data.draw(st.integers(0, len(original) - 1))
    changed = bytearray(original)
    changed[offset] ^= xor
    report = verify_bytes(bytes(changed), trust=TRUST)
    if report.verdict is Verdict.TRUSTED:
        # Only bytes no hash or signature covers (manifest-store framing and padding) may
        # change and stay trusted, and then what the credentials say must be unchanged.
        assert offset < MDAT_START or which == "photo"
        assert _same_claims(report.to_dict(), ORIGINAL[which]), offset
    assert report.reason


@FAST
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    report = verify_bytes(data, trust=TRUST)
    assert report.verdict in (Verdict.ERROR, Verdict.UNSIGNED, Verdict.INVALID)
