"""Provenance that survives the trip: register signed clips, recover stripped copies.

At signing (or ``repo add``), a clip's perceptual fingerprint goes into its manifest as a
``c2pa.soft-binding`` assertion, and the signed manifest store, the fingerprint and a
summary go into a manifest repository. A file without credentials is fingerprinted and
looked up; on a match its verdict becomes ``stripped`` and ``Report.recovered`` holds the
original manifest's signer, AI label and verdict, the similarity and the matched time
range.

The original manifest is not taken on faith: the stored manifest bytes are validated
again by the C2PA library, against the current trust configuration, with the stripped
file as the asset. Its content hash cannot match a re-encoded copy (that is expected and
set aside); its signature, certificate chain and ingredients must still hold.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import media
from .errors import InputError
from .model import Recovered, Report, Verdict
from .trust import TrustConfig

__all__ = [
    "register",
    "register_signed_file",
    "recover",
    "lookup_file",
    "manifest_store_bytes",
    "summary_for",
    "is_video",
    "sniff_video",
]

_VIDEO = {"video/mp4", "video/quicktime", "video/avi", "video/webm", "video/x-matroska"}


def is_video(report: Report) -> bool:
    return (report.format or "") in _VIDEO


def summary_for(report: Report) -> dict[str, Any]:
    """What the repository keeps about a signed clip besides its manifest bytes."""
    m = report.manifest
    return {
        "label": m.label if m else None,
        "title": m.title if m else None,
        "signer": report.signer.to_dict() if report.signer else None,
        "ai_generated": report.ai_generated.value,
        "verdict": report.verdict.value,
        "format": report.format,
        "path": os.path.basename(report.path),
        "signed_at": m.timestamp.time if m and m.timestamp else None,
    }


def manifest_store_bytes(path: str | os.PathLike[str]) -> bytes | None:
    """The embedded C2PA manifest store (JUMBF) of a BMFF file, or None."""
    p = Path(path)
    try:
        size = p.stat().st_size
        with open(p, "rb") as f:
            for pos, box_size, kind, header in media.bmff_boxes(f, size):
                if kind != b"uuid" or box_size > 64 * 1024 * 1024:
                    continue
                f.seek(pos + header)
                if f.read(16) != media.C2PA_BMFF_UUID:
                    continue
                payload = f.read(box_size - header - 16)
                start = payload.find(b"jumb")
                if start < 4:
                    return None
                length = int.from_bytes(payload[start - 4 : start], "big")
                store = payload[start - 4 : start - 4 + length]
                return store if len(store) == length else None
    except OSError:
        return None
    return None


def register(
    repository: Any,
    *,
    manifest: bytes,
    path: str | os.PathLike[str],
    report: Report,
    fingerprint: Any = None,
) -> Any:
    """Store a signed clip's manifest, fingerprint and summary; idempotent per manifest."""
    from . import fingerprint as fp_mod

    if report.manifest is None:
        raise InputError(f"{path}: has no C2PA manifest to register")
    fp = fingerprint if fingerprint is not None else fp_mod.compute(path, query=False)
    # The id is the SHA-256 of the manifest store bytes, not the manifest's label: a v1
    # claim does not sign its JUMBF label, so a label could be reused by anyone.
    return repository.add(manifest, fp, summary_for(report))


def register_signed_file(
    repository: Any, path: str | os.PathLike[str], *, trust: TrustConfig | None = None
) -> Any:
    """Register an already signed video file: its embedded manifest store, its fingerprint
    (from its soft-binding assertion when it carries ours, else computed) and a summary."""
    from . import fingerprint as fp_mod

    report = _read_report(path, trust if trust is not None else TrustConfig())
    if report.manifest is None:
        raise InputError(f"{path}: no C2PA manifest to register ({report.reason})")
    if report.verdict in (Verdict.TAMPERED, Verdict.INVALID):
        raise InputError(f"{path}: its credentials are {report.verdict.value}; not registered")
    if not is_video(report):
        raise InputError(f"{path}: only video can be registered (this is {report.format})")
    store = manifest_store_bytes(path)
    if store is None:
        raise InputError(f"{path}: the manifest store could not be extracted")
    return register(
        repository,
        manifest=store,
        path=path,
        report=report,
        fingerprint=fp_mod.compute(path, query=False),
    )


