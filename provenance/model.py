"""Typed results shared by verification, signing, the CLI and policies.

Everything here is a frozen dataclass or an enum: a ``Report`` can be passed
around, compared and serialised, never mutated. ``to_dict`` gives the JSON
contract of DESIGN.md (``path``, ``verdict``, ``ai_generated``, ``signer``,
``status_codes`` and more).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._frozen import Value as _Value

__all__ = [
    "Verdict",
    "AIGeneration",
    "Signer",
    "Timestamp",
    "Action",
    "AIPart",
    "Problem",
    "Assertion",
    "Manifest",
    "Ingredient",
    "Identity",
    "ContainedWork",
    "Report",
    "ContainerFacts",
    "Recovered",
    "EXIT_CODES",
    "SIGNING_ALGORITHMS",
    "exit_code_for",
]

# How far a report's claims can be believed (Report.claims, JSON "claims").
CLAIMS_VERIFIED = "verified"
CLAIMS_UNVERIFIED = "unverified"  # claimed by a broken manifest, not verified
CLAIMS_NONE = "none"

# C2PA signing algorithms provcheck signs with (the native library's names).
SIGNING_ALGORITHMS = ("es256", "es384", "es512", "ps256", "ps384", "ps512", "ed25519")


class Verdict(enum.StrEnum):
    """The one verdict of one file (see DESIGN.md)."""

    TRUSTED = "trusted"
    UNTRUSTED = "untrusted"
    TAMPERED = "tampered"
    INVALID = "invalid"
    UNSIGNED = "unsigned"
    STRIPPED = "stripped"  # no manifest in the file, but a repository match recovers it
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


class AIGeneration(enum.StrEnum):
    """What the credentials say about generative AI, per the C2PA signal rubrics."""

    FULLY = "fully"
    PARTLY = "partly"
    POSSIBLY = "possibly"
    NO = "no"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value

    @property
    def strength(self) -> int:
        """Order used to pick the strongest signal: fully > partly > possibly > no > unknown."""
        return _AI_STRENGTH[self]


_AI_STRENGTH = {
    AIGeneration.UNKNOWN: 0,
    AIGeneration.NO: 1,
    AIGeneration.POSSIBLY: 2,
    AIGeneration.PARTLY: 3,
    AIGeneration.FULLY: 4,
}

# Exit codes of `provcheck FILE...`: the worst verdict among the files decides.
# 2 is click's usage error and never means a verdict.
EXIT_CODES: dict[Verdict, int] = {
    Verdict.TRUSTED: 0,
    Verdict.UNTRUSTED: 1,
    Verdict.UNSIGNED: 3,
    Verdict.STRIPPED: 3,
    Verdict.TAMPERED: 4,
    Verdict.INVALID: 4,
    Verdict.ERROR: 5,
}

# Which verdict "wins" when several files are checked at once (most alarming first).
_SEVERITY = [
    Verdict.TAMPERED,
    Verdict.INVALID,
    Verdict.ERROR,
    Verdict.UNSIGNED,
    Verdict.STRIPPED,
    Verdict.UNTRUSTED,
    Verdict.TRUSTED,
]


def exit_code_for(verdicts: list[Verdict]) -> int:
    """The exit code for a run over several files: 0 only when every one is trusted."""
    if not verdicts:
        return EXIT_CODES[Verdict.ERROR]
    worst = min(verdicts, key=_SEVERITY.index)
    return EXIT_CODES[worst]


# Frozen dataclasses whose __eq__, __hash__ and __repr__ come from _frozen.Value: the
# same as dataclass's own, without compiling them anew per class at import (issue 19).
@dataclass(frozen=True, eq=False, repr=False)
class Signer(_Value):
    """Who signed a manifest, from its signing certificate."""

    common_name: str | None
    organization: str | None
    issuer: str | None
    serial_number: str | None = None
    not_before: str | None = None
    not_after: str | None = None
    algorithm: str | None = None
    trust_list: str | None = None  # label of the trust list that vouched, when trusted

    def display(self) -> str:
        parts = [p for p in (self.common_name, self.organization) if p]
        name = ", ".join(dict.fromkeys(parts)) or "(unnamed certificate)"
        return f"{name} (issued by {self.issuer})" if self.issuer else name

    def to_dict(self) -> dict[str, Any]:
        return {
            "common_name": self.common_name,
            "organization": self.organization,
            "issuer": self.issuer,
            "serial_number": self.serial_number,
            "not_before": self.not_before,
            "not_after": self.not_after,
            "algorithm": self.algorithm,
            "trust_list": self.trust_list,
        }


@dataclass(frozen=True, eq=False, repr=False)
class Timestamp(_Value):
    """An RFC 3161 timestamp on a claim signature."""

    time: str | None
    authority: str | None
    trusted: bool | None  # None when the library did not judge the authority

    def to_dict(self) -> dict[str, Any]:
        return {"time": self.time, "authority": self.authority, "trusted": self.trusted}


@dataclass(frozen=True, eq=False, repr=False)
class Action(_Value):
    """One entry of a c2pa.actions assertion."""

    action: str
    digital_source_type: str | None = None
    software_agent: str | None = None
    when: str | None = None
    description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "digital_source_type": self.digital_source_type,
            "software_agent": self.software_agent,
            "when": self.when,
            "description": self.description,
        }


def _region_dict(region: tuple[float, float, float, float] | None) -> dict[str, float] | None:
    """A pixel rectangle as the JSON contract writes it (ai_parts, visible_labels)."""
    return dict(zip(("x", "y", "width", "height"), region, strict=True)) if region else None


@dataclass(frozen=True, eq=False, repr=False)
class AIPart(_Value):
    """One AI-made part of a clip, as a manifest declares it in an action's ``changes``:
    a time range, a spatial region (pixels) over a time range, or a whole track."""

    kind: str  # "time", "region" or "track"
    action: str  # c2pa.placed, c2pa.edited, c2pa.dubbed, c2pa.translated ...
    media: str | None = None  # "video" / "audio" when known
    start: float | None = None  # seconds from the start of the clip
    end: float | None = None
    region: tuple[float, float, float, float] | None = None  # x, y, width, height in pixels
    track: str | None = None  # "1" for audio track 1 (counted per kind, from 1)
    track_id: str | None = None  # the container's own track id (C2PA "identified" range)
    name: str | None = None  # the region of interest's name
    source_type: str | None = None  # digitalSourceType short name
    language: str | None = None  # target language (BCP 47) of a dub or translation
    source_language: str | None = None
    description: str | None = None
    manifest: str | None = None  # label of the manifest in the chain that declared it

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "action": self.action,
            "media": self.media,
            "start": self.start,
            "end": self.end,
            "region": _region_dict(self.region),
            "track": self.track,
            "track_id": self.track_id,
            "name": self.name,
            "source_type": self.source_type,
            "language": self.language,
            "source_language": self.source_language,
            "description": self.description,
            "manifest": self.manifest,
        }


@dataclass(frozen=True, eq=False, repr=False)
class VisibleLabelClaim(_Value):
    """A visible label burned into the picture, as a manifest records it (a
    ``c2pa.addedText`` action written by ``provenance.visible_label``)."""

    text: str
    manifest: str  # label of the manifest in the chain that recorded it
    signer: str | None = None  # that manifest's signer: common name, organisation
    software_agent: str | None = None
    position: str | None = None  # "top-left" ... or "x,y"
    start: float | None = None  # seconds
    end: float | None = None  # None: to the end of the clip
    region: tuple[float, float, float, float] | None = None  # x, y, width, height in pixels

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "manifest": self.manifest,
            "signer": self.signer,
            "software_agent": self.software_agent,
            "position": self.position,
            "start": self.start,
            "end": self.end,
            "region": _region_dict(self.region),
        }


@dataclass(frozen=True, eq=False, repr=False)
class Problem(_Value):
    """One validation failure, with its C2PA status code and words a person understands."""

    code: str
    message: str
    detail: str | None = None  # the library's own explanation
    where: str = "active manifest"  # or "ingredient <title>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "detail": self.detail,
            "where": self.where,
        }


@dataclass(frozen=True, eq=False, repr=False)
class Assertion(_Value):
    """One assertion of a manifest, as data: its label and its content, bounded in size
    (long strings cut, binary data summarised as its length), for ``--detailed`` views."""

    label: str
    data: Any = None  # JSON-ready value (dict / list / str / number / bool / None)
    truncated: bool = False  # True when parts of data were cut or summarised

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "data": self.data, "truncated": self.truncated}


@dataclass(frozen=True, eq=False, repr=False)
class Identity(_Value):
    """A CAWG identity assertion (``cawg.identity``): who the named actor is, as validated by
    the C2PA library. ``status``: ``verified`` (signature valid and the credential trusted,
    ``trusted_by`` says against what), ``signature valid, not trusted`` (the library checked
    the signature but no trust list vouches for the credential: the names are *claimed*),
    ``invalid`` (the library found it broken), ``not validated`` (the library did not
    validate it; ``reason`` says why)."""

    label: str  # cawg.identity, cawg.identity__1 ...
    credential: str  # "X.509 certificate", "identity claims aggregation", or the sig_type
    sig_type: str | None
    names: tuple[str, ...]  # the named actor(s): certificate subject or verified identities
    status: str
    reason: str
    issuer: str | None = None  # certificate issuer or the credential's issuer (DID)
    trusted_by: str | None = None
    codes: tuple[str, ...] = ()  # the library's cawg.* status codes for this assertion
    details: tuple[str, ...] = ()  # one line per verified identity (type, provider)

    @property
    def verified(self) -> bool:
        return self.status == "verified"

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "credential": self.credential,
            "sig_type": self.sig_type,
            "names": list(self.names),
            "status": self.status,
            "verified": self.verified,
            "reason": self.reason,
            "issuer": self.issuer,
            "trusted_by": self.trusted_by,
            "codes": list(self.codes),
            "details": list(self.details),
        }


@dataclass(frozen=True, eq=False, repr=False)
class Manifest(_Value):
    """One manifest of the chain: who signed it, what it did, and what it says about AI."""

    label: str
    claim_generator: str | None
    title: str | None
    format: str | None
    signer: Signer | None
    timestamp: Timestamp | None
    actions: tuple[Action, ...]
    ai_generated: AIGeneration  # this manifest's own signal, ingredients aside
    ingredients: tuple[Ingredient, ...] = ()
    # SHA-256 of each ingredient file as recorded at signing (provcheck's own assertion)
    ingredient_hashes: tuple[tuple[str, str], ...] = ()
    # every assertion (label and bounded data), custom ones included (com.example.*)
    assertions: tuple[Assertion, ...] = ()
    # AI-made parts this manifest declares (regions of interest of its actions)
    ai_parts: tuple[AIPart, ...] = ()
    # CAWG identity assertions (who the named actors are), as the C2PA library validated them
    identities: tuple[Identity, ...] = ()
    visible_labels: tuple[VisibleLabelClaim, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "claim_generator": self.claim_generator,
            "title": self.title,
            "format": self.format,
            "signer": self.signer.to_dict() if self.signer else None,
            "timestamp": self.timestamp.to_dict() if self.timestamp else None,
            "actions": [a.to_dict() for a in self.actions],
            "ai_generated": self.ai_generated.value,
            "ingredients": [i.to_dict() for i in self.ingredients],
            "ingredient_hashes": [{"title": t, "sha256": h} for t, h in self.ingredient_hashes],
            "assertions": [a.to_dict() for a in self.assertions],
            "ai_parts": [p.to_dict() for p in self.ai_parts],
            "identities": [i.to_dict() for i in self.identities],
            "visible_labels": [v.to_dict() for v in self.visible_labels],
        }


@dataclass(frozen=True, eq=False, repr=False)
class Ingredient(_Value):
    """An ingredient of a manifest (e.g. the source photo of a generated video)."""

    title: str | None
    format: str | None
    relationship: str | None
    status: str  # "valid", "untrusted", "invalid", "no credentials", "missing"
    manifest: Manifest | None = None
    problems: tuple[Problem, ...] = ()
    # the time ranges used from the ingredient (seconds of *its* timeline; end None: to its
    # end), from the ingredient assertion's metadata.regionOfInterest
    used: tuple[tuple[float, float | None], ...] = ()
    # what the signer's library recorded as broken when it added the ingredient (its
    # content hash can only be checked then); part of the ingredient's status, not the verdict
    recorded_problems: tuple[Problem, ...] = ()

    @property
    def used_seconds(self) -> float | None:
        """How many seconds of the ingredient were used; None when not stated or open."""
        if not self.used or any(end is None for _, end in self.used):
            return None
        return round(sum((end or 0.0) - start for start, end in self.used), 3)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "format": self.format,
            "relationship": self.relationship,
            "status": self.status,
            "manifest": self.manifest.to_dict() if self.manifest else None,
            "problems": [p.to_dict() for p in self.problems],
            "used": [{"start": s, "end": e} for s, e in self.used],
            "used_seconds": self.used_seconds,
            "recorded_problems": [p.to_dict() for p in self.recorded_problems],
        }


@dataclass(frozen=True, eq=False, repr=False)
class ContainedWork(_Value):
    """Someone's signed work inside this file: a parentOf/componentOf ingredient of the
    active manifest, with how much of it was used and whether its credentials hold."""

    title: str | None  # the work's own (signed) title, else the ingredient's
    relationship: str | None
    status: str  # the ingredient's: valid / untrusted / invalid / missing / no credentials
    signer: Signer | None
    used: tuple[tuple[float, float | None], ...]
    used_seconds: float | None
    identities: tuple[Identity, ...] = ()
    problems: tuple[str, ...] = ()  # status codes of what is wrong with its credentials
    claimed: bool = False  # named by a broken outer manifest: claimed, not verified

    @property
    def intact(self) -> bool:
        """The work's own credentials validate (its signer may still be untrusted)."""
        return self.status in ("valid", "untrusted")

    @property
    def trusted(self) -> bool:
        return self.status == "valid" and self.signer is not None and bool(self.signer.trust_list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "relationship": self.relationship,
            "status": self.status,
            "credentials": (
                "none" if self.status == "no credentials" else "intact" if self.intact else "broken"
            ),
            "trusted": self.trusted,
            "signer": self.signer.to_dict() if self.signer else None,
            "used": [{"start": s, "end": e} for s, e in self.used],
            "used_seconds": self.used_seconds,
            "identities": [i.to_dict() for i in self.identities],
            "problems": list(self.problems),
            "claimed": self.claimed,
        }


