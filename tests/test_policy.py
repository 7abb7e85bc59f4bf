"""Pre-publish gate: the same generated clip passes when labelled, trusted and linked to its
source photo, and is refused with the right reason otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from provcheck.app import cli
from provenance import (
    AllOf,
    AnyOf,
    Policy,
    PolicyError,
    PolicyRefused,
    TrustConfig,
    gate,
    sign,
)
from provenance.policy import (
    BlockedTerms,
    GateContext,
    PromptLength,
    RequireAILabel,
    RequireTrusted,
)
from provenance.verification import verify

from .conftest import TEST_ROOT, media
from .policy_support import PHOTO, SIGNER, SIGNER_FP, TRUST, failed, make_clips

MINIMAL = """\
[output]
require_credentials = true
require_trusted = true
require_ai_label = true
require_source_ingredients = true

[prompt]
blocked_terms = ["forbidden-term"]
"""


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("gate")
    out = make_clips(d)
    out["policy"] = d / "policy.toml"
    out["policy"].write_text(MINIMAL)
    return out


@pytest.fixture(scope="module")
def policy(clips: dict[str, Path]) -> Policy:
    return Policy.from_toml(clips["policy"])


def test_minimal_policy_passes_the_good_clip(clips: dict[str, Path], policy: Policy) -> None:
    d = gate(
        clips["good"], policy=policy, trust=TRUST, sources=[PHOTO], prompt="a cat", ai_made=True
    )
    assert d.passed, failed(d)
    layers = {o.layer for o in d.outcomes}
    assert layers == {"input", "prompt", "output"}
    d.raise_if_refused()


def test_unlabelled_is_refused(clips: dict[str, Path], policy: Policy) -> None:
    d = gate(clips["unlabelled"], policy=policy, trust=TRUST, sources=[PHOTO], ai_made=True)
    assert not d.passed
    assert "do not say so" in failed(d)["require-ai-label"]
    with pytest.raises(PolicyRefused, match="do not say so"):
        d.raise_if_refused()


def test_signer_not_allowed(clips: dict[str, Path], tmp_path: Path) -> None:
    p = tmp_path / "p.toml"
    p.write_text(
        MINIMAL.replace("[prompt]", f'allowed_signer_fingerprints = ["{SIGNER_FP}"]\n\n[prompt]')
    )
    pol = Policy.from_toml(p)
    good = gate(clips["good"], policy=pol, trust=TRUST, sources=[PHOTO], ai_made=True)
    assert good.passed, failed(good)
    bad = gate(clips["stranger"], policy=pol, trust=TRUST, sources=[PHOTO], ai_made=True)
    assert list(failed(bad)) == ["allowed-signers"]
    assert "not an allowed signer" in failed(bad)["allowed-signers"]


def test_names_alone_do_not_allow_an_untrusted_signer(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    p = tmp_path / "p.toml"
    p.write_text('[output]\nallowed_signer_subjects = ["O=Famous News Org"]\n')
    pol = Policy.from_toml(p)
    assert gate(clips["stranger"], policy=pol, trust=TRUST).passed  # both roots trusted
    d = gate(clips["stranger"], policy=pol, trust=TrustConfig.from_files(anchors=[TEST_ROOT]))
    assert "only accepted from a trusted signer" in failed(d)["allowed-signers"]


def test_tampered_output(clips: dict[str, Path], policy: Policy) -> None:
    d = gate(clips["tampered"], policy=policy, trust=TRUST, sources=[PHOTO], ai_made=True)
    reasons = failed(d)
    assert "tampered" in reasons["refuse-tampered-or-invalid"]
    assert "tampered" in reasons["require-trusted"]


def test_linked_to_a_different_photo(clips: dict[str, Path], policy: Policy) -> None:
    other = media("generated.png")
    d = gate(clips["good"], policy=policy, trust=TRUST, sources=[other], ai_made=True)
    assert "is not an ingredient" in failed(d)["require-source-ingredients"]


def test_unsigned_output(clips: dict[str, Path], policy: Policy) -> None:
    d = gate(clips["unsigned"], policy=policy, trust=TRUST, sources=[PHOTO], ai_made=True)
    reasons = failed(d)
    assert "no Content Credentials" in reasons["require-credentials"]
    assert "cannot be linked" in reasons["require-source-ingredients"]


def test_blocked_prompt(clips: dict[str, Path], policy: Policy) -> None:
    d = gate(
        clips["good"],
        policy=policy,
        trust=TRUST,
        sources=[PHOTO],
        ai_made=True,
        prompt="please draw a Forbidden-Term at dusk",
    )
    assert list(failed(d)) == ["blocked-terms"]
    ok = gate(
        clips["good"],
        policy=policy,
        trust=TRUST,
        sources=[PHOTO],
        ai_made=True,
        prompt="forbidden-terminal is a different word",
    )
    assert ok.passed


def test_tampered_source_is_refused(clips: dict[str, Path], policy: Policy) -> None:
    d = gate(clips["good"], policy=policy, trust=TRUST, sources=[clips["tampered"]])
    assert "is tampered" in failed(d)["refuse-tampered-sources"]


def test_ai_implied_by_an_ai_source(clips: dict[str, Path]) -> None:
    # the conditional form: the unlabelled clip made from an AI-generated source must say so
    pol = Policy.from_mapping({"output": {"require_ai_label_if_ai_made": True}})
    d = gate(clips["unlabelled"], policy=pol, trust=TRUST, sources=[media("ai_generated.mp4")])
    why = failed(d)["require-ai-label-if-ai-made"]
    assert "source" in why and "ai_generated.mp4" in why
    assert gate(clips["unlabelled"], policy=pol, trust=TRUST, sources=[PHOTO]).passed


def test_unsigned_source_linked_by_recorded_hash(tmp_path: Path, policy: Policy) -> None:
    out = tmp_path / "from-unsigned.mp4"
    src = media("stripped.mp4")  # a source with no credentials at all
    sign(media("unsigned.mp4"), out, signer=SIGNER, ai="fully", ingredients=[src])
    d = gate(out, policy=policy, trust=TRUST, sources=[src], ai_made=True)
    assert d.passed, failed(d)
    assert any("SHA-256 is recorded" in o.reason for o in d.outcomes)


def test_composition_in_code(clips: dict[str, Path]) -> None:
    rules = AnyOf(RequireTrusted(), RequireAILabel())
    pol = Policy(
        input=(), prompt=(BlockedTerms(("x",)), PromptLength(max_length=10)), output=(rules,)
    )
    assert gate(clips["stranger"], policy=pol, trust=TrustConfig()).passed  # labelled
    d = gate(clips["unlabelled"], policy=pol, trust=TrustConfig(), prompt="y" * 11, ai_made=True)
    assert set(failed(d)) == {"any-of", "prompt-length"}
    # combinators are rules too: an all-of reports each rule's own outcome
    ctx = GateContext(output=verify(clips["stranger"], trust=TrustConfig()))
    assert AllOf(RequireTrusted()).evaluate(ctx) == RequireTrusted().evaluate(ctx)
    [only] = AllOf(RequireTrusted()).evaluate(ctx)
    assert (only.rule, only.layer, only.passed) == ("require-trusted", "output", False)


def test_python_evaluator_and_entry_point(
    clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def classifier(prompt: str) -> tuple[bool, str]:
        return ("violence" not in prompt, "classifier score 0.97 for violence")

    d = gate(
        clips["good"], policy=Policy(), trust=TRUST, prompt="violence", evaluators=[classifier]
    )
    assert failed(d) == {"classifier": "classifier score 0.97 for violence"}
    # an installed entry point, found through importlib.metadata
    site = tmp_path / "site"
    (site / "fakeclf").mkdir(parents=True)
    (site / "fakeclf" / "__init__.py").write_text("def check(p):\n    return 'nope' not in p\n")
    dist = site / "fakeclf-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fakeclf\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[provcheck.prompt_evaluators]\nfake = fakeclf:check\n")
    monkeypatch.syspath_prepend(str(site))
    p = tmp_path / "p.toml"
    p.write_text('[prompt]\nevaluators = ["fake"]\n')
    pol = Policy.from_toml(p)
    assert gate(clips["good"], policy=pol, trust=TRUST, prompt="fine").passed
    assert not gate(clips["good"], policy=pol, trust=TRUST, prompt="nope").passed
    p.write_text('[prompt]\nevaluators = ["missing"]\n')
    with pytest.raises(PolicyError, match="neither passed in nor installed"):
        Policy.from_toml(p)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[output\n", "not valid TOML"),
        ("[outptu]\nx = 1\n", "unknown section"),
        ("[output]\nrequire_trusted = 'yes'\n", "must be true or false"),
        ("[output]\nrequre_trusted = true\n", "unknown key"),
        ("[prompt]\nblocked_patterns = ['(']\n", "not a valid regex"),
        ("[output]\nmax_signature_age = 'soon'\n", "max_signature_age"),
        ("[output]\nallowed_signer_fingerprints = ['abc']\n", "not a SHA-256"),
    ],
)
def test_bad_policies(tmp_path: Path, text: str, match: str) -> None:
    p = tmp_path / "p.toml"
    p.write_text(text)
    with pytest.raises(PolicyError, match=match):
        Policy.from_toml(p)


def test_max_signature_age(clips: dict[str, Path], tmp_path: Path) -> None:
    p = tmp_path / "p.toml"
    p.write_text('[output]\nmax_signature_age = "30d"\n')
    d = gate(clips["good"], policy=Policy.from_toml(p), trust=TRUST)
    assert "signing time is unknown" in failed(d)["max-signature-age"]


def test_cli_gate(clips: dict[str, Path]) -> None:
    base = [
        "gate",
        "--policy",
        str(clips["policy"]),
        "--trust",
        str(TEST_ROOT),
        "--source",
        str(PHOTO),
        "--ai-made",
    ]
    r = CliRunner().invoke(cli, [*base, str(clips["good"]), "--prompt", "a cat"])
    assert r.exit_code == 0, r.stdout
    assert "PASS" in r.stdout
    r = CliRunner().invoke(cli, [*base, str(clips["unlabelled"]), "--format", "json"])
    doc = json.loads(r.stdout)
    assert r.exit_code == 1 and doc["decision"] == "refuse"
    failures = [o for o in doc["results"][0]["outcomes"] if not o["passed"]]
    assert [o["rule"] for o in failures] == ["require-ai-label"]
    # paths from stdin, for pipelines
    r = CliRunner().invoke(
        cli, [*base, "--stdin", "--format", "json"], input=f"{clips['good']}\n{clips['tampered']}\n"
    )
    doc = json.loads(r.stdout)
    assert r.exit_code == 1
    assert [x["decision"] for x in doc["results"]] == ["pass", "refuse"]
    # prompt from a file
    pf = clips["policy"].parent / "prompt.txt"
    pf.write_text("the forbidden-term again")
    r = CliRunner().invoke(cli, [*base, str(clips["good"]), "--prompt-file", str(pf)])
    assert r.exit_code == 1 and "blocked term" in r.stdout


def test_cli_gate_errors(clips: dict[str, Path], tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["gate", str(clips["good"]), "--policy", str(tmp_path / "no.toml")])
    assert r.exit_code == 5 and "cannot read policy" in r.stderr and "Traceback" not in r.stderr
    assert CliRunner().invoke(cli, ["gate", "--policy", str(clips["policy"])]).exit_code == 2
    r = CliRunner().invoke(
        cli,
        [
            "gate",
            str(clips["good"]),
            "--policy",
            str(clips["policy"]),
            "--prompt",
            "a",
            "--prompt-file",
            str(clips["policy"]),
        ],
    )
    assert r.exit_code == 2


def test_pre_commit_hook_file_is_valid() -> None:
    root = Path(__file__).resolve().parents[1]
    text = (root / ".pre-commit-hooks.yaml").read_text()
    assert "id: provcheck-gate" in text and "entry: provcheck gate" in text
    assert "id: provcheck-verify" in text


def test_upload_example_runs(clips: dict[str, Path]) -> None:
    import runpy

    root = Path(__file__).resolve().parents[1]
    ns = runpy.run_path(str(root / "examples" / "gate_upload.py"))
    ok, reasons = ns["check_upload"](
        clips["good"],
        source=PHOTO,
        prompt="a cat",
        policy_file=clips["policy"],
        trust_anchor=TEST_ROOT,
    )
    assert ok and reasons == []
    ok, reasons = ns["check_upload"](
        clips["unlabelled"],
        source=PHOTO,
        prompt="a cat",
        policy_file=clips["policy"],
        trust_anchor=TEST_ROOT,
    )
    assert not ok and any("do not say so" in r for r in reasons)


def test_example_policy_uses_every_key() -> None:
    import tomllib

    from provenance.policy.config import SECTIONS

    root = Path(__file__).resolve().parents[1]
    path = root / "examples" / "publish-policy.toml"
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    for section, entries in SECTIONS.items():
        for key in (k for e in entries for k in e.keys):
            used = key in doc[section] or any(key in alt for alt in doc[section].get("any_of", []))
            assert used, f"examples/publish-policy.toml does not show [{section}] {key}"
    pol = Policy.from_toml(path)
    assert pol.ai_made and {r.name for r in pol.walk()} >= {"any-of", "require-ai-label"}
