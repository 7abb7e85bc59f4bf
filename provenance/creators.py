"""Whose work is inside a clip: signed ingredients with the time used from each, and the
CAWG identity assertions that say who a creator is.

Signing records a used range where the C2PA specification puts it: the ingredient
assertion's ``metadata.regionOfInterest`` (C2PA 2.2, "Ingredient Metadata"), a region of
interest of ``temporal`` ranges with ``npt`` times in the *ingredient's* timeline. A
``componentOf`` ingredient is referenced by a ``c2pa.placed`` action
(``parameters.ingredientIds``), a ``parentOf`` one by ``c2pa.opened``. A signed
ingredient's manifest store is kept by the C2PA library, so the creator's own signature is
re-validated whenever the ad is verified.

The command-line syntax of ``provcheck sign --ingredient`` (see ``parse_ingredient``)::

    PATH[:RELATIONSHIP][@START-END[,START-END...]]

    creator.mp4                          (relationship chosen automatically)
    creator.mp4:componentOf@0:02-0:08    (6 s of creator.mp4 placed in the output)
    creator.mp4:parentOf@0:00-0:15,0:20-0:30

CAWG identity assertions (``cawg.identity``) are decoded and validated by the C2PA
library (``provenance._c2pa``); ``identities_from`` turns its results into
``Identity`` values. A name is ``verified`` only when the library said so: a valid
signature from a credential it trusts (``cawg.x509.credential.trusted``,
``cawg.ica.credential_valid``); otherwise the names are shown as claimed.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import _regions
from ._regions import parse_time
from .errors import SigningError
from .model import ContainedWork, Identity

__all__ = [
    "RELATIONSHIPS",
    "parse_ingredient",
    "parse_ranges",
    "check_ranges",
    "check_spec",
    "placed_actions",
    "ingredient_metadata",
    "used_ranges",
    "identities_from",
    "describe_work",
    "describe_identity",
]

RELATIONSHIPS = ("parentOf", "componentOf", "inputTo")
_MAX_RANGES = 100
_X509 = "cawg.x509.cose"
_ICA = "cawg.identity_claims_aggregation"
_CREDENTIALS = {_X509: "X.509 certificate", _ICA: "identity claims aggregation"}
# Failure codes that mean "could not be validated here", not "found broken".
_NOT_VALIDATED = {"cawg.ica.did_unavailable"}
# Codes that withhold trust without saying anything is broken.
_UNTRUSTED = {"cawg.x509.credential.untrusted", "cawg.ica.untrusted_issuer"}
_MAX_TEXT = 200


def parse_ranges(text: str, origin: str = "range") -> tuple[tuple[float, float], ...]:
    """``START-END[,START-END...]`` (seconds or ``[h:]m:ss[.fff]``) -> ranges, checked."""
    out: list[tuple[float, float]] = []
    items = [t for t in text.split(",") if t.strip()]
    if not items:
        raise ValueError(f"{origin}: no time range after '@' (write e.g. @0:02-0:08)")
    if len(items) > _MAX_RANGES:
        raise ValueError(f"{origin}: more than {_MAX_RANGES} time ranges")
    for item in items:
        start_text, dash, end_text = item.strip().partition("-")
        if not dash:
            raise ValueError(
                f"{origin}: {item.strip()!r} is not a range START-END (e.g. 0:02-0:08)"
            )
        try:
            start, end = parse_time(start_text), parse_time(end_text)
        except ValueError as exc:
            raise ValueError(f"{origin}: {exc}") from None
        if not (math.isfinite(start) and math.isfinite(end)) or end <= start:
            raise ValueError(f"{origin}: the range {item.strip()!r} ends before it starts")
        out.append((start, end))
    return tuple(out)


def parse_ingredient(text: str) -> tuple[Path, str | None, tuple[tuple[float, float], ...]]:
    """``PATH[:RELATIONSHIP][@RANGES]`` -> (path, relationship or None, ranges).

    A value that names an existing file is taken whole as its path (a file name may hold
    ':' or '@'). ValueError says what is wrong, naming the value.
    """
    origin = f"--ingredient {text!r}"
    if os.path.exists(text):
        return Path(text), None, ()
    head, at, ranges_text = text.rpartition("@")
    if not at:
        head, ranges_text = text, ""
    path_text, relationship = head, None
    name, colon, rel = head.rpartition(":")
    if colon and rel:
        match = [r for r in RELATIONSHIPS if r.lower() == rel.strip().lower()]
        if match:
            path_text, relationship = name, match[0]
        elif not os.path.exists(head) and re.fullmatch(r"[A-Za-z]+", rel.strip()):
            raise ValueError(
                f"{origin}: relationship {rel!r} is not one of {', '.join(RELATIONSHIPS)}"
            )
    if not path_text:
        raise ValueError(f"{origin}: no file named before ':' or '@'")
    ranges = parse_ranges(ranges_text, origin) if at else ()
    if relationship == "inputTo" and ranges:
        raise ValueError(
            f"{origin}: an inputTo ingredient is not part of the output; a used time range "
            "needs parentOf or componentOf"
        )
    return Path(path_text), relationship, ranges


def check_ranges(path: Path, ranges: Sequence[tuple[float, float]]) -> None:
    """Refuse ranges beyond the ingredient's duration (read with PyAV)."""
    if not ranges:
        return
    import av

    try:
        with av.open(str(path)) as container:
            duration = container.duration / 1_000_000 if container.duration else None
    except (av.FFmpegError, OSError) as exc:
        raise SigningError(
            f"{path}: cannot read its duration to check the used range: {exc}"
        ) from exc
    if duration is None:
        raise SigningError(f"{path}: has no duration, so a used time range cannot apply to it")
    for start, end in ranges:
        if end > duration + 0.05:
            from .parts import format_time

            raise SigningError(
                f"{path}: the used range {format_time(start)}-{format_time(end)} ends after "
                f"the clip ({format_time(duration)})"
            )


