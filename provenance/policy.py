"""Pre-publish policies and the three-layer gate: input scan, prompt evaluation, output check.

A policy is a tree of small rule objects combined with ``AllOf`` / ``AnyOf``. Each rule
looks at a ``GateContext`` (the verified sources, the prompt, the verified output) and
returns a ``RuleOutcome`` with a reason a person can read. ``gate`` runs the three
layers and returns a ``Decision``; ``Decision.raise_if_refused()`` raises
``PolicyRefused`` for callers that prefer exceptions.

The same rules load from TOML (``Policy.from_toml``)::

    [input]
    refuse_tampered = true          # a source with broken or altered credentials is refused
    require_credentials = false

    [prompt]
    blocked_terms = ["forbidden-term"]
    blocked_patterns = ["(?i)real\\\\s+person"]
    max_length = 4000
    evaluators = ["my-classifier"]  # entry points in group "provcheck.prompt_evaluators"

    [output]
    require_credentials = true
    require_trusted = true
    require_ai_label = true          # when the content is AI-made (declared, or implied)
    require_source_ingredients = true
    require_trusted_timestamp = false
    max_signature_age = "30d"
    allowed_signer_fingerprints = ["<sha256 hex of the signing certificate>"]
    allowed_signer_subjects = ["CN=Example Video Model Signer"]
    allowed_signer_issuers = ["Example Issuing CA"]
    ai_made = false                  # declare the content AI-made regardless of sources
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

from .errors import ProvenanceError
from .model import AIGeneration, Manifest, Report, Verdict
from .trust import TrustConfig

__all__ = [
    "RuleOutcome",
    "Decision",
    "GateContext",
    "Rule",
    "AllOf",
    "AnyOf",
    "Policy",
    "PolicyError",
    "PolicyRefused",
    "PromptEvaluator",
    "gate",
    # rules
    "RefuseTamperedSources",
    "RequireSourceCredentials",
    "BlockedTerms",
    "BlockedPatterns",
    "PromptLength",
    "PromptEvaluatorRule",
    "RequireCredentials",
    "RequireTrusted",
    "RefuseTamperedOrInvalid",
    "AllowedSigners",
    "RequireAILabel",
    "RequireSourceIngredients",
    "RequireTrustedTimestamp",
    "MaxSignatureAge",
]

INPUT, PROMPT, OUTPUT = "input", "prompt", "output"
_GENAI = (AIGeneration.FULLY, AIGeneration.PARTLY)


class PolicyError(ProvenanceError):
    """A policy file or rule is malformed."""


class PolicyRefused(ProvenanceError):
    """Raised by ``Decision.raise_if_refused`` with every failed rule's reason."""

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        reasons = "; ".join(o.reason for o in decision.failures)
        super().__init__(f"refused: {reasons}")


@dataclass(frozen=True)
class RuleOutcome:
    rule: str
    layer: str
    passed: bool
    reason: str
    subject: str | None = None  # the file or "prompt" the rule looked at

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "layer": self.layer,
            "passed": self.passed,
            "reason": self.reason,
            "subject": self.subject,
        }


@dataclass(frozen=True)
class Decision:
    passed: bool
    outcomes: tuple[RuleOutcome, ...]
    output: Report | None = None
    sources: tuple[Report, ...] = ()

    @property
    def failures(self) -> tuple[RuleOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.passed)

    def raise_if_refused(self) -> None:
        if not self.passed:
            raise PolicyRefused(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": "pass" if self.passed else "refuse",
            "outcomes": [o.to_dict() for o in self.outcomes],
            "output": self.output.to_dict() if self.output else None,
            "sources": [s.to_dict() for s in self.sources],
        }


PromptEvaluator = Callable[[str], "bool | tuple[bool, str]"]


@dataclass(frozen=True)
class GateContext:
    """Everything the rules may look at."""

    output: Report | None
    sources: tuple[Report, ...] = ()
    source_hashes: tuple[str, ...] = ()  # SHA-256 of each source file, same order
    prompt: str | None = None
    ai_made: bool = False  # declared by the caller
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    signer_fingerprint_match: bool | None = None  # computed by gate when a rule needs it


