"""Layer 3, the output check: what the generated file's credentials say."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from ..model import AIGeneration, Manifest, Report, Verdict
from .core import GateContext, OutputRule, RuleOutcome

__all__ = [
    "AI_LABELS",
    "AllowedAIActions",
    "MaxAIShare",
    "RequireDeclaredAIParts",
    "AllowedSigners",
    "MaxSignatureAge",
    "RefuseTamperedOrInvalid",
    "RequireAILabel",
    "RequireAILabelIfAIMade",
    "RequireCredentials",
    "RequireSourceIngredients",
    "RequireTrusted",
    "RequireTrustedTimestamp",
]

# What counts as an AI label on the output (the C2PA rubrics' generative values).
AI_LABELS = (AIGeneration.FULLY, AIGeneration.PARTLY, AIGeneration.POSSIBLY)
# What makes content AI-made for the conditional rule (a source or an ingredient).
_GENAI = (AIGeneration.FULLY, AIGeneration.PARTLY)


@dataclass(frozen=True)
class RequireCredentials(OutputRule):
    NAME: ClassVar[str] = "require-credentials"

    def check_output(self, r: Report, ctx: GateContext) -> Iterable[RuleOutcome]:
        ok = r.manifest is not None
        why = (
            "the output carries Content Credentials"
            if ok
            else f"the output carries no Content Credentials ({r.reason})"
        )
        return [self.outcome(ok, why, r.path)]


@dataclass(frozen=True)
class RequireTrusted(OutputRule):
    NAME: ClassVar[str] = "require-trusted"

    def check_output(self, r: Report, ctx: GateContext) -> Iterable[RuleOutcome]:
        ok = r.verdict is Verdict.TRUSTED
        why = (
            "the output's signer is trusted"
            if ok
            else f"the output is {r.verdict.value}, not trusted: {r.reason}"
        )
        return [self.outcome(ok, why, r.path)]


@dataclass(frozen=True)
class RefuseTamperedOrInvalid(OutputRule):
    NAME: ClassVar[str] = "refuse-tampered-or-invalid"

    def check_output(self, r: Report, ctx: GateContext) -> Iterable[RuleOutcome]:
        bad = r.verdict in (Verdict.TAMPERED, Verdict.INVALID, Verdict.ERROR)
        why = (
            f"the output is {r.verdict.value}: {r.reason}"
            if bad
            else "the output is neither tampered nor invalid"
        )
        return [self.outcome(not bad, why, r.path)]


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
class AllowedSigners(OutputRule):
    """The output's signer must be one of these: certificate SHA-256 fingerprints, subject
    names or issuer names. Names alone can be claimed by anyone, so a name only counts
    when the signer is also trusted; a fingerprint is checked by the C2PA library (through
    ``GateContext.signer_fingerprint_in``), and only for a manifest whose signature holds."""

    NAME: ClassVar[str] = "allowed-signers"
    READS_CLAIMS: ClassVar[bool] = True
    fingerprints: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    issuers: tuple[str, ...] = ()

    def check_output(self, r: Report, ctx: GateContext) -> Iterable[RuleOutcome]:
        s = r.signer
        if s is None:
            return [self.outcome(False, "the output has no signer", r.path)]
        if (
            self.fingerprints
            and ctx.signer_fingerprint_in is not None
            and ctx.signer_fingerprint_in(self.fingerprints)
        ):
            why = "the signing certificate's SHA-256 fingerprint is on the allowed list"
            return [self.outcome(True, why, r.path)]
        trusted = r.verdict is Verdict.TRUSTED
        if trusted:
            for pattern in self.subjects:
                if _dn_matches(pattern, s.common_name, s.organization):
                    why = f"the trusted signer matches allowed subject {pattern!r}"
                    return [self.outcome(True, why, r.path)]
            for issuer in self.issuers:
                if s.issuer == issuer:
                    why = f"the trusted signer was issued by allowed issuer {issuer!r}"
                    return [self.outcome(True, why, r.path)]
        why = f"signer {s.display()} is not an allowed signer"
        if not trusted and (self.subjects or self.issuers):
            why += " (names are only accepted from a trusted signer)"
        return [self.outcome(False, why, r.path)]


@dataclass(frozen=True)
class RequireAILabel(OutputRule):
    """The output's credentials must carry an AI label: generated fully, partly or possibly
    (``AI_LABELS``). For "only when the content is AI-made" use ``RequireAILabelIfAIMade``."""

    NAME: ClassVar[str] = "require-ai-label"
    READS_CLAIMS: ClassVar[bool] = True

    def check_output(self, r: Report, ctx: GateContext) -> Iterable[RuleOutcome]:
        if r.manifest is not None and r.ai_generated in AI_LABELS:
            why = f"the output is labelled AI-generated ({r.ai_generated.value})"
            return [self.outcome(True, why, r.path)]
        why = (
            f"the output carries no AI label: its credentials do not say so "
            f"(AI: {r.ai_generated.value})"
        )
        return [self.outcome(False, why, r.path)]


def _ai_in_chain(m: Manifest | None) -> bool:
    if m is None:
        return False
    return m.ai_generated in _GENAI or any(_ai_in_chain(i.manifest) for i in m.ingredients)


@dataclass(frozen=True)
class RequireAILabelIfAIMade(OutputRule):
    """When the content is AI-made — declared by the caller (``ai_made``), or implied by an
    AI-generated source or ingredient — the output's credentials must say so (fully or
    partly). Content not known to be AI-made passes."""

    NAME: ClassVar[str] = "require-ai-label-if-ai-made"
    READS_CLAIMS: ClassVar[bool] = True

    def check_output(self, r: Report, ctx: GateContext) -> Iterable[RuleOutcome]:
        if r.manifest is not None and r.ai_generated in _GENAI:
            why = f"the output is labelled AI-generated ({r.ai_generated.value})"
            return [self.outcome(True, why, r.path)]
        why_ai = ["declared AI-made"] if ctx.ai_made else []
        why_ai += [
            f"source {s.path} is AI-generated ({s.ai_generated.value})"
            for s in ctx.sources
            if s.ai_generated in _GENAI
        ]
        if r.manifest is not None and any(_ai_in_chain(i.manifest) for i in r.manifest.ingredients):
            why_ai.append("an ingredient is AI-generated")
        if not why_ai:
            return [self.outcome(True, "the content is not known to be AI-made", r.path)]
        why = (
            f"the content is AI-made ({'; '.join(why_ai)}) but the output's credentials do "
            f"not say so (AI: {r.ai_generated.value})"
        )
        return [self.outcome(False, why, r.path)]


@dataclass(frozen=True)
class RequireSourceIngredients(OutputRule):
    """Each declared source must be an ingredient of the output whose hash matches the
    actual source file: through its signed manifest (same active manifest), or through the
    SHA-256 recorded at signing."""

    NAME: ClassVar[str] = "require-source-ingredients"
    READS_CLAIMS: ClassVar[bool] = True

    def check_output(self, r: Report, ctx: GateContext) -> Iterable[RuleOutcome]:
        m = r.manifest
        for src, digest in zip(ctx.sources, ctx.source_hashes, strict=True):
            if m is None:
                why = f"source {src.path} cannot be linked: the output has no credentials"
                yield self.outcome(False, why, src.path)
                continue
            linked_manifest = src.manifest is not None and any(
                i.manifest is not None
                and i.manifest.label == src.manifest.label
                and i.status in ("valid", "untrusted")
                for i in m.ingredients
            )
            linked_hash = bool(digest) and any(h == digest for _, h in m.ingredient_hashes)
            if linked_hash or linked_manifest:
                how = "its SHA-256 is recorded" if linked_hash else "its manifest is an ingredient"
                yield self.outcome(
                    True, f"source {src.path} is an ingredient of the output ({how})", src.path
                )
            else:
                why = (
                    f"source {src.path} is not an ingredient of the output (no ingredient "
                    "with a matching hash or manifest)"
                )
                yield self.outcome(False, why, src.path)


@dataclass(frozen=True)
class RequireTrustedTimestamp(OutputRule):
    NAME: ClassVar[str] = "require-trusted-timestamp"
    READS_CLAIMS: ClassVar[bool] = True

    def check_output(self, r: Report, ctx: GateContext) -> Iterable[RuleOutcome]:
        ts = r.manifest.timestamp if r.manifest else None
        if ts is not None and ts.trusted is True:
            return [self.outcome(True, f"the output has a trusted timestamp ({ts.time})", r.path)]
        return [self.outcome(False, "the output has no timestamp from a trusted TSA", r.path)]


@dataclass(frozen=True)
class MaxSignatureAge(OutputRule):
    NAME: ClassVar[str] = "max-signature-age"
    READS_CLAIMS: ClassVar[bool] = True
    max_age: dt.timedelta

    def check_output(self, r: Report, ctx: GateContext) -> Iterable[RuleOutcome]:
        ts = r.manifest.timestamp if r.manifest else None
        if ts is None or ts.time is None:
            why = "the output's signing time is unknown (no timestamp)"
            return [self.outcome(False, why, r.path)]
        try:
            when = dt.datetime.fromisoformat(ts.time.replace("Z", "+00:00"))
        except ValueError:
            return [self.outcome(False, f"unreadable signing time {ts.time!r}", r.path)]
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        age = ctx.now - when
        ok = age <= self.max_age
        why = (
            f"signed {age.total_seconds() / 3600:.1f} h ago "
            f"({'within' if ok else 'beyond'} the {self.max_age} limit)"
        )
        return [self.outcome(ok, why, r.path)]


def _no_credentials(rule: OutputRule, r: Report) -> list[RuleOutcome]:
    why = f"the output carries no Content Credentials ({r.reason}): its AI parts are unknown"
    return [rule.outcome(False, why, r.path)]


# The AI made this (not a summary such as compositeWithTrainedAlgorithmicMedia, which says
# the content *contains* AI parts): what an allowed-actions rule judges.
_AI_MADE_SOURCE_TYPES = ("trainedAlgorithmicMedia", "trainedAlgorithmicData")


def _chain(m: Manifest | None) -> list[Manifest]:
    out: list[Manifest] = []
    todo = [m] if m is not None else []
    while todo:
        cur = todo.pop(0)
        if any(cur is seen for seen in out):
            continue
        out.append(cur)
        todo.extend(i.manifest for i in cur.ingredients if i.manifest is not None)
    return out


def _action_name(name: str) -> str:
    from ..parts import ACTION_WORDS

    return ACTION_WORDS.get(name, name)


@dataclass(frozen=True)
class AllowedAIActions(OutputRule):
    """Every AI-made part of the output, and every action anywhere in its chain that the AI
    performed on the whole (e.g. ``c2pa.created`` with trainedAlgorithmicMedia: a clip
    generated from scratch), must use one of these C2PA actions (``c2pa.placed``; the
    short words of the ``--ai-part`` syntax are accepted too)."""

    NAME: ClassVar[str] = "allowed-ai-actions"
    READS_CLAIMS: ClassVar[bool] = True
    actions: tuple[str, ...] = ()

    def check_output(self, r: Report, ctx: GateContext) -> Iterable[RuleOutcome]:
        if r.manifest is None:
            return _no_credentials(self, r)
        from ..labels import normalize_source_type
        from ..parts import describe_part

        allowed = {_action_name(a) for a in self.actions}
        listed = ", ".join(sorted(allowed)) or "none"
        failures: list[str] = []
        for part in r.ai_parts:
            if part.action not in allowed:
                failures.append(f"AI part '{describe_part(part)}' uses {part.action}")
        with_parts = {p.action for p in r.ai_parts}
        for m in _chain(r.manifest):
            for act in m.actions:
                dst = normalize_source_type(act.digital_source_type)
                if dst not in _AI_MADE_SOURCE_TYPES or act.action in allowed:
                    continue
                if act.action in with_parts and any(p.manifest == m.label for p in r.ai_parts):
                    continue  # already judged as a declared part above
                whole = " (the whole clip generated by AI)" if act.action == "c2pa.created" else ""
                failures.append(f"{act.action} with {dst}{whole} in manifest {m.title or m.label}")
        if failures:
            why = "; ".join(failures) + f": not an allowed AI action (allowed: {listed})"
            return [self.outcome(False, why, r.path)]
        if not r.ai_parts and r.ai_generated in _GENAI:
            why = "the output is AI-made but declares no AI actions to check"
            return [self.outcome(True, why, r.path)]
        return [self.outcome(True, f"every AI action is allowed ({listed})", r.path)]


def _duration(r: Report) -> float | None:
    if r.container is not None and r.container.duration_s:
        return r.container.duration_s
    from ..inspection import container_facts

    facts = container_facts(r.path)
    return facts.duration_s if facts is not None else None


@dataclass(frozen=True)
class MaxAIShare(OutputRule):
    """At most this share (0..1) of the output's timeline may be AI-made. A whole AI track
    (a dubbed audio track) or a fully generated clip covers all of it; AI content whose
    parts are not declared cannot be measured and is refused."""

    NAME: ClassVar[str] = "max-ai-share"
    READS_CLAIMS: ClassVar[bool] = True
    max_share: float = 1.0

    def check_output(self, r: Report, ctx: GateContext) -> Iterable[RuleOutcome]:
        if r.manifest is None:
            return _no_credentials(self, r)
        from ..parts import ai_share, describe_part

        limit = f"{self.max_share:.0%}"
        if r.ai_generated is AIGeneration.FULLY:
            share: float | None = 1.0
        elif r.ai_parts:
            share = ai_share(r.ai_parts, _duration(r))
        elif r.ai_generated in _GENAI:
            why = "the output is AI-made but declares no AI parts, so its AI share is unknown"
            return [self.outcome(False, why, r.path)]
        else:
            share = 0.0
        if share is None:
            why = "the output's duration is unknown, so its AI share cannot be measured"
            return [self.outcome(False, why, r.path)]
        ok = share <= self.max_share + 1e-9
        why = f"{share:.0%} of the timeline is AI-made ({'within' if ok else 'over'} {limit})"
        if not ok and r.ai_parts:
            why += ": " + "; ".join(describe_part(p) for p in r.ai_parts)
        elif not ok:
            why += ": the whole clip is AI-generated"
        return [self.outcome(ok, why, r.path)]


@dataclass(frozen=True)
class RequireDeclaredAIParts(OutputRule):
    """An output whose chain says AI (partly) must declare which parts are AI-made. A clip
    generated whole (``fully``) declares itself whole, and passes."""

    NAME: ClassVar[str] = "require-declared-ai-parts"
    READS_CLAIMS: ClassVar[bool] = True

    def check_output(self, r: Report, ctx: GateContext) -> Iterable[RuleOutcome]:
        if r.manifest is None:
            return _no_credentials(self, r)
        from ..parts import describe_part

        if r.ai_parts:
            why = "AI parts declared: " + "; ".join(describe_part(p) for p in r.ai_parts)
            return [self.outcome(True, why, r.path)]
        if r.ai_generated is AIGeneration.FULLY:
            return [self.outcome(True, "the whole clip is declared AI-generated", r.path)]
        if r.ai_generated in AI_LABELS:
            why = (
                f"the output's credentials say AI ({r.ai_generated.value}: {r.ai_reason}) "
                "but declare no AI-made parts"
            )
            return [self.outcome(False, why, r.path)]
        return [self.outcome(True, "the output is not labelled AI-made", r.path)]