def _read_report(path: str | os.PathLike[str], trust: TrustConfig) -> Report:
    """The judged credentials of a file (the read and judge steps of the pipeline, without
    inspection or recovery: ``verify`` calls into this module, never the other way)."""
    from . import _c2pa
    from ._judge import judge

    kind = media.sniff_path(path)
    media.check_structure(path, kind)
    mime = kind.mime if kind else None
    base: dict[str, Any] = {
        "path": os.fspath(path),
        "format": mime,
        "trust_configured": trust.has_signer_trust,
    }
    ctx = _c2pa.ReadContext(trust, _c2pa.ReadOptions())
    try:
        with open(path, "rb") as f:
            raw = ctx.read(mime, f)
    except _c2pa.ReadFailure as exc:
        raise InputError(f"{os.fspath(path)}: {exc}: {exc.detail}") from exc
    except OSError as exc:
        raise InputError(f"{os.fspath(path)}: cannot read: {exc.strerror or exc}") from exc
    finally:
        ctx.close()
    if raw.store is None or not raw.store.get("manifests"):
        return Report(verdict=Verdict.UNSIGNED, reason="no C2PA manifest found", **base)
    return judge(raw, trust, base)


def lookup_file(repository: Any, path: str | os.PathLike[str], limit: int = 5) -> list[Any]:
    """The repository entries a file's fingerprint matches, best first: entries
    registered with each algorithm (v2 first), the file decoded once for all."""
    from . import fingerprint as fp_mod

    return _lookup_all(repository, fp_mod.compute_many(path), limit)


def _lookup_all(repository: Any, fps: Mapping[str, Any], limit: int) -> list[Any]:
    """Matches of the fingerprints (one per algorithm) in the repository: each
    algorithm's entries compared with the query of that algorithm, v2's first."""
    from . import fingerprint as fp_mod

    out: list[Any] = []
    for algorithm in fp_mod.ALGORITHMS:
        if algorithm in fps:
            out += repository.lookup(fps[algorithm], limit=limit)
    return out[:limit]


def recover(
    report: Report,
    path: str | os.PathLike[str],
    repository: Any,
    trust: TrustConfig,
    *,
    options: Any = None,
) -> Report:
    """For an unsigned video: look its fingerprint up and, on a match, return the report
    with verdict ``stripped`` and the recovered original. Otherwise the report unchanged.

    Nothing of the repository row is believed: what is shown (signer, AI label, title,
    time) comes from the stored manifest validated again now, and a candidate counts only
    when that manifest's own signed soft-binding fingerprint matches this clip."""
    from . import fingerprint as fp_mod
    from .errors import ProvenanceError

    if report.verdict is not Verdict.UNSIGNED or not is_video(report):
        return report

    def note(text: str) -> Report:
        return dataclasses.replace(report, notes=(*report.notes, text))

    try:
        fps = fp_mod.compute_many(path)
    except Exception as exc:  # an undecodable file simply cannot be matched
        return note(f"no fingerprint for a repository lookup: {exc}")
    try:
        matches = _lookup_all(repository, fps, 5)
    except (ProvenanceError, ValueError, TypeError, KeyError) as exc:
        # a malformed repository row must not turn this file into an internal error
        return note(f"the manifest repository could not be searched: {exc}")
    if not matches:
        return note("no match in the manifest repository")
    if matches[0][1].ambiguous:
        # Segments of an unchanging scene look the same: naming one would be a guess.
        best = matches[0][1]
        return note(
            f"the clip matches {best.rivals + 1} registered originals about as closely "
            f"(closeness {best.closeness:.3f}); which one it was copied from cannot be "
            "told, so none is named"
        )
    refused: list[str] = []
    for entry, match in matches:
        try:
            original = _revalidate(entry.manifest, path, report.format, trust, options)
        except (ProvenanceError, ValueError, TypeError, KeyError) as exc:
            refused.append(f"entry {str(getattr(entry, 'id', '?'))[:12]}: unreadable ({exc})")
            continue
        if isinstance(original, str):
            refused.append(f"entry {str(entry.id)[:12]}: {original}")
            continue
        judged, verdict, why, stored_fp = original
        own = fps.get(stored_fp.algorithm)
        if own is None or fp_mod.compare(own, stored_fp) is None:
            refused.append(
                f"entry {str(entry.id)[:12]}: its manifest's signed fingerprint does not "
                "match this clip (the repository row points to another clip)"
            )
            continue
        return _recovered(report, entry.id, judged, verdict, why, match)
    return note(
        "the manifest repository has a fingerprint match, but no stored manifest "
        "vouches for this clip: " + "; ".join(refused)
    )