class Rule(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def layer(self) -> str: ...

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]: ...


# ---------------------------------------------------------------------------
# combinators


@dataclass(frozen=True)
class AllOf:
    """Passes when every rule passes; all outcomes are reported."""

    rules: tuple[Rule, ...]
    name: str = "all-of"
    layer: str = "policy"

    def __init__(self, *rules: Rule, name: str = "all-of") -> None:
        object.__setattr__(self, "rules", tuple(rules))
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "layer", "policy")

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]:
        out: list[RuleOutcome] = []
        for rule in self.rules:
            out.extend(rule.evaluate(ctx))
        return out


@dataclass(frozen=True)
class AnyOf:
    """Passes when at least one rule passes; then the others' failures are informational."""

    rules: tuple[Rule, ...]
    name: str = "any-of"
    layer: str = "policy"

    def __init__(self, *rules: Rule, name: str = "any-of") -> None:
        object.__setattr__(self, "rules", tuple(rules))
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "layer", "policy")

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]:
        groups = [rule.evaluate(ctx) for rule in self.rules]
        ok = any(all(o.passed for o in g) for g in groups)
        layer = self.rules[0].layer if self.rules else "policy"
        detail = "; ".join(o.reason for g in groups for o in g if not o.passed)
        reason = (
            "one of the alternatives holds" if ok else f"none of the alternatives holds: {detail}"
        )
        return [RuleOutcome(self.name, layer, ok, reason)]


def _outcome(rule: Rule, passed: bool, reason: str, subject: str | None = None) -> RuleOutcome:
    return RuleOutcome(rule.name, rule.layer, passed, reason, subject)


# ---------------------------------------------------------------------------
# (1) input scan


@dataclass(frozen=True)
class RefuseTamperedSources:
    name: str = "refuse-tampered-sources"
    layer: str = INPUT

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]:
        out = []
        for src in ctx.sources:
            bad = src.verdict in (Verdict.TAMPERED, Verdict.INVALID, Verdict.ERROR)
            reason = (
                f"source {src.path} is {src.verdict.value}: {src.reason}"
                if bad
                else f"source {src.path} is {src.verdict.value}"
            )
            out.append(_outcome(self, not bad, reason, src.path))
        return out


@dataclass(frozen=True)
class RequireSourceCredentials:
    name: str = "require-source-credentials"
    layer: str = INPUT

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]:
        return [
            _outcome(
                self,
                s.manifest is not None,
                f"source {s.path} carries credentials"
                if s.manifest is not None
                else f"source {s.path} carries no credentials",
                s.path,
            )
            for s in ctx.sources
        ]


# ---------------------------------------------------------------------------
# (2) prompt evaluation


@dataclass(frozen=True)
class BlockedTerms:
    terms: tuple[str, ...]
    name: str = "blocked-terms"
    layer: str = PROMPT

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]:
        if ctx.prompt is None:
            return []
        text = ctx.prompt.casefold()
        hits = [
            t
            for t in self.terms
            if re.search(r"(?<!\w)" + re.escape(t.casefold()) + r"(?!\w)", text)
        ]
        if hits:
            return [
                _outcome(
                    self,
                    False,
                    "the prompt contains blocked term(s): " + ", ".join(repr(h) for h in hits),
                    "prompt",
                )
            ]
        return [_outcome(self, True, "no blocked term in the prompt", "prompt")]


@dataclass(frozen=True)
class BlockedPatterns:
    patterns: tuple[str, ...]
    name: str = "blocked-patterns"
    layer: str = PROMPT

    def __post_init__(self) -> None:
        for p in self.patterns:
            try:
                re.compile(p)
            except re.error as exc:
                raise PolicyError(f"blocked pattern {p!r} is not a valid regex: {exc}") from None

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]:
        if ctx.prompt is None:
            return []
        hits = [p for p in self.patterns if re.search(p, ctx.prompt)]
        if hits:
            return [
                _outcome(
                    self,
                    False,
                    "the prompt matches blocked pattern(s): " + ", ".join(repr(h) for h in hits),
                    "prompt",
                )
            ]
        return [_outcome(self, True, "no blocked pattern in the prompt", "prompt")]


