"""Creators' work inside ads (issue 15 item 3): an ad cut from a creator's signed clip keeps
that clip's manifest as an ingredient with the time used from it; verify and audit say
whose work it contains and whether its credentials hold. CAWG identity assertions are read
as the C2PA library validated them, on the real CAWG-bearing assets of the c2pa-rs test
fixtures. The clips are real H.264 with a real AAC track, made by the tests."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import c2pa
import pytest

import provenance
from provenance import IngredientSpec, SigningError, TrustConfig, Verdict
from provenance.creators import describe_identity, describe_work, parse_ingredient

from .conftest import CORPUS, SIGNER, STRANGER, TEST_ROOT, TRUST, run_cli, sign_argv
from .videogen import ClipSpec, cached_clip, trim

CAWG_TRUST = TrustConfig.from_files(anchors=[CORPUS / "test_cert_root_bundle.pem"])
EXPECTED = json.loads((CORPUS / "expected.json").read_text())["files"]
CREATOR_SIGNER = (
    "provcheck fixtures Signer (TEST ONLY), provcheck fixtures "
    "(issued by provcheck fixtures Root CA (TEST ONLY))"
)


_run = run_cli


def _flip_in_mdat(src: Path, dst: Path) -> Path:
    """A copy with one byte of the media data changed (the content no longer matches)."""
    data = bytearray(src.read_bytes())
    off = 0
    while off + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[off : off + 8])
        if kind == b"mdat":
            break
        off += size
    data[off + 500] ^= 0xFF
    dst.write_bytes(bytes(data))
    return dst


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A creator's 10 s clip (H.264 + AAC) signed as "Creator clip", and an ad signed by
    another party from 0:02-0:08 of it (cut with PyAV)."""
    d = tmp_path_factory.mktemp("creators")
    raw = cached_clip(d, ClipSpec(seed=31, width=160, height=120, seconds=10))
    creator = d / "creator.mp4"
    provenance.sign(
        raw, creator, signer=SIGNER, ai="no", source_type="digitalCapture", title="Creator clip"
    )
    cut = trim(creator, d / "cut.mp4", 2.0, 2.0)
    ad = d / "ad.mp4"
    provenance.sign(
        cut,
        ad,
        signer=STRANGER,
        ai=None,
        title="Spring ad",
        ingredients=[IngredientSpec(creator, "parentOf", used=((2.0, 8.0),))],
    )
    return {"creator": creator, "cut": cut, "ad": ad, "dir": d}


# -- the syntax ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("creator.mp4", ("creator.mp4", None, ())),
        ("creator.mp4:componentOf", ("creator.mp4", "componentOf", ())),
        ("creator.mp4:componentOf@0:02-0:08", ("creator.mp4", "componentOf", ((2.0, 8.0),))),
        ("creator.mp4:parentof@2-8,10-12.5", ("creator.mp4", "parentOf", ((2, 8), (10, 12.5)))),
        ("c.mp4@1:00-1:30", ("c.mp4", None, ((60.0, 90.0),))),
    ],
)
def test_the_ingredient_syntax_reads_as_written(text: str, want: tuple[Any, ...]) -> None:
    path, rel, used = parse_ingredient(text)
    assert (str(path), rel, used) == want


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("c.mp4:partOf@0:02-0:08", "relationship 'partOf' is not one of parentOf"),
        ("c.mp4:componentOf@0:08-0:02", "ends before it starts"),
        ("c.mp4@0:02", "is not a range START-END"),
        ("c.mp4@", "no time range after '@'"),
        ("c.mp4@0:02-0:99", "is not a time"),
        ("c.mp4:inputTo@0:02-0:08", "a used time range needs parentOf or componentOf"),
    ],
)
def test_a_bad_ingredient_is_refused_in_words(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match="--ingredient") as err:
        parse_ingredient(text)
    assert problem in str(err.value)


def test_an_existing_file_name_is_taken_whole(tmp_path: Path) -> None:
    odd = tmp_path / "clip:componentOf@0:01-0:02.mp4"
    odd.write_bytes(b"")
    assert parse_ingredient(str(odd)) == (odd, None, ())


# -- signing and reading back --------------------------------------------------------------


