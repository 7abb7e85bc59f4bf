"""Policy structure on real signed clips: combinators are never empty, every rule at any
depth gets what it needs, an AI label means a label, and claims of a broken manifest
never satisfy a rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance import AllOf, AnyOf, Policy, PolicyError, gate
from provenance.policy import (
    AllowedSigners,
    BlockedTerms,
    GateContext,
    RefuseTamperedOrInvalid,
    RequireAILabel,
    RequireAILabelIfAIMade,
    RequireSourceIngredients,
    RequireTrusted,
    RequireTrustedTimestamp,
)

from . import policy_support
from .conftest import media
from .policy_support import (
    ONLY_TEST_ROOT,
    PHOTO,
    SIGNER_FP,
    STRANGER_FP,
    TRUST,
    failed,
)

OTHER_FP = "ab" * 32
clips = policy_support.clips  # the module-scoped fixture


# --- empty combinators -------------------------------------------------------------


@pytest.mark.parametrize("combinator", [AllOf, AnyOf])
def test_empty_combinator_is_refused_when_built(combinator: type) -> None:
    with pytest.raises(PolicyError, match=r"needs at least one rule.*would pass anything"):
        combinator()


def test_empty_all_of_no_longer_passes_a_tampered_file(clips: dict[str, Path]) -> None:
    with pytest.raises(PolicyError, match="AllOf"):
        Policy(input=(), output=(AllOf(),))
    d = gate(clips["tampered"], policy=Policy(input=(), output=(AllOf(RequireTrusted()),)))
    assert not d.passed and "tampered" in failed(d)["require-trusted"]


def test_a_combinator_takes_only_rules() -> None:
    with pytest.raises(PolicyError, match="is not a rule"):
        AnyOf(RequireTrusted(), "require_trusted")  # type: ignore[arg-type]


def test_a_policy_with_no_rules_is_refused() -> None:
    with pytest.raises(PolicyError, match="no rules"):
        Policy(input=(), prompt=(), output=())
    off = {"input": {"refuse_tampered": False}, "output": {"refuse_tampered": False}}
    with pytest.raises(PolicyError, match="no rules"):
        Policy.from_mapping(off)


@pytest.mark.parametrize(
    ("doc", "match"),
    [
        ({"output": {"any_of": []}}, "any_of is empty"),
        ({"output": {"any_of": [{}]}}, "alternative 1 has no rules"),
        (
            {"output": {"any_of": [{"require_trusted": True}, {"require_trusted": False}]}},
            "alternative 2 has no rules",
        ),
        ({"output": {"any_of": [{"any_of": []}]}}, "any_of is empty"),
        ({"output": {"any_of": "require_trusted"}}, "array of tables"),
        ({"output": {"any_of": [{"ai_made": True}]}}, "unknown key"),
        ({"prompt": {"any_of": [{"blocked_terms": []}]}}, "has no rules"),
    ],
)
def test_empty_any_of_in_toml_is_refused(doc: dict[str, object], match: str) -> None:
    with pytest.raises(PolicyError, match=match):
        Policy.from_mapping(doc)


def test_any_of_from_toml(clips: dict[str, Path], tmp_path: Path) -> None:
    p = tmp_path / "p.toml"
    p.write_text(
        "[output]\nrequire_credentials = true\n\n"
        "[[output.any_of]]\nrequire_trusted = true\n\n"
        f'[[output.any_of]]\nallowed_signer_fingerprints = ["{STRANGER_FP}"]\n'
        "require_ai_label = true\n"
    )
    pol = Policy.from_toml(p)
    [any_of] = [r for r in pol.output if isinstance(r, AnyOf)]
    assert isinstance(any_of.rules[0], RequireTrusted)
    assert isinstance(any_of.rules[1], AllOf)
    # trusted by the only anchor: the first alternative holds
    assert gate(clips["good"], policy=pol, trust=ONLY_TEST_ROOT).passed
    # untrusted, but its certificate is on the list and it is labelled: the second holds
    d = gate(clips["stranger"], policy=pol, trust=ONLY_TEST_ROOT)
    assert d.passed, failed(d)
    p.write_text(p.read_text().replace(STRANGER_FP, OTHER_FP))
    d = gate(clips["stranger"], policy=Policy.from_toml(p), trust=ONLY_TEST_ROOT)
    assert list(failed(d)) == ["any-of"]
    assert "none of the alternatives holds" in failed(d)["any-of"]
    assert "not trusted" in failed(d)["any-of"] and "not an allowed signer" in failed(d)["any-of"]


# --- every rule at any depth gets what it needs -----------------------------------------


@pytest.mark.parametrize(
    "wrap",
    [
        lambda r: r,
        lambda r: AllOf(r),
        lambda r: AnyOf(r, RequireTrustedTimestamp()),
        lambda r: AllOf(AnyOf(AllOf(r), RequireTrustedTimestamp())),
    ],
    ids=["top", "all-of", "any-of", "deep"],
)
def test_allowed_signers_at_any_depth(clips: dict[str, Path], wrap: object) -> None:
    rule = wrap(AllowedSigners((SIGNER_FP,)))  # type: ignore[operator]
    pol = Policy(input=(), output=(rule,))
    d = gate(clips["good"], policy=pol, trust=ONLY_TEST_ROOT)
    assert d.passed, failed(d)
    assert not gate(clips["stranger"], policy=pol, trust=ONLY_TEST_ROOT).passed


def test_allowed_signers_nested_in_toml(clips: dict[str, Path]) -> None:
    doc = {"output": {"any_of": [{"allowed_signer_fingerprints": [SIGNER_FP]}]}}
    pol = Policy.from_mapping(doc)
    assert gate(clips["good"], policy=pol, trust=ONLY_TEST_ROOT).passed
    assert not gate(clips["stranger"], policy=pol, trust=ONLY_TEST_ROOT).passed


def test_the_fingerprint_check_is_asked_once_per_list(clips: dict[str, Path]) -> None:
    rule = AllowedSigners((SIGNER_FP,))
    pol = Policy(input=(), output=(rule, AllOf(rule), AnyOf(rule)))
    d = gate(clips["good"], policy=pol, trust=ONLY_TEST_ROOT)
    assert [o.passed for o in d.outcomes] == [True, True, True]


# --- require_ai_label: the output must carry a label -------------------------------------


def test_require_ai_label_refuses_an_unlabelled_output(clips: dict[str, Path]) -> None:
    pol = Policy.from_mapping({"output": {"require_ai_label": True}})
    # nothing declares the content AI-made: still, the label is required
    d = gate(clips["unlabelled"], policy=pol, trust=TRUST, sources=[PHOTO])
    assert list(failed(d)) == ["require-ai-label"]
    assert "carries no AI label" in failed(d)["require-ai-label"]
    assert not gate(media("captured.mp4"), policy=pol, trust=TRUST).passed


@pytest.mark.parametrize("name", ["ai_generated.mp4", "partly.mp4", "possibly.mp4"])
def test_require_ai_label_accepts_fully_partly_possibly(name: str) -> None:
    pol = Policy.from_mapping({"output": {"require_ai_label": True}})
    d = gate(media(name), policy=pol, trust=TRUST)
    assert d.passed, failed(d)
    [o] = [o for o in d.outcomes if o.rule == "require-ai-label"]
    assert "labelled AI-generated" in o.reason


def test_require_ai_label_if_ai_made(clips: dict[str, Path]) -> None:
    pol = Policy.from_mapping({"output": {"require_ai_label_if_ai_made": True}})
    assert isinstance(pol.output[-1], RequireAILabelIfAIMade)
    # not known to be AI-made: passes without a label
    assert gate(clips["unlabelled"], policy=pol, trust=TRUST, sources=[PHOTO]).passed
    # declared (by the caller or by the policy): refused
    d = gate(clips["unlabelled"], policy=pol, trust=TRUST, ai_made=True)
    assert "declared AI-made" in failed(d)["require-ai-label-if-ai-made"]
    declared = {"output": {"require_ai_label_if_ai_made": True, "ai_made": True}}
    assert not gate(clips["unlabelled"], policy=Policy.from_mapping(declared), trust=TRUST).passed
    assert gate(clips["good"], policy=pol, trust=TRUST, ai_made=True).passed


# --- claims of a broken manifest satisfy nothing ------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [RequireAILabel(), RequireAILabelIfAIMade(), AllowedSigners((SIGNER_FP,))],
    ids=lambda r: r.name,
)
def test_claims_of_a_tampered_output_are_not_believed(clips: dict[str, Path], rule: object) -> None:
    pol = Policy(input=(), output=(rule,))  # type: ignore[arg-type]
    good = gate(clips["good"], policy=pol, trust=ONLY_TEST_ROOT, ai_made=True)
    assert good.passed, failed(good)
    d = gate(clips["tampered"], policy=pol, trust=ONLY_TEST_ROOT, ai_made=True)
    assert not d.passed
    assert "is tampered: what its credentials claim is not verified" in failed(d)[rule.name]  # type: ignore[attr-defined]


def test_ingredient_links_of_an_invalid_output_are_not_believed() -> None:
    pol = Policy(input=(), output=(RequireSourceIngredients(),))
    d = gate(media("invalid.mp4"), policy=pol, trust=TRUST, sources=[PHOTO])
    assert (
        "is invalid: what its credentials claim is not verified"
        in failed(d)["require-source-ingredients"]
    )


# --- the rule bases ---------------------------------------------------------------------


def test_layer_bases_decide_applicability(clips: dict[str, Path]) -> None:
    ctx = GateContext(output=None)
    [o] = RequireTrusted().evaluate(ctx)
    assert (o.passed, o.reason, o.layer) == (False, "no output was checked", "output")
    assert BlockedTerms(("x",)).evaluate(ctx) == []  # no prompt: not applicable
    assert AnyOf(BlockedTerms(("x",))).evaluate(ctx) == []
    # an alternative that does not apply does not count as holding
    [o] = AnyOf(BlockedTerms(("x",)), RequireTrusted()).evaluate(ctx)
    assert not o.passed and "no output was checked" in o.reason


def test_a_rule_name_can_be_given(clips: dict[str, Path]) -> None:
    rule = BlockedTerms(("forbidden",), name="brand-terms")
    d = gate(clips["good"], policy=Policy(prompt=(rule,)), trust=TRUST, prompt="Forbidden")
    assert list(failed(d)) == ["brand-terms"]
    assert RefuseTamperedOrInvalid().name == "refuse-tampered-or-invalid"


def test_walk_visits_every_depth() -> None:
    inner = AllowedSigners((SIGNER_FP,))
    pol = Policy(output=(AnyOf(AllOf(inner), RequireTrusted()),))
    assert inner in list(pol.walk())