@dataclass(frozen=True, eq=False, repr=False)
class ContainerFacts(_Value):
    """What MediaInfo reports about the container (context for a reviewer, not a verdict)."""

    container: str | None
    codecs: tuple[str, ...] = ()
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None
    frame_rate: str | None = None
    writing_application: str | None = None
    encoder: str | None = None
    encoded_date: str | None = None
    tagged_date: str | None = None
    title: str | None = None
    comment: str | None = None
    tags: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "container": self.container,
            "codecs": list(self.codecs),
            "duration_s": self.duration_s,
            "width": self.width,
            "height": self.height,
            "frame_rate": self.frame_rate,
            "writing_application": self.writing_application,
            "encoder": self.encoder,
            "encoded_date": self.encoded_date,
            "tagged_date": self.tagged_date,
            "title": self.title,
            "comment": self.comment,
            "tags": dict(self.tags),
        }


@dataclass(frozen=True, eq=False, repr=False)
class Recovered(_Value):
    """The signed original a stripped file was matched to in a manifest repository."""

    entry_id: str
    title: str | None
    signer: Mapping[str, Any] | None
    ai_generated: AIGeneration
    verdict: str  # the stored manifest re-validated now: trusted / untrusted / invalid
    verdict_reason: str
    similarity: float
    matched_range: tuple[float, float]  # seconds in this file
    original_range: tuple[float, float]  # seconds in the original
    signed_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry_id": self.entry_id,
            "title": self.title,
            "signer": dict(self.signer) if self.signer else None,
            "ai_generated": self.ai_generated.value,
            "verdict": self.verdict,
            "verdict_reason": self.verdict_reason,
            "similarity": self.similarity,
            "matched_range": list(self.matched_range),
            "original_range": list(self.original_range),
            "signed_at": self.signed_at,
        }


