"""Layer 2, the prompt: block lists (folded before matching), patterns (with a time
limit), length, and pluggable evaluators."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import regex  # type: ignore[import-untyped]

from .core import PolicyError, PromptRule, RuleOutcome
from .textfold import TermMatcher, fold_for_patterns

__all__ = [
    "BlockedPatterns",
    "BlockedTerms",
    "PromptEvaluator",
    "PromptEvaluatorRule",
    "PromptLength",
]

PromptEvaluator = Callable[[str], "bool | tuple[bool, str]"]


def _check_strings(what: str, value: object) -> None:
    # A bare string would be taken letter by letter.
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):  # type: ignore[attr-defined]
        raise PolicyError(f"{what} must be a tuple of strings, not {value!r}")


@dataclass(frozen=True)
class BlockedTerms(PromptRule):
    """Refuses a prompt that contains one of ``terms``. Both sides are folded first
    (``textfold``): case, compatibility forms, accents, invisible characters, Latin
    look-alikes, separators between and inside words, simple plurals."""

    NAME: ClassVar[str] = "blocked-terms"
    terms: tuple[str, ...]
    _matcher: TermMatcher = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_strings("blocked terms", self.terms)
        try:
            object.__setattr__(self, "_matcher", TermMatcher(self.terms))
        except ValueError as exc:
            raise PolicyError(str(exc)) from None

    def check_prompt(self, prompt: str) -> Iterable[RuleOutcome]:
        hits = self._matcher.find(prompt)
        if hits:
            listed = ", ".join(repr(h) for h in hits)
            yield self.outcome(False, f"the prompt contains blocked term(s): {listed}", "prompt")
        else:
            yield self.outcome(True, "no blocked term in the prompt", "prompt")


@dataclass(frozen=True)
class BlockedPatterns(PromptRule):
    """Refuses a prompt matching one of ``patterns`` (regular expressions, ``regex``
    module syntax, a superset of ``re``), tried on the prompt as written and on its folded
    form (``fold_for_patterns``). All matching shares a budget of ``timeout`` seconds:
    a pattern that backtracks without end refuses the prompt instead of hanging the gate."""

    NAME: ClassVar[str] = "blocked-patterns"
    patterns: tuple[str, ...]
    timeout: float = 2.0
    _compiled: tuple[Any, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_strings("blocked patterns", self.patterns)
        compiled = []
        for p in self.patterns:
            try:
                compiled.append(regex.compile(p))
            except (regex.error, TypeError, ValueError) as exc:
                raise PolicyError(f"blocked pattern {p!r} is not a valid regex: {exc}") from None
        if not self.timeout > 0:
            raise PolicyError("blocked patterns need a positive time limit")
        object.__setattr__(self, "_compiled", tuple(compiled))

    def check_prompt(self, prompt: str) -> Iterable[RuleOutcome]:
        texts = dict.fromkeys((prompt, fold_for_patterns(prompt)))  # once each, in order
        deadline = time.monotonic() + self.timeout
        hits = []
        for pattern, compiled in zip(self.patterns, self._compiled, strict=True):
            for text in texts:
                left = deadline - time.monotonic()
                try:
                    if left <= 0:
                        raise TimeoutError
                    found = compiled.search(text, timeout=left) is not None
                except TimeoutError:
                    yield self.outcome(
                        False,
                        f"blocked pattern {pattern!r} did not finish within {self.timeout:g} s "
                        "on this prompt (it backtracks too much): the prompt is refused",
                        "prompt",
                    )
                    return
                if found:
                    hits.append(pattern)
                    break
        if hits:
            listed = ", ".join(repr(h) for h in hits)
            yield self.outcome(False, f"the prompt matches blocked pattern(s): {listed}", "prompt")
        else:
            yield self.outcome(True, "no blocked pattern in the prompt", "prompt")


@dataclass(frozen=True)
class PromptLength(PromptRule):
    NAME: ClassVar[str] = "prompt-length"
    max_length: int | None = None
    min_length: int | None = None

    def check_prompt(self, prompt: str) -> Iterable[RuleOutcome]:
        n = len(prompt)
        if self.max_length is not None and n > self.max_length:
            why = f"the prompt has {n} characters, more than {self.max_length}"
            yield self.outcome(False, why, "prompt")
        elif self.min_length is not None and n < self.min_length:
            why = f"the prompt has {n} characters, fewer than {self.min_length}"
            yield self.outcome(False, why, "prompt")
        else:
            yield self.outcome(True, f"the prompt length ({n}) is within limits", "prompt")


@dataclass(frozen=True)
class PromptEvaluatorRule(PromptRule):
    """A pluggable evaluator (e.g. a classifier): ``fn(prompt) -> bool | (bool, reason)``."""

    NAME: ClassVar[str] = "prompt-evaluator"
    fn: Callable[[str], Any]

    def check_prompt(self, prompt: str) -> Iterable[RuleOutcome]:
        try:
            result = self.fn(prompt)
        except Exception as exc:  # a broken evaluator refuses; it never lets a prompt through
            why = f"evaluator {self.name} failed: {type(exc).__name__}: {exc}"
            yield self.outcome(False, why, "prompt")
            return
        if isinstance(result, tuple):
            ok, reason = bool(result[0]), str(result[1])
        else:
            ok = bool(result)
            reason = f"evaluator {self.name} " + ("accepted" if ok else "refused") + " the prompt"
        yield self.outcome(ok, reason, "prompt")
