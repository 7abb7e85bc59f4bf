"""Which part is AI: declaring parts when signing, reading them back (provcheck and raw
c2pa-python), on real H.264 clips with a real AAC audio track made by the tests."""

# ruff: noqa: RUF001, RUF002  (the words use en dashes and multiplication signs on purpose)

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import av
import c2pa
import pytest

import provenance
from provenance import AIGeneration, PemSigner, SigningError, TrustConfig, Verdict
from provenance.parts import (
    ai_share,
    describe_part,
    parse_part,
    parts_from_action,
    parts_from_spec,
)

from .conftest import TEST_ROOT, run_cli, sign_argv
from .videogen import ClipSpec, cached_clip

AVATAR = "video 0:02-0:08 at 40,20,160x200: placed avatar"
DUB = "audio track 1: dubbed en>vi"
SKY = "0:08.5-0:09.5: edited sky"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10 s of 320×240 H.264 with one AAC audio track."""
    return cached_clip(
        tmp_path_factory.mktemp("parts"), ClipSpec(seed=15, width=320, height=240, seconds=10)
    )


_run = run_cli


def _raw_actions(path: Path) -> list[dict[str, object]]:
    with c2pa.Reader(str(path)) as reader:
        store = json.loads(reader.json())
    active = store["manifests"][store["active_manifest"]]
    acts: list[dict[str, object]] = []
    for a in active["assertions"]:
        if a["label"].startswith("c2pa.actions"):
            acts.extend(a["data"]["actions"])
    return acts


def _declared(p: provenance.AIPart) -> tuple[object, ...]:
    return (p.kind, p.action, p.media, p.start, p.end, p.region, p.language, p.description)


# -- the syntax ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (AVATAR, "video 0:02–0:08, region 40,20 160×200: AI avatar placed"),
        ("audio track 1: dubbed vi", "audio track 1: dubbed by an AI voice (vi)"),
        (DUB, "audio track 1: dubbed by an AI voice (en→vi)"),
        ("audio track 1: translated en>vi", "audio track 1: translated by AI (en→vi)"),
        (SKY, "0:08.5–0:09.5: sky edited by AI"),
        ("video: edited", "video: edited by AI"),
        ("1:00:01-1:00:03: edited", "1:00:01–1:00:03: edited by AI"),
    ],
)
def test_the_cli_syntax_reads_as_it_is_written(text: str, words: str) -> None:
    assert describe_part(parse_part(text)) == words


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("the avatar", "write 'WHERE: ACTION'"),
        ("video 8-2: placed", "ends before it starts"),
        ("audio track 1: translated vi", "names both languages"),
        ("somewhere: placed", "cannot read the location 'somewhere'"),
        ("audio at 1,2,3x4: edited", "an audio part cannot have a spatial region"),
        ("video 0:02-0:08: bogus", "action 'bogus' is not one of"),
        ("1:75-2: edited", "'1:75' is not a time"),
        ("audio track 1: dubbed en>x_y", "not a BCP 47"),
    ],
)
def test_a_bad_part_is_refused_in_words(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_part(text)


def test_a_spec_file_is_json_or_toml_with_strings_or_tables(tmp_path: Path) -> None:
    toml = tmp_path / "parts.toml"
    toml.write_text(
        '[[parts]]\nmedia = "video"\nstart = "0:02"\nend = 8\nregion = [40, 20, 160, 200]\n'
        'action = "placed"\ndescription = "avatar"\n\n'
        '[[parts]]\nmedia = "audio"\ntrack = 1\naction = "c2pa.dubbed"\nlanguage = "vi"\n'
        'source_language = "en"\n'
    )
    js = tmp_path / "parts.json"
    js.write_text(json.dumps({"parts": [AVATAR, DUB]}))
    from_toml = provenance.load_parts(toml)
    from_json = provenance.load_parts(js)
    assert [describe_part(p) for p in from_toml] == [describe_part(p) for p in from_json]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"action": "placed", "colour": "red"}]))
    with pytest.raises(SigningError, match=r"bad.json: part 1: unknown field\(s\) colour"):
        provenance.load_parts(bad)
    with pytest.raises(ValueError, match="expected a list"):
        parts_from_spec({"parts": 3}, "x")


def test_share_of_the_timeline_counts_overlaps_once() -> None:
    parts = [parse_part("0-4: edited"), parse_part("2-6: edited")]
    assert ai_share(parts, 10.0) == pytest.approx(0.6)
    assert ai_share([parse_part(DUB)], 10.0) == 1.0  # a whole track covers the timeline
    assert ai_share([], 10.0) == 0.0


def test_parts_declared_by_another_tool_are_read_the_same_way() -> None:
    # the shape of c2pa-rs's own test manifest: a dub over a temporal range of the asset
    act = {
        "action": "c2pa.dubbed",
        "digitalSourceType": "https://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
        "parameters": {"sourceLanguage": "en", "targetLanguage": "tlh"},
        "changes": [
            {
                "description": "translated to klingon",
                "region": [{"type": "temporal", "time": {"type": "npt", "start": "00:00:01.5"}}],
            },
            "not a region",
        ],
    }
    (part,) = parts_from_action(act, "urn:c2pa:other")
    assert (part.kind, part.media, part.start, part.end, part.language) == (
        "time",
        "audio",
        1.5,
        None,
        "tlh",
    )
    assert part.manifest == "urn:c2pa:other"
    assert describe_part(part) == "audio 0:01.5–end: dubbed by an AI voice (en→tlh)"
    # c2pa-rs's own example: a temporal range with no bounds is the whole timeline
    bare = {**act, "changes": [{"region": [{"type": "temporal"}]}]}
    assert [(p.kind, p.start, p.end) for p in parts_from_action(bare, None)] == [
        ("time", None, None)
    ]
    # an edit whose source type is not generative AI is not an AI part
    assert parts_from_action({**act, "digitalSourceType": "digitalCapture"}, None) == []


# -- signing and reading back ----------------------------------------------------------------


def test_signed_parts_validate_and_read_back_part_for_part(
    clip: Path, signer: PemSigner, tmp_path: Path
) -> None:
    declared = [parse_part(AVATAR), parse_part(DUB), parse_part(SKY)]
    out = tmp_path / "ad.mp4"
    result = provenance.sign(clip, out, signer=signer, ai=None, parts=declared)
    assert result.ai is AIGeneration.PARTLY

    report = provenance.verify(out, trust=TrustConfig.from_files(anchors=[TEST_ROOT]))
    assert report.verdict is Verdict.TRUSTED, report.problems
    assert report.ai_generated is AIGeneration.PARTLY
    assert [_declared(p) for p in report.ai_parts] == [_declared(p) for p in declared]
    assert {p.manifest for p in report.ai_parts} == {report.manifest.label}  # type: ignore[union-attr]
    assert [p.track for p in report.ai_parts] == [None, "1", None]
    assert [describe_part(p) for p in report.ai_parts] == [
        "video 0:02–0:08, region 40,20 160×200: AI avatar placed",
        "audio track 1: dubbed by an AI voice (en→vi)",
        "0:08.5–0:09.5: sky edited by AI",
    ]
    as_json = report.to_dict()["ai_parts"]
    assert as_json[0]["region"] == {"x": 40.0, "y": 20.0, "width": 160.0, "height": 200.0}
    assert as_json[1]["language"] == "vi" and as_json[1]["source_type"] == "trainedAlgorithmicMedia"

    # raw c2pa-python: the regions of interest are exactly what was declared
    acts = {str(a["action"]): a for a in _raw_actions(out) if "changes" in a}
    assert set(acts) == {"c2pa.placed", "c2pa.dubbed", "c2pa.edited"}
    placed = acts["c2pa.placed"]
    assert placed["digitalSourceType"] == (
        "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    )
    regions = placed["changes"][0]["region"]  # type: ignore[index]
    assert regions[0] == {"type": "temporal", "time": {"type": "npt", "start": "2", "end": "8"}}
    assert regions[1] == {
        "type": "spatial",
        "shape": {
            "type": "rectangle",
            "unit": "pixel",
            "origin": {"x": 40.0, "y": 20.0},
            "width": 160.0,
            "height": 200.0,
        },
    }
    assert regions[2]["type"] == "identified"  # the first video track's container id
    assert len(placed["parameters"]["ingredients"]) == 1  # type: ignore[index]
    dubbed = acts["c2pa.dubbed"]
    assert dubbed["parameters"] == {"sourceLanguage": "en", "targetLanguage": "vi"}
    changes: Any = dubbed["changes"]
    ((track,),) = [c["region"] for c in changes]
    assert track["type"] == "identified" and track["item"]["identifier"] == "track_id"
    assert dubbed["changes"][0]["name"] == "audio track 1"  # type: ignore[index]
    with av.open(str(clip)) as container:
        assert track["item"]["value"] == str(container.streams.audio[0].id)
    edited = acts["c2pa.edited"]
    assert edited["changes"][0]["region"] == [  # type: ignore[index]
        {"type": "temporal", "time": {"type": "npt", "start": "8.5", "end": "9.5"}}
    ]


def test_a_translation_validates_with_both_languages(
    clip: Path, signer: PemSigner, tmp_path: Path
) -> None:
    out = tmp_path / "translated.mp4"
    provenance.sign(
        clip, out, signer=signer, ai=None, parts=[parse_part("audio track 1: translated en>vi")]
    )
    report = provenance.verify(out, trust=TrustConfig.from_files(anchors=[TEST_ROOT]))
    assert report.verdict is Verdict.TRUSTED, report.problems
    (part,) = report.ai_parts
    assert (part.action, part.source_language, part.language) == ("c2pa.translated", "en", "vi")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("audio track 2: dubbed vi", r"has 1 audio track; audio track 2 does not exist"),
        ("video 0-2 at 200,100,160x200: placed", r"reaches beyond the 320×240 frame"),
        ("0:09-0:30: edited", r"ends after the clip \(0:10\)"),
    ],
)
def test_a_part_the_clip_does_not_have_is_refused_and_nothing_is_written(
    clip: Path, signer: PemSigner, tmp_path: Path, text: str, problem: str
) -> None:
    out = tmp_path / "out.mp4"
    with pytest.raises(SigningError, match=problem):
        provenance.sign(clip, out, signer=signer, ai=None, parts=[parse_part(text)])
    assert list(tmp_path.iterdir()) == []


def test_parts_contradict_an_ai_label_of_no(clip: Path, signer: PemSigner, tmp_path: Path) -> None:
    with pytest.raises(SigningError, match="cannot be 'no'"):
        provenance.sign(clip, tmp_path / "o.mp4", signer=signer, ai="no", parts=[parse_part(DUB)])


def test_cli_signs_parts_and_verify_shows_them(clip: Path, tmp_path: Path) -> None:
    spec = tmp_path / "more.toml"
    spec.write_text(f'parts = ["{SKY}"]\n')
    out = tmp_path / "ad.mp4"
    r = _run(*sign_argv(clip, out, "--ai-part", AVATAR, "--ai-part", DUB, "--ai-parts", str(spec)))
    assert r.exit_code == 0, r.output
    assert "AI: partly" in r.stderr
    j = _run("--format", "json", "--trust", str(TEST_ROOT), str(out))
    assert j.exit_code == 0, j.output
    (result,) = json.loads(j.stdout)["results"]
    assert [(p["action"], p["kind"]) for p in result["ai_parts"]] == [
        ("c2pa.placed", "region"),
        ("c2pa.dubbed", "track"),
        ("c2pa.edited", "time"),
    ]
    t = _run("--trust", str(TEST_ROOT), str(out))
    assert "audio track 1: dubbed by an AI voice (en→vi)" in t.stdout
    assert "video 0:02–0:08, region 40,20 160×200: AI avatar placed" in t.stdout


def test_cli_refuses_a_bad_part_before_signing(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "ad.mp4"
    r = _run(*sign_argv(clip, out, "--ai-part", "audio track 1: translated vi"))
    assert r.exit_code == 2
    assert "names both languages" in r.stderr
    assert not out.exists()


# -- policies over parts -------------------------------------------------------------------


@pytest.fixture(scope="module")
def signed(
    clip: Path, signer: PemSigner, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """avatar: a placed avatar over 6 of 10 s; dub: a dubbed audio track; undeclared: labelled
    partly with no parts; generated: a clip generated whole; plain: not AI."""
    d = tmp_path_factory.mktemp("parts-policy")
    made = {
        "avatar": dict(ai=None, parts=[parse_part(AVATAR)]),
        "dub": dict(ai=None, parts=[parse_part(DUB)]),
        "undeclared": dict(ai="partly", parts=[]),
        "generated": dict(ai="fully", parts=[]),
        "plain": dict(ai="no", parts=[]),
    }
    out = {}
    for name, kw in made.items():
        out[name] = d / f"{name}.mp4"
        provenance.sign(clip, out[name], signer=signer, **kw)  # type: ignore[arg-type]
    return out


def _gate(path: Path, toml: str, tmp_path: Path) -> provenance.Decision:
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(toml)
    return provenance.gate(
        path,
        policy=provenance.Policy.from_toml(policy_file),
        trust=TrustConfig.from_files(anchors=[TEST_ROOT]),
    )


def _reasons(decision: provenance.Decision, rule: str) -> list[str]:
    return [o.reason for o in decision.outcomes if o.rule == rule]


def test_allowed_ai_actions_names_the_part_it_refuses(
    signed: dict[str, Path], tmp_path: Path
) -> None:
    toml = '[output]\nallowed_ai_actions = ["placed"]\n'
    assert _gate(signed["avatar"], toml, tmp_path).passed
    dub = _gate(signed["dub"], toml, tmp_path)
    assert not dub.passed
    (why,) = _reasons(dub, "allowed-ai-actions")
    assert why == (
        "AI part 'audio track 1: dubbed by an AI voice (en→vi)' uses c2pa.dubbed: "
        "not an allowed AI action (allowed: c2pa.placed)"
    )
    generated = _gate(signed["generated"], toml, tmp_path)
    (why,) = _reasons(generated, "allowed-ai-actions")
    assert not generated.passed
    assert "c2pa.created with trainedAlgorithmicMedia (the whole clip generated by AI)" in why
    assert _gate(signed["plain"], toml, tmp_path).passed


def test_max_ai_share_measures_the_timeline(signed: dict[str, Path], tmp_path: Path) -> None:
    half = "[output]\nmax_ai_share = 0.5\n"
    avatar = _gate(signed["avatar"], half, tmp_path)
    (why,) = _reasons(avatar, "max-ai-share")
    assert not avatar.passed
    assert why.startswith("60% of the timeline is AI-made (over 50%): video 0:02–0:08")
    assert _gate(signed["avatar"], "[output]\nmax_ai_share = 0.6\n", tmp_path).passed
    dub = _gate(signed["dub"], half, tmp_path)
    assert not dub.passed and _reasons(dub, "max-ai-share")[0].startswith("100%")
    undeclared = _gate(signed["undeclared"], half, tmp_path)
    assert (
        "declares no AI parts, so its AI share is unknown"
        in _reasons(undeclared, "max-ai-share")[0]
    )
    assert _gate(signed["plain"], "[output]\nmax_ai_share = 0\n", tmp_path).passed


def test_require_declared_ai_parts(signed: dict[str, Path], tmp_path: Path) -> None:
    toml = "[output]\nrequire_declared_ai_parts = true\n"
    assert _gate(signed["avatar"], toml, tmp_path).passed
    assert _gate(signed["generated"], toml, tmp_path).passed
    assert _gate(signed["plain"], toml, tmp_path).passed
    undeclared = _gate(signed["undeclared"], toml, tmp_path)
    assert not undeclared.passed
    (why,) = _reasons(undeclared, "require-declared-ai-parts")
    assert why.startswith("the output's credentials say AI (partly:")
    assert why.endswith("but declare no AI-made parts")


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        ("max_ai_share = 1.5", "max_ai_share must be a share of the timeline from 0 to 1"),
        ("max_ai_share = true", "max_ai_share must be a share"),
        ('allowed_ai_actions = ["Placed!"]', "'Placed!' is not a C2PA action"),
        ("require_declared_ai_parts = 1", "require_declared_ai_parts must be true or false"),
    ],
)
def test_part_policy_keys_are_checked(toml: str, problem: str) -> None:
    import tomllib

    with pytest.raises(provenance.PolicyError, match=problem):
        provenance.Policy.from_mapping(tomllib.loads(f"[output]\n{toml}\n"))


# -- the HTML report's timeline --------------------------------------------------------------


def test_html_report_draws_each_clips_ai_segments(
    signed: dict[str, Path], tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    import re
    import shutil
    import time

    from .chromium import Browser
    from .conftest import require_tool
    from .test_audit_html import _VIOLATIONS

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(signed["avatar"], folder / "avatar.mp4")
    shutil.copy(signed["dub"], folder / "dub.mp4")
    out = tmp_path / "report.html"
    r = _run("audit", str(folder), "--format", "html", "-o", str(out), "--trust", str(TEST_ROOT))
    assert r.exit_code == 0, r.stderr
    html = out.read_text()
    (block,) = re.findall(
        r'<script type="application/json" id="details">(.*?)</script>', html, re.S
    )
    data = json.loads(block)
    table = data["s"]
    lanes = {
        table[lane[0]]: [(g[0], g[1], table[g[2]]) for g in lane[1]]
        for d in data["d"]
        for lane in d["l"][1]
    }
    assert lanes["video (10.0 s)"] == [
        (200, 800, "video 0:02–0:08, region 40,20 160×200: AI avatar placed")
    ]
    assert lanes["audio (10.0 s)"] == [(0, 1000, "audio track 1: dubbed by an AI voice (en→vi)")]

    exe = shutil.which("chromium-browser") or require_tool("chromium", "chromium")
    with Browser(exe, tmp_path_factory.mktemp("profile")) as browser:
        page = browser.page(1280, 900)
        page.before_load(_VIOLATIONS)
        page.goto(out.as_uri())
        page.eval("document.querySelectorAll('#rows > details.row').forEach(r => r.open = true)")
        for _ in range(100):  # the toggle event that builds each detail is dispatched async
            if page.eval("document.querySelectorAll('.detail').length") == 2:
                break
            time.sleep(0.05)
        bars = page.eval(
            "Array.from(document.querySelectorAll('svg.bar rect.bar-ai'))"
            ".map(r => [r.getAttribute('x'), r.getAttribute('width'), r.textContent])"
        )
        assert sorted(bars) == [
            ["0", "1000", "audio track 1: dubbed by an AI voice (en→vi)"],
            ["200", "600", "video 0:02–0:08, region 40,20 160×200: AI avatar placed"],
        ]
        assert page.eval("document.querySelectorAll('.aiparts li').length") == 2
        assert page.eval("window.__csp") == []  # nothing blocked by the page's CSP


def test_parts_of_an_ingredient_say_which_manifest_declared_them(
    signed: dict[str, Path], signer: PemSigner, tmp_path: Path
) -> None:
    # a re-sign of the avatar clip (no label of its own), the signed clip as its parent
    out = tmp_path / "reposted.mp4"
    provenance.sign(signed["avatar"], out, signer=signer, ai=None, ingredients=[signed["avatar"]])
    report = provenance.verify(out, trust=TrustConfig.from_files(anchors=[TEST_ROOT]))
    assert report.verdict is Verdict.TRUSTED, report.problems
    assert report.ai_generated is AIGeneration.PARTLY
    (part,) = report.ai_parts
    assert report.manifest is not None and report.manifest.ai_parts == ()
    (ing,) = report.manifest.ingredients
    assert ing.manifest is not None and part.manifest == ing.manifest.label
    text = _run("--trust", str(TEST_ROOT), str(out)).stdout
    assert (
        "- video 0:02–0:08, region 40,20 160×200: AI avatar placed  "
        "(declared by ingredient avatar.mp4)" in text
    )