@dataclass(frozen=True, eq=False, repr=False)
class Report(_Value):
    """Everything provcheck learned about one file, with exactly one verdict."""

    path: str
    verdict: Verdict
    reason: str
    ai_generated: AIGeneration = AIGeneration.UNKNOWN
    ai_reason: str = "no AI-generation signal in the credentials"
    format: str | None = None
    manifest: Manifest | None = None
    problems: tuple[Problem, ...] = ()
    status_codes: tuple[str, ...] = ()
    validation_state: str | None = None
    remote_manifest_url: str | None = None
    trust_configured: bool = True
    fragments: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    # Filled by inspection (audit): facts beside the credentials, never part of the verdict.
    container: ContainerFacts | None = None
    xmp_digital_source_type: str | None = None
    stripped: bool = False  # unsigned, but the file shows credentials were once there
    traces: tuple[str, ...] = ()
    inconsistencies: tuple[str, ...] = ()
    recovered: Recovered | None = None  # set with verdict STRIPPED
    thumbnail_jpeg: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def signer(self) -> Signer | None:
        return self.manifest.signer if self.manifest else None

    @property
    def ai_parts(self) -> tuple[AIPart, ...]:
        """The AI-made parts declared anywhere in the manifest chain, active manifest first
        (each says which manifest declared it)."""
        out: list[AIPart] = []
        todo = [self.manifest] if self.manifest else []
        seen: set[str] = set()
        while todo:
            m = todo.pop(0)
            if m.label in seen:
                continue
            seen.add(m.label)
            out.extend(m.ai_parts)
            todo.extend(i.manifest for i in m.ingredients if i.manifest is not None)
        return tuple(out)

    @property
    def contains(self) -> tuple[ContainedWork, ...]:
        """The works this file is cut or composed from (parentOf/componentOf ingredients of
        the active manifest with credentials or a used range), each with the time used and
        the state of its credentials."""
        if self.manifest is None:
            return ()
        claimed = self.claims == CLAIMS_UNVERIFIED
        out = []
        for ing in self.manifest.ingredients:
            if ing.relationship not in ("parentOf", "componentOf"):
                continue
            if ing.status == "no credentials" and not ing.used:
                continue  # e.g. the stand-in for a placed AI element: nobody's signed work
            m = ing.manifest
            out.append(
                ContainedWork(
                    title=(m.title if m and m.title else None) or ing.title,
                    relationship=ing.relationship,
                    status=ing.status,
                    signer=m.signer if m else None,
                    used=ing.used,
                    used_seconds=ing.used_seconds,
                    identities=m.identities if m else (),
                    problems=tuple(
                        dict.fromkeys(p.code for p in ing.problems + ing.recorded_problems)
                    ),
                    claimed=claimed,
                )
            )
        return tuple(out)

    @property
    def identities(self) -> tuple[Identity, ...]:
        """The active manifest's CAWG identity assertions."""
        return self.manifest.identities if self.manifest else ()

    @property
    def visible_labels(self) -> tuple[VisibleLabelClaim, ...]:
        """Visible labels burned in along the manifest chain, active manifest first."""
        out: list[VisibleLabelClaim] = []
        todo = [self.manifest] if self.manifest else []
        seen: set[str] = set()
        while todo:
            m = todo.pop(0)
            if m.label not in seen:
                seen.add(m.label)
                out.extend(m.visible_labels)
                todo.extend(i.manifest for i in m.ingredients if i.manifest is not None)
        return tuple(out)

    @property
    def claims(self) -> str:
        """How far the manifest's claims (AI value, title, signer, actions) can be believed.

        ``verified`` only when the signature is valid and the content hash matches
        (trusted / untrusted); ``unverified`` when they come from a broken manifest
        (tampered / invalid): shown as *claimed, not verified*; ``none`` without a manifest.
        """
        if self.verdict in (Verdict.TRUSTED, Verdict.UNTRUSTED):
            return CLAIMS_VERIFIED
        if self.manifest is not None or self.verdict in (Verdict.TAMPERED, Verdict.INVALID):
            return CLAIMS_UNVERIFIED
        return CLAIMS_NONE

    def to_dict(self) -> dict[str, Any]:
        signer = self.signer
        return {
            "path": self.path,
            "verdict": self.verdict.value,
            "claims": self.claims,
            "reason": self.reason,
            "ai_generated": self.ai_generated.value,
            "ai_reason": self.ai_reason,
            "ai_parts": [p.to_dict() for p in self.ai_parts],
            "contains": [w.to_dict() for w in self.contains],
            "identities": [i.to_dict() for i in self.identities],
            "visible_labels": [v.to_dict() for v in self.visible_labels],
            "signer": signer.to_dict() if signer else None,
            "status_codes": list(self.status_codes),
            "problems": [p.to_dict() for p in self.problems],
            "format": self.format,
            "validation_state": self.validation_state,
            "manifest": self.manifest.to_dict() if self.manifest else None,
            "remote_manifest_url": self.remote_manifest_url,
            "trust_configured": self.trust_configured,
            "fragments": list(self.fragments),
            "notes": list(self.notes),
            "container": self.container.to_dict() if self.container else None,
            "xmp_digital_source_type": self.xmp_digital_source_type,
            "stripped": self.stripped,
            "traces": list(self.traces),
            "inconsistencies": list(self.inconsistencies),
            "recovered": self.recovered.to_dict() if self.recovered else None,
        }
