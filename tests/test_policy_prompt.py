"""The prompt layer against a determined user: each disguise of a blocked term is caught,
ordinary prompts are not refused, and a blocked pattern can never hang the gate."""

from __future__ import annotations

import time
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from provcheck.app import cli
from provenance import Policy, PolicyError
from provenance.policy import BlockedPatterns, BlockedTerms, GateContext, fold_prompt

from .conftest import TEST_ROOT, media

TERMS = BlockedTerms(("taylor swift", "nude"))


def _refused(rule: BlockedTerms | BlockedPatterns, prompt: str) -> str | None:
    [o] = rule.evaluate(GateContext(output=None, prompt=prompt))
    return None if o.passed else o.reason


def _styled(style: str, word: str) -> str:
    return "".join(unicodedata.lookup(f"{style} {c.upper()}") for c in word)


# Every trick from the report (issue 13), each on its own.
TRICKS = {
    "zero-width space": "a photo of tay\u200blor swift",
    "zero-width joiner": "a nu\u200dde portrait",
    "zero-width non-joiner": "taylor sw\u200cift on stage",
    "word joiner": "nu\u2060de",
    "no-break space": "taylor\u00a0swift",
    "narrow no-break space": "taylor\u202fswift",
    "ideographic space": "taylor\u3000swift",
    "two spaces": "taylor  swift",
    "newline": "taylor\nswift",
    "tab": "taylor\tswift",
    "full-width letters": "\uff54\uff41\uff59\uff4c\uff4f\uff52 \uff53\uff57\uff49\uff46\uff54",
    "cyrillic a": "t\u0430ylor swift",
    "cyrillic ie": "nud\u0435",
    "greek capitals": "\u039dUD\u0395",  # Greek Nu, Latin U D, Greek Epsilon
    "dotless i": "taylor sw\u0131ft",
    "turkish dotted capital I": "TAYLOR SW\u0130FT",
    "soft hyphen": "nu\u00adde",
    "mathematical bold": _styled("MATHEMATICAL BOLD SMALL", "nude"),
    "mathematical sans-serif": _styled("MATHEMATICAL SANS-SERIF SMALL", "nude"),
    "mathematical fraktur": _styled("MATHEMATICAL FRAKTUR SMALL", "nude"),
    "accents": "n\u00fad\u00e9",
    "combining marks": "nu\u0301de\u0300",
    "upper case": "TAYLOR SWIFT",
    "underscore": "taylor_swift",
    "joined": "taylorswift",
    "hyphen": "taylor-swift",
    "dots between letters": "n.u.d.e",
    "spaced letters": "t a y l o r s w i f t",
    "plural": "nudes",
    "possessive": "taylor swift's dress",
    "variation selector": "nu\ufe0fde",
    "hangul filler": "nu\u3164de",
    "bidi control": "nu\u202ede",
    "cherokee look-alike": "\u13a2AYLOR SWIFT",
}


@pytest.mark.parametrize("prompt", list(TRICKS.values()), ids=list(TRICKS))
def test_every_disguise_of_a_blocked_term_is_caught(prompt: str) -> None:
    why = _refused(TERMS, prompt)
    assert why is not None and "blocked term" in why


@pytest.mark.parametrize(
    "prompt",
    [
        "a cat surfing at dusk",
        "the menu delivered to the table",  # "nu de" across words is not "nude"
        "a swift taylor-made suit",  # both words, but not the term
        "denuded hills",
        "nudity",  # not an inflection of "nude": add it to the list if it is meant
        "Taylor and Swift are two cities",
    ],
)
def test_ordinary_prompts_pass(prompt: str) -> None:
    assert _refused(TERMS, prompt) is None


def test_the_fold() -> None:
    assert fold_prompt("\uff34\u0430\u00adylor\u200b") == "taylor"
    assert fold_prompt("SW\u0130FT") == "swift"
    assert fold_prompt("\U0001d42d\u0131") == "ti"


def test_a_term_with_nothing_to_match_is_refused() -> None:
    with pytest.raises(PolicyError, match="no letters or digits"):
        BlockedTerms(("--",))
    with pytest.raises(PolicyError, match="no letters or digits"):
        Policy.from_mapping({"prompt": {"blocked_terms": ["\u200b"]}})


def test_blocked_terms_in_another_script() -> None:
    rule = BlockedTerms(("\u6cf0\u52d2\u65af",))  # Han script: no spaces between words
    assert _refused(rule, "\u6211\u60f3\u770b\u6cf0\u52d2\u65af\u7684\u7167\u7247") is not None
    assert _refused(rule, "\u6211\u60f3\u770b\u732b") is None


# --- patterns ---------------------------------------------------------------------------


def test_patterns_see_the_folded_prompt_too() -> None:
    rule = BlockedPatterns((r"real\s+person",))
    assert _refused(rule, "a REAL\u00a0\u00a0p\u0435rson") is not None  # NBSP, Cyrillic e
    assert _refused(rule, "a real\nperson") is not None
    assert _refused(rule, "a realistic person") is None


def test_the_classic_catastrophic_pattern_does_not_hang() -> None:
    rule = BlockedPatterns((r"(a+)+$",))
    start = time.monotonic()
    assert _refused(rule, "a" * 40 + "!") is None  # no match, and an answer at once
    assert time.monotonic() - start < 5
    assert _refused(rule, "a" * 40) is not None


@pytest.mark.timeout(60)
def test_a_pattern_that_backtracks_without_end_refuses_within_its_time() -> None:
    rule = BlockedPatterns((r"(a|aa)+$",), timeout=0.2)
    start = time.monotonic()
    why = _refused(rule, "a" * 41 + "!")
    elapsed = time.monotonic() - start
    assert why is not None and "did not finish within 0.2 s" in why
    assert elapsed < 20  # bounded (the budget is 0.2 s; a loaded machine is slower)


def test_a_pattern_time_limit_must_be_positive() -> None:
    with pytest.raises(PolicyError, match="positive time limit"):
        BlockedPatterns(("x",), timeout=0)


@pytest.mark.timeout(120)
def test_cli_gate_refuses_on_a_runaway_pattern(tmp_path: Path) -> None:
    p = tmp_path / "p.toml"
    p.write_text("[prompt]\nblocked_patterns = ['(a|aa)+$']\n")
    r = CliRunner().invoke(
        cli,
        [
            "gate",
            str(media("ai_generated.mp4")),
            "--policy",
            str(p),
            "--trust",
            str(TEST_ROOT),
            "--prompt",
            "a" * 41 + "!",
        ],
    )
    assert r.exit_code == 1, r.output
    assert "did not finish within" in r.stdout and "Traceback" not in r.output


@pytest.mark.parametrize("rule", [BlockedTerms, BlockedPatterns])
def test_a_bare_string_is_not_a_list(rule: type) -> None:
    with pytest.raises(PolicyError, match="must be a tuple of strings"):
        rule("nude")
