"""The policy framework: outcomes, the context rules look at, the rule bases, all-of / any-of.

Every rule is a small frozen object with a ``name``, a ``layer`` and
``evaluate(ctx) -> list[RuleOutcome]``. An empty list means "not applicable" (no prompt
was given, there are no sources); it is neither a pass nor a failure. The layer bases
(``SourceRule``, ``PromptRule``, ``OutputRule``) decide applicability in one place, so a
rule only says what it checks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from ..errors import ProvenanceError
from ..model import CLAIMS_UNVERIFIED, Report

__all__ = [
    "INPUT",
    "PROMPT",
    "OUTPUT",
    "AllOf",
    "AnyOf",
    "Decision",
    "GateContext",
    "OutputRule",
    "PolicyError",
    "PolicyRefused",
    "PromptRule",
    "Rule",
    "RuleBase",
    "RuleOutcome",
    "SourceRule",
]

INPUT, PROMPT, OUTPUT = "input", "prompt", "output"


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


@dataclass(frozen=True)
class GateContext:
    """Everything the rules may look at.

    ``signer_fingerprint_in(fps)`` answers whether the output's signing certificate has one
    of these SHA-256 fingerprints; the gate supplies it (asked lazily, once per list), so a
    rule gets it wherever it sits in the tree.
    """

    output: Report | None
    sources: tuple[Report, ...] = ()
    source_hashes: tuple[str, ...] = ()  # SHA-256 of each source file, same order
    prompt: str | None = None
    ai_made: bool = False  # declared by the caller
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    signer_fingerprint_in: Callable[[Sequence[str]], bool] | None = field(
        default=None, repr=False, compare=False
    )


@runtime_checkable
class Rule(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def layer(self) -> str: ...

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]: ...


# ---------------------------------------------------------------------------
# rule bases


@dataclass(frozen=True)
class RuleBase:
    """Common base: ``NAME`` is the default name (``name=`` overrides it per instance)."""

    NAME: ClassVar[str] = "rule"
    layer: ClassVar[str] = "policy"
    name: str = field(default="", kw_only=True)

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.NAME)

    def outcome(self, passed: bool, reason: str, subject: str | None = None) -> RuleOutcome:
        return RuleOutcome(self.name, self.layer, passed, reason, subject)

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]:
        raise NotImplementedError


@dataclass(frozen=True)
class SourceRule(RuleBase):
    """An input-layer rule: one outcome per source."""

    layer: ClassVar[str] = INPUT

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]:
        return [self.check_source(src) for src in ctx.sources]

    def check_source(self, src: Report) -> RuleOutcome:
        raise NotImplementedError


@dataclass(frozen=True)
class PromptRule(RuleBase):
    """A prompt-layer rule: not applicable when no prompt was given."""

    layer: ClassVar[str] = PROMPT

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]:
        if ctx.prompt is None:
            return []
        return list(self.check_prompt(ctx.prompt))

    def check_prompt(self, prompt: str) -> Iterable[RuleOutcome]:
        raise NotImplementedError


@dataclass(frozen=True)
class OutputRule(RuleBase):
    """An output-layer rule: fails when no output was checked; a rule that reads the
    manifest's claims (``READS_CLAIMS``) fails when they come from a tampered or invalid
    manifest, since such claims are not verified."""

    layer: ClassVar[str] = OUTPUT
    READS_CLAIMS: ClassVar[bool] = False

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]:
        r = ctx.output
        if r is None:
            return [self.outcome(False, "no output was checked")]
        if self.READS_CLAIMS and r.claims == CLAIMS_UNVERIFIED:
            return [
                self.outcome(
                    False,
                    f"the output is {r.verdict.value}: what its credentials claim is not "
                    f"verified ({r.reason})",
                    r.path,
                )
            ]
        return list(self.check_output(r, ctx))

    def check_output(self, r: Report, ctx: GateContext) -> Iterable[RuleOutcome]:
        raise NotImplementedError


# ---------------------------------------------------------------------------
# combinators


def _rules(kind: str, rules: tuple[object, ...]) -> tuple[Rule, ...]:
    if not rules:
        raise PolicyError(f"{kind}() needs at least one rule: an empty {kind} would pass anything")
    for r in rules:
        if not isinstance(r, Rule):
            raise PolicyError(f"{kind}(): {r!r} is not a rule")
    return rules  # type: ignore[return-value]


@dataclass(frozen=True, init=False)
class AllOf:
    """Passes when every rule passes; all outcomes are reported."""

    rules: tuple[Rule, ...]
    name: str = "all-of"
    layer: str = "policy"

    def __init__(self, *rules: Rule, name: str = "all-of") -> None:
        object.__setattr__(self, "rules", _rules("AllOf", rules))
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "layer", _common_layer(self.rules))

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]:
        out: list[RuleOutcome] = []
        for rule in self.rules:
            out.extend(rule.evaluate(ctx))
        return out


@dataclass(frozen=True, init=False)
class AnyOf:
    """Passes when at least one alternative passes; then the others' failures are
    informational. An alternative with no outcome (not applicable: no prompt, no sources)
    does not count as holding; when no alternative applies, neither does the any-of."""

    rules: tuple[Rule, ...]
    name: str = "any-of"
    layer: str = "policy"

    def __init__(self, *rules: Rule, name: str = "any-of") -> None:
        object.__setattr__(self, "rules", _rules("AnyOf", rules))
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "layer", _common_layer(self.rules))

    def evaluate(self, ctx: GateContext) -> list[RuleOutcome]:
        groups = [g for g in (rule.evaluate(ctx) for rule in self.rules) if g]
        if not groups:
            return []
        ok = any(all(o.passed for o in g) for g in groups)
        detail = "; ".join(o.reason for g in groups for o in g if not o.passed)
        reason = (
            "one of the alternatives holds" if ok else f"none of the alternatives holds: {detail}"
        )
        return [RuleOutcome(self.name, self.layer, ok, reason)]


def _common_layer(rules: tuple[Rule, ...]) -> str:
    layers = {r.layer for r in rules}
    return layers.pop() if len(layers) == 1 else "policy"