@dataclass(frozen=True)
class PromptLength:
    max_length: int | None = None
    min_length: int | None = None
    name: str = "prompt-length"
    layer: str = PROMPT

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]:
        if ctx.prompt is None:
            return []
        n = len(ctx.prompt)
        if self.max_length is not None and n > self.max_length:
            return [
                _outcome(
                    self,
                    False,
                    f"the prompt has {n} characters, more than {self.max_length}",
                    "prompt",
                )
            ]
        if self.min_length is not None and n < self.min_length:
            return [
                _outcome(
                    self,
                    False,
                    f"the prompt has {n} characters, fewer than {self.min_length}",
                    "prompt",
                )
            ]
        return [_outcome(self, True, f"the prompt length ({n}) is within limits", "prompt")]


@dataclass(frozen=True)
class PromptEvaluatorRule:
    """A pluggable evaluator (e.g. a classifier): ``fn(prompt) -> bool | (bool, reason)``."""

    fn: Callable[[str], Any]
    name: str = "prompt-evaluator"
    layer: str = PROMPT

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]:
        if ctx.prompt is None:
            return []
        try:
            result = self.fn(ctx.prompt)
        except Exception as exc:  # a broken evaluator refuses; it never lets a prompt through
            return [
                _outcome(
                    self,
                    False,
                    f"evaluator {self.name} failed: {type(exc).__name__}: {exc}",
                    "prompt",
                )
            ]
        if isinstance(result, tuple):
            ok, reason = bool(result[0]), str(result[1])
        else:
            ok = bool(result)
            reason = f"evaluator {self.name} " + ("accepted" if ok else "refused") + " the prompt"
        return [_outcome(self, ok, reason, "prompt")]


# ---------------------------------------------------------------------------
# (3) output check


def _no_output(rule: Rule) -> list[RuleOutcome]:
    return [_outcome(rule, False, "no output was checked")]


@dataclass(frozen=True)
class RequireCredentials:
    name: str = "require-credentials"
    layer: str = OUTPUT

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]:
        r = ctx.output
        if r is None:
            return _no_output(self)
        ok = r.manifest is not None
        return [
            _outcome(
                self,
                ok,
                "the output carries Content Credentials"
                if ok
                else f"the output carries no Content Credentials ({r.reason})",
                r.path,
            )
        ]


@dataclass(frozen=True)
class RequireTrusted:
    name: str = "require-trusted"
    layer: str = OUTPUT

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]:
        r = ctx.output
        if r is None:
            return _no_output(self)
        ok = r.verdict is Verdict.TRUSTED
        return [
            _outcome(
                self,
                ok,
                "the output's signer is trusted"
                if ok
                else f"the output is {r.verdict.value}, not trusted: {r.reason}",
                r.path,
            )
        ]


@dataclass(frozen=True)
class RefuseTamperedOrInvalid:
    name: str = "refuse-tampered-or-invalid"
    layer: str = OUTPUT

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]:
        r = ctx.output
        if r is None:
            return _no_output(self)
        bad = r.verdict in (Verdict.TAMPERED, Verdict.INVALID, Verdict.ERROR)
        return [
            _outcome(
                self,
                not bad,
                f"the output is {r.verdict.value}: {r.reason}"
                if bad
                else "the output is neither tampered nor invalid",
                r.path,
            )
        ]


def _dn_matches(pattern: str, signer_cn: str | None, signer_o: str | None) -> bool:
    """`CN=x`, `O=y`, `CN=x, O=y` or a bare name (matched against CN or O)."""
    parts = [p.strip() for p in pattern.split(",") if p.strip()]
    for part in parts:
        key, _, value = part.partition("=")
        if not value:
            if part not in (signer_cn, signer_o):
                return False
        elif key.strip().upper() == "CN":
            if value.strip() != signer_cn:
                return False
        elif key.strip().upper() == "O":
            if value.strip() != signer_o:
                return False
        else:
            return False
    return bool(parts)