def test_the_ad_says_whose_work_it_contains(clips: dict[str, Path]) -> None:
    report = provenance.verify(clips["ad"], trust=TRUST)
    assert report.verdict is Verdict.UNTRUSTED  # the ad's own signer is not under TEST_ROOT
    (work,) = report.contains
    assert (work.title, work.relationship, work.status) == ("Creator clip", "parentOf", "valid")
    assert work.used == ((2.0, 8.0),) and work.used_seconds == 6.0
    assert work.intact and work.trusted and not work.claimed
    assert describe_work(work) == (
        f'contains 6.0 s of "Creator clip" signed by {CREATOR_SIGNER} (credentials intact, trusted)'
    )
    as_json = report.to_dict()["contains"][0]
    assert as_json["credentials"] == "intact" and as_json["trusted"] is True
    assert as_json["used"] == [{"start": 2.0, "end": 8.0}] and as_json["used_seconds"] == 6.0
    assert as_json["signer"]["trust_list"] == "test-root-ca"
    ing = report.to_dict()["manifest"]["ingredients"][0]
    assert ing["used_seconds"] == 6.0 and ing["manifest"]["title"] == "Creator clip"


def test_raw_c2pa_python_reads_the_ingredient_and_its_range(clips: dict[str, Path]) -> None:
    with c2pa.Reader(str(clips["ad"])) as reader:
        store = json.loads(reader.json())
    active = store["manifests"][store["active_manifest"]]
    (ing,) = active["ingredients"]
    assert ing["relationship"] == "parentOf"
    assert ing["metadata"]["regionOfInterest"]["region"] == [
        {"type": "temporal", "time": {"type": "npt", "start": "2", "end": "8"}}
    ]
    # the creator's manifest store travels with the ad, its own signature intact
    creator = store["manifests"][ing["active_manifest"]]
    assert creator["title"] == "Creator clip"
    assert store["validation_state"] in ("Valid", "Trusted")
    opened = [
        a
        for x in active["assertions"]
        if x["label"].startswith("c2pa.actions")
        for a in x["data"]["actions"]
        if a["action"] == "c2pa.opened"
    ]
    assert opened and opened[0]["parameters"]["ingredients"][0]["url"].endswith(
        "c2pa.ingredient.v3"
    )


def test_a_component_gets_a_placed_action(clips: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "promo.mp4"
    provenance.sign(
        clips["cut"],
        out,
        signer=SIGNER,
        ai="no",
        ingredients=[IngredientSpec(clips["creator"], "componentOf", used=((0.0, 1.5), (3, 4)))],
    )
    with c2pa.Reader(str(out)) as reader:
        store = json.loads(reader.json())
    active = store["manifests"][store["active_manifest"]]
    placed = [
        a
        for x in active["assertions"]
        if x["label"].startswith("c2pa.actions")
        for a in x["data"]["actions"]
        if a["action"] == "c2pa.placed"
    ]
    assert len(placed) == 1 and "ingredients" in placed[0]["parameters"]
    report = provenance.verify(out, trust=TRUST)
    assert report.verdict is Verdict.TRUSTED, report.problems
    (work,) = report.contains
    assert work.used_seconds == 2.5 and work.relationship == "componentOf"
    assert report.ai_parts == ()  # a placed creator clip is not an AI part


def test_a_broken_creator_clip_is_broken_in_the_ad(clips: dict[str, Path], tmp_path: Path) -> None:
    broken = _flip_in_mdat(clips["creator"], tmp_path / "creator-altered.mp4")
    assert provenance.verify(broken, trust=TRUST).verdict is Verdict.TAMPERED
    ad = tmp_path / "ad-from-altered.mp4"
    provenance.sign(
        clips["cut"],
        ad,
        signer=SIGNER,
        ai=None,
        ingredients=[IngredientSpec(broken, "parentOf", used=((2.0, 8.0),))],
    )
    report = provenance.verify(ad, trust=TRUST)
    # the ad's own credentials are intact and its signer trusted (as the C2PA library
    # judges it); its manifest records that the creator clip was altered before it was used
    assert report.verdict is Verdict.TRUSTED, report.problems
    (work,) = report.contains
    assert work.status == "invalid" and not work.intact
    assert work.problems == ("assertion.bmffHash.mismatch",)
    assert describe_work(work).startswith(
        f'contains 6.0 s of "Creator clip" signed by {CREATOR_SIGNER} (credentials broken: '
    )
    assert report.to_dict()["contains"][0]["credentials"] == "broken"
    text = _run("--trust", str(TEST_ROOT), str(ad)).stdout
    assert 'contains    6.0 s of "Creator clip"' in text and "credentials broken" in text


def test_a_broken_ad_only_claims_what_it_contains(clips: dict[str, Path], tmp_path: Path) -> None:
    altered = _flip_in_mdat(clips["ad"], tmp_path / "ad-altered.mp4")
    report = provenance.verify(altered, trust=TRUST)
    assert report.verdict is Verdict.TAMPERED and report.claims == "unverified"
    (work,) = report.contains
    assert work.claimed
    assert describe_work(work).endswith(
        "(claimed, not verified: this file's own manifest is broken)"
    )


def test_cli_sign_verify_and_audit_say_it(clips: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "cli-ad.mp4"
    spec = f"{clips['creator']}:componentOf@0:02-0:08"
    r = _run(*sign_argv(clips["cut"], out, "--ai", "no", "--ingredient", spec))
    assert r.exit_code == 0, r.stderr
    text = _run("--trust", str(TEST_ROOT), str(out))
    assert text.exit_code == 0
    assert (
        f'contains    6.0 s of "Creator clip" signed by {CREATOR_SIGNER} '
        "(credentials intact, trusted)" in text.stdout
    )
    assert "used        0:02–0:08" in text.stdout  # noqa: RUF001 (the en dash is the output)
    as_json = json.loads(_run("--format", "json", "--trust", str(TEST_ROOT), str(out)).stdout)
    (work,) = as_json["results"][0]["contains"]
    assert (work["title"], work["used_seconds"], work["credentials"]) == (
        "Creator clip",
        6.0,
        "intact",
    )
    audit = _run("audit", "--trust", str(TEST_ROOT), "--format", "csv", str(out))
    assert 'contains 6.0 s of ""Creator clip"" signed by' in audit.stdout
    html = tmp_path / "report.html"
    _run("audit", "--trust", str(TEST_ROOT), "--format", "html", "-o", str(html), str(out))
    assert "6.0 s of" in html.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("{c}:componentOf@0:02-0:18", "ends after the clip (0:10)"),
        ("{c}:sideOf@0:02-0:08", "relationship 'sideOf' is not one of"),
    ],
)
def test_cli_refuses_a_bad_ingredient_and_writes_nothing(
    clips: dict[str, Path], tmp_path: Path, spec: str, problem: str
) -> None:
    out = tmp_path / "never.mp4"
    r = _run(
        *sign_argv(clips["cut"], out, "--ai", "no", "--ingredient", spec.format(c=clips["creator"]))
    )
    assert r.exit_code != 0 and problem in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()


