"""``Policy`` (rules per layer) and the one table that maps TOML keys to rule factories.

Each section of a policy file is read through ``SECTIONS``: an entry names its keys, how
each value is checked, the rule(s) it builds, and its default at the top of the section.
An ``any_of`` array of tables, in any section and at any depth, builds an ``AnyOf`` whose
alternatives are read through the same table (without defaults)::

    [output]
    require_credentials = true

    [[output.any_of]]                 # passes when one alternative passes
    require_trusted = true

    [[output.any_of]]
    allowed_signer_fingerprints = ["<sha256 hex>"]
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from .core import AllOf, AnyOf, PolicyError, Rule
from .files import MAX_POLICY_BYTES, read_text_file
from .inputs import RefuseTamperedSources, RequireSourceCredentials
from .output import (
    AllowedAIActions,
    AllowedSigners,
    MaxAIShare,
    MaxSignatureAge,
    RefuseTamperedOrInvalid,
    RequireAILabel,
    RequireAILabelIfAIMade,
    RequireCredentials,
    RequireDeclaredAIParts,
    RequireSourceIngredients,
    RequireTrusted,
    RequireTrustedTimestamp,
)
from .prompt import BlockedPatterns, BlockedTerms, PromptEvaluatorRule, PromptLength

__all__ = ["EVALUATOR_GROUP", "SECTIONS", "Entry", "Policy", "parse_age"]

EVALUATOR_GROUP = "provcheck.prompt_evaluators"
Evaluators = Mapping[str, Callable[[str], Any]]
Build = Callable[[Mapping[str, Any], Evaluators], list[Rule]]


@dataclass(frozen=True)
class Policy:
    """Rules per layer. Build it in code or load it from TOML."""

    input: tuple[Rule, ...] = (RefuseTamperedSources(),)
    prompt: tuple[Rule, ...] = ()
    output: tuple[Rule, ...] = (RefuseTamperedOrInvalid(),)
    ai_made: bool = False

    def __post_init__(self) -> None:
        for layer in ("input", "prompt", "output"):
            for rule in getattr(self, layer):
                if not isinstance(rule, Rule):
                    raise PolicyError(f"Policy({layer}=...): {rule!r} is not a rule")
        if not (self.input or self.prompt or self.output):
            raise PolicyError("the policy has no rules: it would pass anything")

    @property
    def root(self) -> AllOf:
        return AllOf(*self.input, *self.prompt, *self.output, name="policy")

    def walk(self) -> Iterator[Rule]:
        """Every rule in the policy, combinators and the rules inside them, depth first."""

        def visit(rule: Rule) -> Iterator[Rule]:
            yield rule
            for child in getattr(rule, "rules", ()):
                yield from visit(child)

        for rule in (*self.input, *self.prompt, *self.output):
            yield from visit(rule)

    @classmethod
    def from_toml(
        cls, path: str | os.PathLike[str], evaluators: Evaluators | None = None
    ) -> Policy:
        name = os.fspath(path)
        text = read_text_file(name, what="policy", limit=MAX_POLICY_BYTES)
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"{name}: not valid TOML: {exc}") from None
        try:
            return cls.from_mapping(doc, evaluators=evaluators)
        except PolicyError as exc:
            raise PolicyError(f"{name}: {exc}") from None

    @classmethod
    def from_mapping(cls, doc: Mapping[str, Any], evaluators: Evaluators | None = None) -> Policy:
        unknown = set(doc) - set(SECTIONS)
        if unknown:
            raise PolicyError(f"unknown section(s): {', '.join(sorted(unknown))}")
        layers: dict[str, tuple[Rule, ...]] = {}
        for section in SECTIONS:
            table = doc.get(section, {})
            if not isinstance(table, Mapping):
                raise PolicyError(f"[{section}] must be a table")
            layers[section] = tuple(_read(section, table, evaluators or {}, top=True))
        out = doc.get("output", {})
        return cls(
            layers["input"],
            layers["prompt"],
            layers["output"],
            ai_made=_bool("ai_made", out.get("ai_made", False)),
        )


# ---------------------------------------------------------------------------
# value checks: each names its key


def _bool(key: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise PolicyError(f"{key} must be true or false, not {v!r}")
    return v


def _count(key: str, v: Any) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise PolicyError(f"{key} must be a non-negative integer, not {v!r}")
    return v


def _strings(key: str, v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise PolicyError(f"{key} must be a list of strings")
    return tuple(v)


def _fingerprints(key: str, v: Any) -> tuple[str, ...]:
    fps = tuple(f.replace(":", "").lower() for f in _strings(key, v))
    for f in fps:
        if not re.fullmatch(r"[0-9a-f]{64}", f):
            raise PolicyError(f"{key}: {f!r} is not a SHA-256 hex fingerprint")
    return fps


_AGE_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_age(value: Any, key: str = "max_signature_age") -> dt.timedelta:
    """A duration: seconds as a number, or text such as '90s', '15m', '12h', '30d', '2w'.
    Finite, not negative, not beyond what a date can hold; ``true`` is not a number."""
    hint = "use e.g. '90s', '15m', '12h', '30d', '2w' or a number of seconds"
    if isinstance(value, bool):
        raise PolicyError(f"{key} must be a duration, not {value!r}: {hint}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", value)
        if not m:
            raise PolicyError(f"{key} {value!r} is not a duration: {hint}")
        seconds = float(m.group(1)) * _AGE_UNITS[m.group(2)]
    else:
        raise PolicyError(f"{key} must be a duration, not {value!r}: {hint}")
    if not math.isfinite(seconds):
        raise PolicyError(f"{key} {value!r} is not a finite duration")
    if seconds < 0:
        raise PolicyError(f"{key} {value!r} is negative")
    try:
        return dt.timedelta(seconds=seconds)
    except OverflowError:
        raise PolicyError(f"{key} {value!r} is too large for a date") from None


def _age(key: str, v: Any) -> dt.timedelta:
    return parse_age(v, key)


def _share(key: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
        raise PolicyError(f"{key} must be a share of the timeline from 0 to 1, not {v!r}")
    return float(v)


def _ai_actions(key: str, v: Any) -> tuple[str, ...]:
    from ..parts import ACTION_WORDS

    names = _strings(key, v)
    for n in names:
        if n not in ACTION_WORDS and not re.fullmatch(r"[a-z][a-z0-9_]*(\.[A-Za-z0-9_]+)+", n):
            raise PolicyError(f"{key}: {n!r} is not a C2PA action (e.g. c2pa.placed)")
    return names


# ---------------------------------------------------------------------------
# the table: keys -> rule factories


@dataclass(frozen=True)
class Entry:
    """Keys read together (each with its check) and the rules they build. ``defaults`` apply
    at the top of a section only, never inside an ``any_of`` alternative."""

    keys: Mapping[str, Callable[[str, Any], Any]]
    build: Build
    defaults: Mapping[str, Any] = field(default_factory=dict)


def _when(
    key: str, factory: Callable[[], Rule]
) -> Callable[[Mapping[str, Any], Evaluators], list[Rule]]:
    return lambda v, _env: [factory()] if v.get(key) else []


def _flag(key: str, factory: Callable[[], Rule], default: bool = False) -> Entry:
    return Entry({key: _bool}, _when(key, factory), {key: default} if default else {})


def _signers(v: Mapping[str, Any], _env: Evaluators) -> list[Rule]:
    fps = v.get("allowed_signer_fingerprints", ())
    subjects = v.get("allowed_signer_subjects", ())
    issuers = v.get("allowed_signer_issuers", ())
    return [AllowedSigners(fps, subjects, issuers)] if fps or subjects or issuers else []


def _length(v: Mapping[str, Any], _env: Evaluators) -> list[Rule]:
    if "max_length" not in v and "min_length" not in v:
        return []
    return [PromptLength(v.get("max_length"), v.get("min_length"))]


def _evaluators(v: Mapping[str, Any], env: Evaluators) -> list[Rule]:
    names = v.get("evaluators", ())
    return [PromptEvaluatorRule(_load_evaluator(n, env), name=n) for n in names]


SECTIONS: dict[str, tuple[Entry, ...]] = {
    "input": (
        _flag("refuse_tampered", RefuseTamperedSources, default=True),
        _flag("require_credentials", RequireSourceCredentials),
    ),
    "prompt": (
        Entry(
            {"blocked_terms": _strings},
            lambda v, _e: [BlockedTerms(v["blocked_terms"])] if v.get("blocked_terms") else [],
        ),
        Entry(
            {"blocked_patterns": _strings},
            lambda v, _e: (
                [BlockedPatterns(v["blocked_patterns"])] if v.get("blocked_patterns") else []
            ),
        ),
        Entry({"max_length": _count, "min_length": _count}, _length),
        Entry({"evaluators": _strings}, _evaluators),
    ),
    "output": (
        _flag("refuse_tampered", RefuseTamperedOrInvalid, default=True),
        _flag("require_credentials", RequireCredentials),
        _flag("require_trusted", RequireTrusted),
        Entry(
            {
                "allowed_signer_fingerprints": _fingerprints,
                "allowed_signer_subjects": _strings,
                "allowed_signer_issuers": _strings,
            },
            _signers,
        ),
        _flag("require_ai_label", RequireAILabel),
        _flag("require_ai_label_if_ai_made", RequireAILabelIfAIMade),
        _flag("require_source_ingredients", RequireSourceIngredients),
        _flag("require_trusted_timestamp", RequireTrustedTimestamp),
        Entry(
            {"allowed_ai_actions": _ai_actions},
            lambda v, _e: (
                [AllowedAIActions(v["allowed_ai_actions"])] if "allowed_ai_actions" in v else []
            ),
        ),
        Entry(
            {"max_ai_share": _share},
            lambda v, _e: [MaxAIShare(v["max_ai_share"])] if "max_ai_share" in v else [],
        ),
        _flag("require_declared_ai_parts", RequireDeclaredAIParts),
        Entry(
            {"max_signature_age": _age},
            lambda v, _e: (
                [MaxSignatureAge(v["max_signature_age"])] if "max_signature_age" in v else []
            ),
        ),
    ),
}
# Keys that are not rules: read by ``Policy.from_mapping`` at the top of a section.
_SETTINGS: dict[str, dict[str, Callable[[str, Any], Any]]] = {"output": {"ai_made": _bool}}
_ANY_OF = "any_of"


def _read(section: str, table: Mapping[str, Any], env: Evaluators, *, top: bool) -> list[Rule]:
    entries = SECTIONS[section]
    settings = _SETTINGS.get(section, {}) if top else {}
    known = {k for e in entries for k in e.keys} | set(settings) | {_ANY_OF}
    where = f"[{section}]" if top else f"an [[{section}.any_of]] alternative"
    unknown = set(table) - known
    if unknown:
        raise PolicyError(
            f"{where} has unknown key(s): {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(known))})"
        )
    for key, check in settings.items():
        if key in table:
            check(key, table[key])
    rules: list[Rule] = []
    for entry in entries:
        values = {k: check(k, table[k]) for k, check in entry.keys.items() if k in table}
        if top:
            values = {**entry.defaults, **values}
        rules += entry.build(values, env)
    if _ANY_OF in table:
        rules.append(_any_of(section, table[_ANY_OF], env))
    return rules


def _any_of(section: str, value: Any, env: Evaluators) -> Rule:
    if not isinstance(value, list) or not all(isinstance(t, Mapping) for t in value):
        raise PolicyError(f"[{section}] any_of must be an array of tables ([[{section}.any_of]])")
    if not value:
        raise PolicyError(f"[{section}] any_of is empty: an empty any-of would pass anything")
    alternatives: list[Rule] = []
    for i, table in enumerate(value, 1):
        rules = _read(section, table, env, top=False)
        if not rules:
            raise PolicyError(
                f"[{section}] any_of alternative {i} has no rules: it would pass anything"
            )
        alternatives.append(rules[0] if len(rules) == 1 else AllOf(*rules))
    return AnyOf(*alternatives)


def _load_evaluator(name: str, given: Evaluators) -> Callable[[str], Any]:
    if name in given:
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