@dataclass(frozen=True)
class AllowedSigners:
    """The output's signer must be one of these: certificate SHA-256 fingerprints, subject
    names or issuer names. Names alone can be claimed by anyone, so a name only counts
    when the signer is also trusted; a fingerprint is checked by the C2PA library."""

    fingerprints: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    issuers: tuple[str, ...] = ()
    name: str = "allowed-signers"
    layer: str = OUTPUT

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]:
        r = ctx.output
        if r is None:
            return _no_output(self)
        s = r.signer
        if s is None:
            return [_outcome(self, False, "the output has no signer", r.path)]
        if self.fingerprints and ctx.signer_fingerprint_match:
            return [
                _outcome(
                    self,
                    True,
                    "the signing certificate's SHA-256 fingerprint is on the allowed list",
                    r.path,
                )
            ]
        trusted = r.verdict is Verdict.TRUSTED
        for pattern in self.subjects:
            if trusted and _dn_matches(pattern, s.common_name, s.organization):
                return [
                    _outcome(
                        self,
                        True,
                        f"the trusted signer matches allowed subject {pattern!r}",
                        r.path,
                    )
                ]
        for issuer in self.issuers:
            if trusted and s.issuer == issuer:
                return [
                    _outcome(
                        self,
                        True,
                        f"the trusted signer was issued by allowed issuer {issuer!r}",
                        r.path,
                    )
                ]
        why = f"signer {s.display()} is not an allowed signer"
        if not trusted and (self.subjects or self.issuers):
            why += " (names are only accepted from a trusted signer)"
        return [_outcome(self, False, why, r.path)]


def _ai_in_chain(m: Manifest | None) -> bool:
    if m is None:
        return False
    return m.ai_generated in _GENAI or any(_ai_in_chain(i.manifest) for i in m.ingredients)


@dataclass(frozen=True)
class RequireAILabel:
    """When the content is AI-made — declared by the caller, or implied by an AI-generated
    source or ingredient — the output's credentials must say so (fully or partly)."""

    name: str = "require-ai-label"
    layer: str = OUTPUT

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]:
        r = ctx.output
        if r is None:
            return _no_output(self)
        why_ai = []
        if ctx.ai_made:
            why_ai.append("declared AI-made")
        why_ai += [
            f"source {s.path} is AI-generated ({s.ai_generated.value})"
            for s in ctx.sources
            if s.ai_generated in _GENAI
        ]
        if r.manifest is not None and any(_ai_in_chain(i.manifest) for i in r.manifest.ingredients):
            why_ai.append("an ingredient is AI-generated")
        labelled = r.manifest is not None and r.ai_generated in _GENAI
        if labelled:
            return [
                _outcome(
                    self,
                    True,
                    f"the output is labelled AI-generated ({r.ai_generated.value})",
                    r.path,
                )
            ]
        if not why_ai:
            return [_outcome(self, True, "the content is not known to be AI-made", r.path)]
        return [
            _outcome(
                self,
                False,
                f"the content is AI-made ({'; '.join(why_ai)}) but the "
                f"output's credentials do not say so (AI: {r.ai_generated.value})",
                r.path,
            )
        ]