def _recovered(
    report: Report, entry_id: str, judged: Report, verdict: str, why: str, match: Any
) -> Report:
    m = judged.manifest
    signer = m.signer if m is not None else None
    recovered = Recovered(
        entry_id=entry_id,
        title=m.title if m else None,
        signer=signer.to_dict() if signer else None,
        ai_generated=judged.ai_generated,
        verdict=verdict,
        verdict_reason=why,
        similarity=round(match.similarity, 4),
        matched_range=(round(match.a_start, 2), round(match.a_end, 2)),
        original_range=(round(match.b_start, 2), round(match.b_end, 2)),
        signed_at=m.timestamp.time if m and m.timestamp else None,
    )
    who = (signer.common_name if signer else None) or "an unnamed signer"
    reason = (
        f"no C2PA manifest in the file, but it matches a signed original in the "
        f"manifest repository (similarity {match.similarity:.2f}, signed by {who}): "
        "the credentials were stripped, e.g. by a re-encode or remux"
    )
    return dataclasses.replace(
        report,
        verdict=Verdict.STRIPPED,
        reason=reason,
        ai_generated=recovered.ai_generated,
        ai_reason=f"from the recovered original: {recovered.ai_generated}",
        recovered=recovered,
        stripped=True,
    )


def _revalidate(
    manifest: bytes,
    path: str | os.PathLike[str],
    mime: str | None,
    trust: TrustConfig,
    options: Any,
) -> tuple[Report, str, str, Any] | str:
    """The stored manifest validated again against the current trust, its hard binding to
    the (re-encoded) bytes set aside: (judged report, verdict, why, its signed soft-binding
    fingerprint), or why it cannot vouch for anything."""
    from . import _c2pa
    from . import fingerprint as fp_mod
    from ._judge import chain_is_vouched, judge
    from ._status import TAMPER_CODES, UNTRUSTED_CODES

    if (
        not isinstance(manifest, bytes)
        or not manifest.startswith(b"\x00")
        or b"jumb" not in manifest[:8]
    ):
        return "the repository holds no manifest store bytes for this entry"
    ctx = _c2pa.ReadContext(trust, options or _c2pa.ReadOptions())
    try:
        with open(path, "rb") as f:
            raw = ctx.read_with_manifest(mime, f, manifest)
    except (_c2pa.ReadFailure, OSError) as exc:
        return f"the stored manifest could not be validated: {exc}"
    finally:
        ctx.close()
    base: dict[str, Any] = {
        "path": os.fspath(path),
        "format": mime,
        "trust_configured": trust.has_signer_trust,
    }
    judged = judge(raw, trust, base)
    stored_fp = None
    store = raw.store or {}
    active = (store.get("manifests") or {}).get(store.get("active_manifest")) or {}
    for a in active.get("assertions") or []:
        if isinstance(a, Mapping) and a.get("label") == fp_mod.SOFT_BINDING_LABEL:
            try:
                stored_fp = fp_mod.from_soft_binding(dict(a))
            except fp_mod.FingerprintError:
                stored_fp = None
            if stored_fp is not None:
                break
    if stored_fp is None:
        return "the stored manifest carries no signed soft-binding fingerprint of ours"
    other = [c for c in judged.status_codes if c not in TAMPER_CODES]
    broken = [c for c in other if c not in UNTRUSTED_CODES]
    if broken:
        return f"the stored manifest is not valid ({', '.join(broken)})"
    if judged.manifest is not None and chain_is_vouched(judged.manifest):
        why = "the stored manifest's signature is valid and its signer is trusted"
        return judged, "trusted", why, stored_fp
    why = (
        "the stored manifest's signature is valid, but its signer is not on a configured trust list"
    )
    return judged, "untrusted", why, stored_fp


def sniff_video(path: str | os.PathLike[str]) -> bool:
    kind = media.sniff_path(path)
    return kind is not None and kind.mime in _VIDEO