def test_a_range_past_the_ingredient_is_refused(clips: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(SigningError, match=r"ends after the clip \(0:10\)"):
        provenance.sign(
            clips["cut"],
            tmp_path / "x.mp4",
            signer=SIGNER,
            ai="no",
            ingredients=[IngredientSpec(clips["creator"], "componentOf", used=((9.0, 12.0),))],
        )
    assert not (tmp_path / "x.mp4").exists()


# -- CAWG identity assertions (the c2pa-rs fixtures) -------------------------------------------


def _identities(report: provenance.Report) -> list[dict[str, Any]]:
    keys = ("label", "sig_type", "names", "status", "codes")
    return [{k: i.to_dict()[k] for k in keys} for i in report.identities]


def test_the_x509_identity_is_validated_by_the_library_and_not_trusted_on_its_name() -> None:
    want = EXPECTED["C_with_CAWG_data.jpg"]
    report = provenance.verify(CORPUS / "C_with_CAWG_data.jpg", trust=CAWG_TRUST)
    assert report.verdict.value == want["verdict"]
    assert _identities(report) == want["identities"]
    (ident,) = report.identities
    assert ident.credential == "X.509 certificate" and not ident.verified
    assert describe_identity(ident) == (
        '"C2PA Signer, C2PA Test Signing Cert" (X.509 certificate): not trusted'
    )
    # the identity codes never mix into the claim's own verdict
    assert not any(c.startswith("cawg.") for c in report.status_codes)
    text = _run(
        "--trust", str(CORPUS / "test_cert_root_bundle.pem"), str(CORPUS / "C_with_CAWG_data.jpg")
    )
    assert 'identity    "C2PA Signer, C2PA Test Signing Cert" (X.509 certificate): not trusted' in (
        text.stdout
    )
    assert "the name is claimed" in text.stdout


def test_a_tampered_identity_signature_is_invalid(tmp_path: Path) -> None:
    data = (CORPUS / "C_with_CAWG_data.jpg").read_bytes()
    at = data.find(b"C2PA Signer", data.find(b"cawg.identity"))
    bad = tmp_path / "cawg-tampered.jpg"
    bad.write_bytes(data[:at] + b"C2PA Signes" + data[at + 11 :])
    report = provenance.verify(bad, trust=CAWG_TRUST)
    assert report.verdict is Verdict.INVALID and report.claims == "unverified"
    (ident,) = report.identities
    assert ident.status == "invalid" and ident.names == ()  # no name from a broken credential
    assert "cawg.x509.signature.mismatch" in ident.codes
    text = _run("--trust", str(CORPUS / "test_cert_root_bundle.pem"), str(bad)).stdout
    assert "(X.509 certificate): invalid (claimed, not verified)" in text


def test_a_tampered_assertion_leaves_the_identity_claimed(tmp_path: Path) -> None:
    data = (CORPUS / "C_with_CAWG_data.jpg").read_bytes()
    at = data.find(b"notAllowed")
    bad = tmp_path / "cawg-mining.jpg"
    bad.write_bytes(data[:at] + b"notAllowes" + data[at + 10 :])
    report = provenance.verify(bad, trust=CAWG_TRUST)
    assert report.verdict is Verdict.INVALID and report.claims == "unverified"
    assert "assertion.hashedURI.mismatch" in report.status_codes
    text = _run("--trust", str(CORPUS / "test_cert_root_bundle.pem"), str(bad)).stdout
    assert "not trusted (claimed, not verified)" in text


def test_an_aggregated_identity_is_validated_only_with_network_allowed() -> None:
    want = EXPECTED["cawg_ica_success.jpg"]
    path = CORPUS / "cawg_ica_success.jpg"
    offline = provenance.verify(path, trust=CAWG_TRUST)
    assert offline.verdict.value == want["verdict"]
    assert _identities(offline) == want["identities"]
    (ident,) = offline.identities
    assert ident.names == () and "--remote-manifests" in ident.reason
    online = provenance.verify(path, trust=CAWG_TRUST, remote_manifests=True)
    assert _identities(online) == want["identities_with_network"]
    (ident,) = online.identities
    assert ident.credential == "identity claims aggregation" and not ident.verified
    assert ident.issuer is not None and ident.issuer.startswith("did:jwk:")
    assert "document_verification: First-Name Last-Name (verified by Example ID Verifier)" in (
        ident.details
    )


def test_a_creators_identity_travels_with_their_work(tmp_path: Path) -> None:
    poster = tmp_path / "poster.jpg"
    provenance.sign(
        CORPUS / "no_manifest.jpg",
        poster,
        signer=SIGNER,
        ai="no",
        ingredients=[IngredientSpec(CORPUS / "C_with_CAWG_data.jpg", "componentOf")],
    )
    trust = TrustConfig.from_files(anchors=[CORPUS / "test_cert_root_bundle.pem", TEST_ROOT])
    report = provenance.verify(poster, trust=trust)
    assert report.verdict is Verdict.TRUSTED, report.problems
    (work,) = report.contains
    assert work.used == () and work.used_seconds is None and work.intact
    assert [i.to_dict()["status"] for i in work.identities] == ["not trusted"]
    assert report.to_dict()["contains"][0]["identities"][0]["names"] == [
        "C2PA Signer",
        "C2PA Test Signing Cert",
    ]
    text = _run(
        "--trust", str(CORPUS / "test_cert_root_bundle.pem"), "--trust", str(TEST_ROOT), str(poster)
    )
    assert (
        '    identity  "C2PA Signer, C2PA Test Signing Cert" (X.509 certificate): not trusted'
        in text.stdout
    )


def test_an_ai_avatar_over_a_creators_clip_keeps_the_two_apart(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "avatar-ad.mp4"
    provenance.sign(
        clips["cut"],
        out,
        signer=SIGNER,
        ai=None,
        parts=[provenance.parse_part("video 0:01-0:03 at 10,10,40x60: placed avatar")],
        ingredients=[IngredientSpec(clips["creator"], "componentOf", used=((2.0, 8.0),))],
    )
    report = provenance.verify(out, trust=TRUST)
    assert report.verdict is Verdict.TRUSTED, report.problems
    assert report.ai_generated.value == "partly"
    (part,) = report.ai_parts
    assert part.action == "c2pa.placed"
    (work,) = report.contains
    assert (work.title, work.used_seconds, work.intact) == ("Creator clip", 6.0, True)
    assert report.manifest is not None
    titles = sorted(i.title or "" for i in report.manifest.ingredients)
    assert titles == ["AI-generated avatar", "creator.mp4"]