@dataclass(frozen=True)
class RequireSourceIngredients:
    """Each declared source must be an ingredient of the output whose hash matches the
    actual source file: through its signed manifest (same active manifest), or through the
    SHA-256 recorded at signing."""

    name: str = "require-source-ingredients"
    layer: str = OUTPUT

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]:
        r = ctx.output
        if r is None:
            return _no_output(self)
        m = r.manifest
        out = []
        for src, digest in zip(ctx.sources, ctx.source_hashes, strict=True):
            if m is None:
                out.append(
                    _outcome(
                        self,
                        False,
                        f"source {src.path} cannot be linked: the output has no credentials",
                        src.path,
                    )
                )
                continue
            linked_manifest = src.manifest is not None and any(
                i.manifest is not None
                and i.manifest.label == src.manifest.label
                and i.status in ("valid", "untrusted")
                for i in m.ingredients
            )
            linked_hash = any(h == digest for _, h in m.ingredient_hashes)
            if linked_hash or linked_manifest:
                how = "its SHA-256 is recorded" if linked_hash else "its manifest is an ingredient"
                out.append(
                    _outcome(
                        self,
                        True,
                        f"source {src.path} is an ingredient of the output ({how})",
                        src.path,
                    )
                )
            else:
                out.append(
                    _outcome(
                        self,
                        False,
                        f"source {src.path} is not an ingredient of "
                        "the output (no ingredient with a matching hash or "
                        "manifest)",
                        src.path,
                    )
                )
        return out


@dataclass(frozen=True)
class RequireTrustedTimestamp:
    name: str = "require-trusted-timestamp"
    layer: str = OUTPUT

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]:
        r = ctx.output
        if r is None:
            return _no_output(self)
        ts = r.manifest.timestamp if r.manifest else None
        ok = ts is not None and ts.trusted is True
        return [
            _outcome(
                self,
                ok,
                f"the output has a trusted timestamp ({ts.time})"
                if ok and ts
                else "the output has no timestamp from a trusted TSA",
                r.path,
            )
        ]


def _parse_age(text: str | int | float) -> dt.timedelta:
    if isinstance(text, int | float):
        return dt.timedelta(seconds=float(text))
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", str(text))
    if not m:
        raise PolicyError(f"max_signature_age {text!r}: use e.g. '90s', '15m', '12h', '30d', '2w'")
    unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m.group(2)]
    return dt.timedelta(seconds=float(m.group(1)) * unit)


@dataclass(frozen=True)
class MaxSignatureAge:
    max_age: dt.timedelta
    name: str = "max-signature-age"
    layer: str = OUTPUT

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]:
        r = ctx.output
        if r is None:
            return _no_output(self)
        ts = r.manifest.timestamp if r.manifest else None
        if ts is None or ts.time is None:
            return [
                _outcome(self, False, "the output's signing time is unknown (no timestamp)", r.path)
            ]
        try:
            when = dt.datetime.fromisoformat(ts.time.replace("Z", "+00:00"))
        except ValueError:
            return [_outcome(self, False, f"unreadable signing time {ts.time!r}", r.path)]
        age = ctx.now - when
        ok = age <= self.max_age
        return [
            _outcome(
                self,
                ok,
                f"signed {age.total_seconds() / 3600:.1f} h ago "
                f"({'within' if ok else 'beyond'} the {self.max_age} limit)",
                r.path,
            )
        ]


# ---------------------------------------------------------------------------
# policies