def check_spec(
    path: Path, relationship: str, used: Sequence[tuple[float, float]], ing_json: dict[str, Any]
) -> None:
    """Check one ingredient's relationship and used ranges; record the ranges in its JSON."""
    if relationship not in RELATIONSHIPS:
        raise SigningError(
            f"{path}: relationship {relationship!r} is not one of {', '.join(RELATIONSHIPS)}"
        )
    if not used:
        return
    if relationship == "inputTo":
        raise SigningError(
            f"{path}: an inputTo ingredient is not part of the output; a used time range "
            "needs parentOf or componentOf"
        )
    if len(used) > _MAX_RANGES:
        raise SigningError(f"{path}: more than {_MAX_RANGES} used time ranges")
    for start, end in used:
        if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end <= start:
            raise SigningError(f"{path}: the used range {start}-{end} is not a time range")
    check_ranges(path, used)
    ing_json["metadata"] = ingredient_metadata(used)


def placed_actions(
    specs: Sequence[Any], ing_json: Sequence[Mapping[str, Any]], agent: str
) -> list[dict[str, Any]]:
    """A ``c2pa.placed`` action for each componentOf ingredient that was named so or given
    a used range (the specification's link from the action to what it placed)."""
    out: list[dict[str, Any]] = []
    for spec, j in zip(specs, ing_json, strict=True):
        if j["relationship"] != "componentOf" or not (spec.used or spec.relationship):
            continue
        out.append(
            {
                "action": "c2pa.placed",
                "softwareAgent": {"name": agent},
                "parameters": {"ingredientIds": [j["label"]]},
            }
        )
    return out


def ingredient_metadata(ranges: Sequence[tuple[float, float]]) -> dict[str, Any]:
    """The ingredient assertion's ``metadata`` recording the time ranges used from it."""
    total = sum(end - start for start, end in ranges)
    return {
        "regionOfInterest": {
            "description": f"{total:g} s used",
            "region": [_regions.temporal_range(s, e) for s, e in ranges],
        }
    }