@dataclass(frozen=True)
class Policy:
    """Rules per layer. Build it in code or load it from TOML."""

    input: tuple[Rule, ...] = (RefuseTamperedSources(),)
    prompt: tuple[Rule, ...] = ()
    output: tuple[Rule, ...] = (RefuseTamperedOrInvalid(),)
    ai_made: bool = False

    @property
    def root(self) -> AllOf:
        return AllOf(*self.input, *self.prompt, *self.output, name="policy")

    def needs_fingerprints(self) -> tuple[str, ...]:
        fps: list[str] = []
        for rule in self.output:
            if isinstance(rule, AllowedSigners):
                fps.extend(rule.fingerprints)
        return tuple(fps)

    @classmethod
    def from_toml(
        cls, path: str | Path, evaluators: Mapping[str, Callable[[str], Any]] | None = None
    ) -> Policy:
        p = Path(path)
        try:
            doc = tomllib.loads(p.read_text(encoding="utf-8"))
        except OSError as exc:
            raise PolicyError(f"{p}: cannot read policy: {exc.strerror or exc}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise PolicyError(f"{p}: not valid TOML: {exc}") from None
        try:
            return cls.from_mapping(doc, evaluators=evaluators)
        except PolicyError as exc:
            raise PolicyError(f"{p}: {exc}") from None

    @classmethod
    def from_mapping(
        cls, doc: Mapping[str, Any], evaluators: Mapping[str, Callable[[str], Any]] | None = None
    ) -> Policy:
        unknown = set(doc) - {"input", "prompt", "output"}
        if unknown:
            raise PolicyError(f"unknown section(s): {', '.join(sorted(unknown))}")
        sec_in = _section(doc, "input", {"refuse_tampered", "require_credentials"})
        sec_pr = _section(
            doc,
            "prompt",
            {"blocked_terms", "blocked_patterns", "max_length", "min_length", "evaluators"},
        )
        sec_out = _section(
            doc,
            "output",
            {
                "require_credentials",
                "require_trusted",
                "require_ai_label",
                "require_source_ingredients",
                "require_trusted_timestamp",
                "max_signature_age",
                "allowed_signer_fingerprints",
                "allowed_signer_subjects",
                "allowed_signer_issuers",
                "refuse_tampered",
                "ai_made",
            },
        )
        inp: list[Rule] = []
        if _flag(sec_in, "refuse_tampered", True):
            inp.append(RefuseTamperedSources())
        if _flag(sec_in, "require_credentials", False):
            inp.append(RequireSourceCredentials())
        pr: list[Rule] = []
        terms = _strings(sec_pr, "blocked_terms")
        if terms:
            pr.append(BlockedTerms(terms))
        patterns = _strings(sec_pr, "blocked_patterns")
        if patterns:
            pr.append(BlockedPatterns(patterns))
        if "max_length" in sec_pr or "min_length" in sec_pr:
            pr.append(PromptLength(_int(sec_pr, "max_length"), _int(sec_pr, "min_length")))
        for name in _strings(sec_pr, "evaluators"):
            pr.append(PromptEvaluatorRule(_load_evaluator(name, evaluators), name=name))
        out: list[Rule] = []
        if _flag(sec_out, "refuse_tampered", True):
            out.append(RefuseTamperedOrInvalid())
        if _flag(sec_out, "require_credentials", False):
            out.append(RequireCredentials())
        if _flag(sec_out, "require_trusted", False):
            out.append(RequireTrusted())
        fps = tuple(
            f.replace(":", "").lower() for f in _strings(sec_out, "allowed_signer_fingerprints")
        )
        for f in fps:
            if not re.fullmatch(r"[0-9a-f]{64}", f):
                raise PolicyError(
                    f"allowed_signer_fingerprints: {f!r} is not a SHA-256 hex fingerprint"
                )
        subjects = _strings(sec_out, "allowed_signer_subjects")
        issuers = _strings(sec_out, "allowed_signer_issuers")
        if fps or subjects or issuers:
            out.append(AllowedSigners(fps, subjects, issuers))
        if _flag(sec_out, "require_ai_label", False):
            out.append(RequireAILabel())
        if _flag(sec_out, "require_source_ingredients", False):
            out.append(RequireSourceIngredients())
        if _flag(sec_out, "require_trusted_timestamp", False):
            out.append(RequireTrustedTimestamp())
        if "max_signature_age" in sec_out:
            out.append(MaxSignatureAge(_parse_age(sec_out["max_signature_age"])))
        return cls(tuple(inp), tuple(pr), tuple(out), ai_made=_flag(sec_out, "ai_made", False))


def _section(doc: Mapping[str, Any], name: str, keys: set[str]) -> Mapping[str, Any]:
    sec = doc.get(name, {})
    if not isinstance(sec, Mapping):
        raise PolicyError(f"[{name}] must be a table")
    unknown = set(sec) - keys
    if unknown:
        raise PolicyError(
            f"[{name}] has unknown key(s): {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(keys))})"
        )
    return sec


def _flag(sec: Mapping[str, Any], key: str, default: bool) -> bool:
    v = sec.get(key, default)
    if not isinstance(v, bool):
        raise PolicyError(f"{key} must be true or false")
    return v


def _int(sec: Mapping[str, Any], key: str) -> int | None:
    v = sec.get(key)
    if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
        raise PolicyError(f"{key} must be a non-negative integer")
    return v


def _strings(sec: Mapping[str, Any], key: str) -> tuple[str, ...]:
    v = sec.get(key, [])
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise PolicyError(f"{key} must be a list of strings")
    return tuple(v)


EVALUATOR_GROUP = "provcheck.prompt_evaluators"


def _load_evaluator(
    name: str, given: Mapping[str, Callable[[str], Any]] | None
) -> Callable[[str], Any]:
    if given and name in given:
        return given[name]
    for ep in metadata.entry_points(group=EVALUATOR_GROUP):
        if ep.name == name:
            try:
                fn = ep.load()
            except Exception as exc:
                raise PolicyError(f"prompt evaluator {name!r} could not be loaded: {exc}") from None
            if not callable(fn):
                raise PolicyError(f"prompt evaluator {name!r} is not callable")
            return fn  # type: ignore[no-any-return]
    raise PolicyError(
        f"prompt evaluator {name!r} is neither passed in nor installed as an "
        f"entry point in group {EVALUATOR_GROUP!r}"
    )


# ---------------------------------------------------------------------------
# the gate


def gate(
    output: str | Path | None,
    *,
    policy: Policy,
    trust: TrustConfig | None = None,
    sources: Sequence[str | Path] = (),
    prompt: str | None = None,
    ai_made: bool = False,
    evaluators: Iterable[Callable[[str], Any]] = (),
    now: dt.datetime | None = None,
) -> Decision:
    """Run the three layers: (1) verify and check each source, (2) evaluate the prompt with
    the policy's rules and any extra ``evaluators``, (3) verify and check the output."""
    from .sign import sha256_file
    from .verify import Verifier

    trust = trust if trust is not None else TrustConfig()
    with Verifier(trust) as verifier:
        source_reports = tuple(verifier.verify(s) for s in sources)
        output_report = verifier.verify(output) if output is not None else None
    hashes = tuple(_safe_sha256(sha256_file, s) for s in sources)
    fp_match = None
    fps = policy.needs_fingerprints()
    if (
        fps
        and output is not None
        and output_report is not None
        and output_report.manifest is not None
    ):
        fp_match = _signer_fingerprint_on_list(output, fps)
    ctx = GateContext(
        output=output_report,
        sources=source_reports,
        source_hashes=hashes,
        prompt=prompt,
        ai_made=ai_made or policy.ai_made,
        now=now or dt.datetime.now(dt.UTC),
        signer_fingerprint_match=fp_match,
    )
    rules: list[Rule] = [
        *policy.input,
        *policy.prompt,
        *[PromptEvaluatorRule(fn, name=getattr(fn, "__name__", "evaluator")) for fn in evaluators],
        *policy.output,
    ]
    outcomes = AllOf(*rules).evaluate(ctx)
    if prompt is None and (policy.prompt or evaluators):
        outcomes.append(
            RuleOutcome(
                "prompt", PROMPT, True, "no prompt given: the prompt rules were not evaluated"
            )
        )
    passed = all(o.passed for o in outcomes)
    return Decision(passed, tuple(outcomes), output_report, source_reports)


def _safe_sha256(fn: Callable[[str | Path], str], path: str | Path) -> str:
    try:
        return fn(path)
    except OSError:
        return ""


def _signer_fingerprint_on_list(output: str | Path, fingerprints: Sequence[str]) -> bool:
    """Ask the C2PA library itself whether the output's signing certificate has one of these
    SHA-256 fingerprints: the allowed list accepts base64 SHA-256 lines."""
    import base64

    from . import _c2pa

    lines = "\n".join(base64.b64encode(bytes.fromhex(f)).decode("ascii") for f in fingerprints)
    return _c2pa.check_allowed_hashes(str(output), lines + "\n")