def _npt_seconds(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif (parsed := _regions.parse_npt(value)) is not None:
        seconds = parsed
    else:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def used_ranges(ingredient: Mapping[str, Any]) -> tuple[tuple[float, float | None], ...]:
    """The temporal ranges of an ingredient's ``metadata.regionOfInterest`` (any writer's),
    in seconds; malformed ranges are skipped."""
    meta = ingredient.get("metadata")
    roi = meta.get("regionOfInterest") if isinstance(meta, Mapping) else None
    rois = roi if isinstance(roi, list) else [roi]
    out: list[tuple[float, float | None]] = []
    for one in rois[:_MAX_RANGES]:
        regions = one.get("region") if isinstance(one, Mapping) else None
        for rng in (regions if isinstance(regions, list) else [])[:_MAX_RANGES]:
            time = rng.get("time") if isinstance(rng, Mapping) else None
            if not (isinstance(rng, Mapping) and rng.get("type") == "temporal"):
                continue
            if not isinstance(time, Mapping) or time.get("type", "npt") != "npt":
                continue
            start = _npt_seconds(time.get("start", "0"))
            end = _npt_seconds(time.get("end")) if "end" in time else None
            if start is None or (end is not None and end <= start):
                continue
            out.append((start, end))
    return tuple(out)


def _text(value: object) -> str | None:
    return value[:_MAX_TEXT] if isinstance(value, str) and value.strip() else None


def _identity(entry: Mapping[str, Any]) -> Identity | None:
    label = _text(entry.get("label"))
    if label is None:
        return None
    data = entry.get("data")
    data = data if isinstance(data, Mapping) else {}
    payload = data.get("signer_payload")
    sig_type = _text(payload.get("sig_type")) if isinstance(payload, Mapping) else None
    types = data.get("type")
    if (
        sig_type is None
        and isinstance(types, list)
        and "IdentityClaimsAggregationCredential" in types
    ):
        sig_type = _ICA
    codes = [c for c in entry.get("codes") or [] if isinstance(c, Mapping)]
    code_names = tuple(str(c.get("code"))[:_MAX_TEXT] for c in codes)
    names: list[str] = []
    details: list[str] = []
    issuer = None
    if sig_type == _X509:
        info = data.get("signature_info")
        info = info if isinstance(info, Mapping) else {}
        names = [n for n in (_text(info.get("common_name")), _text(info.get("issuer"))) if n]
    elif sig_type == _ICA:
        issuer = _text(data.get("issuer"))
        for ident in (data.get("verifiedIdentities") or [])[:20]:
            if not isinstance(ident, Mapping):
                continue
            who = _text(ident.get("name")) or _text(ident.get("username"))
            kind = (_text(ident.get("type")) or "identity").removeprefix("cawg.")
            provider = ident.get("provider")
            via = _text(provider.get("name")) if isinstance(provider, Mapping) else None
            if who and who not in names:
                names.append(who)
            details.append(
                f"{kind}: {who or '(no name)'}" + (f" (verified by {via})" if via else "")
            )
    credential = _CREDENTIALS.get(sig_type or "", sig_type or "unknown credential type")
    failures = [c for c in codes if c.get("bucket") == "failure"]
    broken = [c for c in failures if c.get("code") not in _UNTRUSTED | _NOT_VALIDATED]
    trusted_by = None
    if not entry.get("validated"):
        status = "not validated"
        reason = (
            "validating an identity claims aggregation credential may fetch its issuer's "
            "DID document over the network; allow network fetches (--remote-manifests) "
            "to validate it"
            if sig_type != _X509
            else "the C2PA library could not decode it"
        )
    elif broken:
        status = "invalid"
        reason = "; ".join(
            f"{c.get('code')}: {c.get('explanation') or 'failed'}"[:_MAX_TEXT] for c in broken
        )
    elif any(c.get("code") in _NOT_VALIDATED for c in failures):
        status = "not validated"
        reason = "the credential's issuer could not be resolved (cawg.ica.did_unavailable)"
    elif "cawg.x509.credential.trusted" in code_names:
        status, trusted_by = "verified", "the configured trust anchors (as CAWG X.509 anchors)"
        reason = "signature valid and the certificate chains to a configured trust anchor"
    elif "cawg.ica.credential_valid" in code_names:
        status, trusted_by = "verified", "the trusted identity claims aggregation issuers"
        reason = f"a valid credential from a trusted issuer ({issuer or 'unnamed'})"
    elif sig_type == _X509 and "cawg.x509.signature.validated" in code_names:
        status = "not trusted"
        reason = (
            "the C2PA library validated the signature, but no configured trust list vouches "
            "for the certificate (cawg.x509.credential.untrusted): the name is claimed"
        )
    elif "cawg.ica.untrusted_issuer" in code_names:
        status = "not trusted"
        reason = (
            f"the credential's issuer {issuer or '(unnamed)'} is not a trusted identity "
            "claims aggregation issuer (cawg.ica.untrusted_issuer): the names are claimed"
        )
    else:
        status = "not validated"
        reason = "the C2PA library gave no validation result for it"
    return Identity(
        label=label,
        credential=credential,
        sig_type=sig_type,
        names=tuple(names),
        status=status,
        reason=reason,
        issuer=issuer,
        trusted_by=trusted_by,
        codes=code_names,
        details=tuple(details),
    )


def identities_from(manifest: Mapping[str, Any]) -> tuple[Identity, ...]:
    """The identities of one manifest of the store JSON, as ``_c2pa`` recorded them."""
    from ._c2pa import IDENTITY_KEY

    entries = manifest.get(IDENTITY_KEY)
    if not isinstance(entries, list):
        return ()
    out = [_identity(e) for e in entries if isinstance(e, Mapping)]
    return tuple(i for i in out if i is not None)


def describe_identity(identity: Identity) -> str:
    """``"C2PA Signer, C2PA Test Signing Cert" (X.509 certificate): not trusted``."""
    who = ", ".join(identity.names) or "(no name)"
    by = f", trusted by {identity.trusted_by}" if identity.trusted_by else ""
    return f'"{who}" ({identity.credential}): {identity.status}{by}'


def _seconds(value: float) -> str:
    return f"{value:.1f} s"


def describe_work(work: ContainedWork) -> str:
    """``contains 6.0 s of "Creator clip" signed by Ana (credentials intact, trusted)``."""
    title = f'"{work.title}"' if work.title else "an untitled work"
    if work.used_seconds is not None:
        amount = f"{_seconds(work.used_seconds)} of "
    elif work.used:
        amount = "part of "
    else:
        amount = ""
    if work.status == "no credentials":
        return f"contains {amount}{title} (no credentials)"
    signer = work.signer.display() if work.signer else "an unknown signer"
    if work.claimed:
        state = "claimed, not verified: this file's own manifest is broken"
    elif work.intact:
        trust = "trusted" if work.trusted else "signer not on a configured trust list"
        state = f"credentials intact, {trust}"
    else:
        from ._status import describe_code

        why = (
            "; ".join(f"{describe_code(c)} [{c}]" for c in work.problems[:3])
            if work.problems
            else work.status
        )
        state = f"credentials broken: {why}"
    return f"contains {amount}{title} signed by {signer} ({state})"
