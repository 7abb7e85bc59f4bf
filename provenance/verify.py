"""Read and validate one asset -> one ``Report`` with one ``Verdict``.

Never prints, never exits, never touches the network unless asked
(``remote_manifests=True`` / ``ocsp=True``). The asset is handed to the C2PA
library as a stream, so a large file is never read whole into Python memory.

How the verdict is reached (the strictest reading wins; ``trusted`` needs every
condition at once):

1. no manifest store                                   -> ``unsigned``
2. a failure code that says the manifest itself is broken
   (signature, hashed URI, credential, ingredient) -> ``invalid``
3. a failure code that says the asset's bytes changed   -> ``tampered``
4. the signer (or an ingredient's signer) is not vouched for by a configured
   anchor or allowed-list entry                           -> ``untrusted``
5. otherwise, when the C2PA library itself says ``Trusted`` and the signer was
   found among the claim-signer anchors (never among TSA roots) -> ``trusted``
"""

from __future__ import annotations

import io
import os
import re
import stat
from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from typing import Any, BinaryIO

from . import _c2pa, labels, media
from .errors import InputError
from .model import (
    Action,
    AIGeneration,
    Ingredient,
    Manifest,
    Problem,
    Report,
    Signer,
    Timestamp,
    Verdict,
)
from .trust import TrustConfig

__all__ = ["verify", "verify_bytes", "Verifier", "TAMPER_CODES", "UNTRUSTED_CODES", "describe_code"]

# The asset's bytes no longer match the manifest's hard binding.
TAMPER_CODES = frozenset(
    {
        "assertion.dataHash.mismatch",
        "assertion.bmffHash.mismatch",
        "assertion.boxesHash.mismatch",
        "assertion.collectionHash.mismatch",
    }
)
# The manifest is intact but nobody we trust vouches for its signer / its timestamp.
UNTRUSTED_CODES = frozenset(
    {
        "signingCredential.untrusted",
        "timeStamp.untrusted",
        "signingCredential.ocsp.skipped",
        "signingCredential.ocsp.inaccessible",
    }
)

_MESSAGES = {
    "assertion.dataHash.mismatch": "the file's bytes were changed after it was signed",
    "assertion.bmffHash.mismatch": "the video/audio data was changed after it was signed "
    "(or a fragmented MP4 is missing its fragments)",
    "assertion.boxesHash.mismatch": "the file's boxes were changed after it was signed",
    "assertion.collectionHash.mismatch": "a file of the signed collection was changed",
    "assertion.hashedURI.mismatch": "a part of the manifest does not match the hash the "
    "signed claim recorded for it",
    "assertion.missing": "an assertion the claim refers to is missing",
    "assertion.cbor.invalid": "an assertion's data is malformed",
    "assertion.json.invalid": "an assertion's data is malformed",
    "assertion.action.ingredientMismatch": "an action refers to an ingredient that does not match",
    "claim.missing": "the manifest has no claim",
    "claim.malformed": "the claim is malformed",
    "claim.multiple": "the manifest has more than one claim",
    "claim.hardBindings.missing": "the claim does not bind to the file's content",
    "claimSignature.mismatch": "the claim's signature does not match its content "
    "(the manifest was altered or forged)",
    "claimSignature.missing": "the claim is not signed",
    "claimSignature.outsideValidity": "the claim was signed outside the certificate's validity",
    "signingCredential.untrusted": "the signing certificate does not chain to a configured "
    "trust anchor",
    "signingCredential.invalid": "the signing certificate is not acceptable for C2PA "
    "(profile, key usage or EKU)",
    "signingCredential.expired": "the signing certificate had expired when it was checked "
    "and no trusted timestamp proves it signed while valid",
    "signingCredential.revoked": "the signing certificate has been revoked",
    "algorithm.unsupported": "the signature uses an unsupported algorithm",
    "timeStamp.mismatch": "the timestamp does not match the signature",
    "timeStamp.untrusted": "the timestamp authority is not on a configured TSA trust list",
    "timeStamp.outsideValidity": "the timestamp lies outside the certificate's validity",
    "ingredient.manifest.missing": "an ingredient's manifest is missing from the store",
    "ingredient.manifest.mismatch": "an ingredient's manifest does not match the hash "
    "recorded for it",
    "ingredient.claimSignature.mismatch": "an ingredient's claim signature does not match",
    "ingredient.hashedURI.mismatch": "an ingredient's reference does not match its hash",
    "manifest.inaccessible": "the manifest could not be fetched",
    "manifest.multipleParents": "the manifest lists more than one parent ingredient",
    "manifest.timestamp.invalid": "the manifest's timestamp is invalid",
    "general.error": "the validator hit an error while checking the manifest",
}


def describe_code(code: str) -> str:
    """Words a person understands for a C2PA validation status code."""
    return _MESSAGES.get(code, f"validation failure {code}")


# ---------------------------------------------------------------------------


class Verifier:
    """Verifies many files with one trust configuration (one native context).

    ``with Verifier(trust) as v: v.verify(path)`` — reuse it for batches.
    """

    def __init__(
        self,
        trust: TrustConfig | None = None,
        *,
        remote_manifests: bool = False,
        ocsp: bool = False,
        repository: Any = None,
    ) -> None:
        """``repository``: a manifest repository (``provenance.repository``) in which an
        unsigned video is looked up by fingerprint; a match makes it ``stripped``."""
        self.trust = trust if trust is not None else TrustConfig()
        self._options = _c2pa.ReadOptions(remote_manifests=remote_manifests, ocsp=ocsp)
        self._ctx: _c2pa.ReadContext | None = None
        self.repository = repository

    def __enter__(self) -> Verifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._ctx is not None:
            self._ctx.close()
            self._ctx = None

    def _context(self) -> _c2pa.ReadContext:
        if self._ctx is None:
            self._ctx = _c2pa.ReadContext(self.trust, self._options)
        return self._ctx

    def verify(
        self,
        source: str | os.PathLike[str] | BinaryIO,
        fragments: Sequence[str | os.PathLike[str]] = (),
    ) -> Report:
        name = _display_name(source)
        try:
            with ExitStack() as stack:
                stream = _open_source(source, stack)
                frag_streams = [_open_source(f, stack) for f in fragments]
                report = self._verify_stream(
                    name, stream, frag_streams, tuple(os.fspath(f) for f in fragments)
                )
            if (
                self.repository is not None
                and report.verdict is Verdict.UNSIGNED
                and isinstance(source, str | os.PathLike)
            ):
                from .softbinding import recover

                report = recover(report, source, self.repository, self.trust, options=self._options)
            return report
        except InputError as exc:
            return _error_report(name, str(exc), trust=self.trust)

    def _verify_stream(
        self,
        name: str,
        stream: BinaryIO,
        fragments: list[BinaryIO],
        fragment_names: tuple[str, ...],
    ) -> Report:
        kind = media.sniff_stream(stream)
        mime = kind.mime if kind else None
        try:
            raw = self._context().read(mime, stream, fragments)
        except _c2pa.ReadFailure as fail:
            return _failure_report(name, fail, kind, self.trust, fragment_names)
        base: dict[str, Any] = {
            "path": name,
            "format": mime,
            "trust_configured": self.trust.has_signer_trust,
            "fragments": fragment_names,
        }
        if raw.store is None or not raw.store.get("manifests"):
            if kind is None:
                return Report(
                    verdict=Verdict.ERROR,
                    reason="not a recognised media format "
                    "(the first bytes match no image, video or audio type)",
                    **base,
                )
            return Report(verdict=Verdict.UNSIGNED, reason="no C2PA manifest found", **base)
        return _judge(raw, self.trust, base)


def verify(
    source: str | os.PathLike[str] | BinaryIO,
    *,
    trust: TrustConfig | None = None,
    fragments: Sequence[str | os.PathLike[str]] = (),
    remote_manifests: bool = False,
    ocsp: bool = False,
    repository: Any = None,
) -> Report:
    """Verify one asset (a path or a seekable binary stream) and return its Report.

    With a ``repository``, an unsigned video is looked up by fingerprint (``stripped``)."""
    with Verifier(trust, remote_manifests=remote_manifests, ocsp=ocsp, repository=repository) as v:
        return v.verify(source, fragments)


# ---------------------------------------------------------------------------
# input


def _display_name(source: object) -> str:
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    return str(getattr(source, "name", "<stream>"))


def _open_source(source: str | os.PathLike[str] | BinaryIO, stack: ExitStack) -> BinaryIO:
    if not isinstance(source, str | os.PathLike):
        if isinstance(source, io.TextIOBase) or not (
            hasattr(source, "read") and hasattr(source, "seek")
        ):
            raise InputError(f"{_display_name(source)}: not a seekable binary stream")
        return source
    path = os.fspath(source)
    try:
        st = os.stat(path)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot access: {exc.strerror or exc}") from exc
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path}: is a directory, not a media file")
    if not stat.S_ISREG(st.st_mode):
        # A FIFO or device would block or never end: refuse before opening it.
        raise InputError(f"{path}: not a regular file")
    if st.st_size == 0:
        raise InputError(f"{path}: empty file")
    try:
        f = stack.enter_context(open(path, "rb", buffering=1024 * 1024))
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return f


def _error_report(
    name: str,
    message: str,
    *,
    trust: TrustConfig,
    kind: media.MediaType | None = None,
    fragments: tuple[str, ...] = (),
) -> Report:
    prefix = f"{name}: "
    reason = message[len(prefix) :] if message.startswith(prefix) else message
    return Report(
        path=name,
        verdict=Verdict.ERROR,
        reason=reason,
        format=kind.mime if kind else None,
        trust_configured=trust.has_signer_trust,
        fragments=fragments,
    )


def _failure_report(
    name: str,
    fail: _c2pa.ReadFailure,
    kind: media.MediaType | None,
    trust: TrustConfig,
    fragments: tuple[str, ...],
) -> Report:
    base: dict[str, Any] = {
        "path": name,
        "format": kind.mime if kind else None,
        "trust_configured": trust.has_signer_trust,
        "fragments": fragments,
    }
    if fail.kind == "remote":
        return Report(
            verdict=Verdict.UNSIGNED,
            reason="no embedded manifest; the file points to a remote manifest that "
            "was not fetched (use --remote-manifests to fetch it)",
            remote_manifest_url=fail.detail or None,
            **base,
        )
    if fail.kind == "remote-failed":
        return Report(
            verdict=Verdict.UNSIGNED,
            reason=f"no embedded manifest, and the remote manifest it points to could not be "
            f"fetched: {fail.detail}",
            **base,
        )
    if fail.kind == "unsupported" and kind is not None:
        # a real media format the C2PA library cannot carry credentials in (e.g. WebM)
        return Report(
            verdict=Verdict.UNSIGNED,
            reason=f"no C2PA manifest: the C2PA library does not read {kind.name} files, "
            "so they cannot carry embedded credentials",
            **base,
        )
    if fail.kind == "manifest" and kind is not None:
        problem = Problem(
            "manifest.unreadable", "the manifest store is broken and cannot be read", fail.detail
        )
        return Report(
            verdict=Verdict.INVALID,
            reason=f"the C2PA manifest store cannot be read: {fail.detail}",
            problems=(problem,),
            status_codes=("manifest.unreadable",),
            **base,
        )
    if kind is None:
        return Report(
            verdict=Verdict.ERROR,
            reason="not a recognised media format (the first "
            "bytes match no image, video or audio type)",
            **base,
        )
    detail = f": {fail.detail}" if fail.detail else ""
    return Report(verdict=Verdict.ERROR, reason=f"{fail.message} ({kind.name}){detail}", **base)


# ---------------------------------------------------------------------------
# judging a manifest store


def _codes(results: Mapping[str, Any] | None, bucket: str) -> list[Mapping[str, Any]]:
    if not isinstance(results, Mapping):
        return []
    items = results.get(bucket) or []
    return [i for i in items if isinstance(i, Mapping) and isinstance(i.get("code"), str)]


def _judge(raw: _c2pa.RawRead, trust: TrustConfig, base: dict[str, Any]) -> Report:
    store = raw.store or {}
    results = store.get("validation_results") or {}
    active_results = results.get("activeManifest") or {}
    deltas = results.get("ingredientDeltas") or []

    failures: list[tuple[Mapping[str, Any], str]] = [
        (c, "active manifest") for c in _codes(active_results, "failure")
    ]
    for delta in deltas:
        where = "ingredient"
        for c in _codes(delta.get("validationDeltas"), "failure"):
            failures.append((c, where))
    # validation_status (the legacy flat list) can hold codes the structured results lack.
    seen = {(c["code"], c.get("url")) for c, _ in failures}
    for c in store.get("validation_status") or []:
        if (
            isinstance(c, Mapping)
            and isinstance(c.get("code"), str)
            and (c["code"], c.get("url")) not in seen
        ):
            failures.append((dict(c), "manifest store"))
            seen.add((c["code"], c.get("url")))

    problem_list = [
        Problem(c["code"], describe_code(c["code"]), c.get("explanation"), where)
        for c, where in failures
    ]

    cr_by_label = _crjson_by_label(raw.crjson)
    manifests = store.get("manifests") or {}
    active_label = store.get("active_manifest")
    manifest = (
        _build_manifest(active_label, manifests, cr_by_label, trust, set())
        if isinstance(active_label, str) and active_label in manifests
        else None
    )

    if manifest is not None:
        for ing in _ingredients(manifest):
            for p in ing.problems:
                if not any(
                    q.code == p.code and q.where in (p.where, "ingredient") for q in problem_list
                ):
                    problem_list.append(p)
    problems = tuple(problem_list)
    codes = tuple(dict.fromkeys(p.code for p in problems))

    ai, ai_reason = _ai_for(active_label, manifests, set())

    state = store.get("validation_state")
    verdict, reason = _verdict(codes, state, active_results, manifest, trust)
    notes: list[str] = []
    if not trust.has_signer_trust and verdict is Verdict.UNTRUSTED:
        notes.append(
            "no trust anchors are configured, so no signer can be trusted: run "
            "`provcheck trust update` (official C2PA trust list) or pass --trust PEM"
        )
    if manifest is not None and _self_signed(cr_by_label.get(manifest.label)):
        notes.append(
            "the signing certificate is self-signed (issuer = subject): anyone can "
            "put any name in such a certificate, so its name proves nothing"
        )
    if raw.remote_url and not raw.embedded:
        notes.append(f"the manifest was fetched from {raw.remote_url}")
    return Report(
        verdict=verdict,
        reason=reason,
        ai_generated=ai,
        ai_reason=ai_reason,
        manifest=manifest,
        problems=problems,
        status_codes=codes,
        validation_state=state if isinstance(state, str) else None,
        remote_manifest_url=raw.remote_url,
        notes=tuple(notes),
        **base,
    )


def _verdict(
    codes: Iterable[str],
    state: object,
    active_results: Mapping[str, Any],
    manifest: Manifest | None,
    trust: TrustConfig,
) -> tuple[Verdict, str]:
    codes = list(codes)
    broken = [c for c in codes if c not in TAMPER_CODES and c not in UNTRUSTED_CODES]
    if broken:
        return Verdict.INVALID, f"the manifest is not valid: {describe_code(broken[0])}"
    tampered = [c for c in codes if c in TAMPER_CODES]
    if tampered:
        return Verdict.TAMPERED, describe_code(tampered[0])
    if state == "Invalid":  # the library saw a failure we could not attribute: never pass it
        return Verdict.INVALID, "the C2PA library judged the manifest invalid"
    if "signingCredential.untrusted" in codes:
        who = (
            "an ingredient's signer"
            if _untrusted_only_in_ingredients(active_results)
            else "the signer"
        )
        return (
            Verdict.UNTRUSTED,
            f"the manifest is intact, but {who} is not on any configured trust list",
        )
    if "timeStamp.untrusted" in codes:
        return (
            Verdict.UNTRUSTED,
            "the manifest is intact, but its timestamp authority is "
            "not on a configured TSA trust list",
        )
    # c2pa-rs says "Trusted" for a signer under *any* configured root, TSA roots included;
    # we accept only signers vouched for by a claim-signer list (anchors or allowed list),
    # for the active manifest and for every manifest in its ingredient chain.
    if state == "Trusted" and manifest is not None:
        unvouched = [m for m in _chain(manifest) if m.signer is None or m.signer.trust_list is None]
        if not unvouched:
            return (
                Verdict.TRUSTED,
                "the manifest is intact, its signature is valid and the signer "
                "chains to a configured trust anchor",
            )
        who = "the signer" if unvouched[0] is manifest else "an ingredient's signer"
        return (
            Verdict.UNTRUSTED,
            f"the manifest is intact, but {who} is not vouched for by any configured "
            "claim-signer trust list",
        )
    return (
        Verdict.UNTRUSTED,
        "the manifest is intact and its signature is valid, but the "
        "signer is not on any configured trust list",
    )


def _ingredients(manifest: Manifest) -> list[Ingredient]:
    out: list[Ingredient] = []
    for ing in manifest.ingredients:
        out.append(ing)
        if ing.manifest is not None:
            out.extend(_ingredients(ing.manifest))
    return out


def _chain(manifest: Manifest) -> list[Manifest]:
    out = [manifest]
    for ing in manifest.ingredients:
        if ing.manifest is not None:
            out.extend(_chain(ing.manifest))
    return out


def _vouching_list(explanation: str, trust: TrustConfig) -> str | None:
    """The claim-signer list named in a ``signingCredential.trusted`` explanation, or None.

    Our sources are registered as ``provcheck:<kind>/<label>``; an allowed-list hit is
    reported with an empty list name.
    """
    match = re.search(r"found in \[([^\]]*)\] trust anchors", explanation)
    if match is None:
        return None
    uri = match.group(1)
    for src in trust.anchors:
        if uri == _c2pa.source_uri("anchors", src.label):
            return src.label
    if uri == "" and trust.allowed:
        return "allowed list " + ", ".join(s.label for s in trust.allowed)
    return None


def _untrusted_only_in_ingredients(active_results: Mapping[str, Any]) -> bool:
    return not any(
        c["code"] == "signingCredential.untrusted" for c in _codes(active_results, "failure")
    )


def _self_signed(m: Mapping[str, Any] | None) -> bool:
    sig = m.get("signature") if isinstance(m, Mapping) else None
    cert = sig.get("certificateInfo") if isinstance(sig, Mapping) else None
    if not isinstance(cert, Mapping):
        return False
    subject, issuer = cert.get("subject"), cert.get("issuer")
    return isinstance(subject, Mapping) and bool(subject) and subject == issuer


def _crjson_by_label(cr: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    if isinstance(cr, Mapping):
        for m in cr.get("manifests") or []:
            if isinstance(m, Mapping) and isinstance(m.get("label"), str):
                out[m["label"]] = m
    return out


def _str(v: object) -> str | None:
    return v if isinstance(v, str) and v else None


def _software_agent(v: object) -> str | None:
    if isinstance(v, str):
        return v
    if isinstance(v, Mapping):
        name = _str(v.get("name"))
        version = _str(v.get("version"))
        return f"{name} {version}" if name and version else name
    return None


def _actions(manifest: Mapping[str, Any]) -> tuple[Action, ...]:
    out: list[Action] = []
    for a in manifest.get("assertions") or []:
        if not isinstance(a, Mapping):
            continue
        label = a.get("label")
        if not (
            isinstance(label, str)
            and (label == "c2pa.actions" or label.startswith("c2pa.actions."))
        ):
            continue
        data = a.get("data")
        for act in (data.get("actions") if isinstance(data, Mapping) else None) or []:
            if isinstance(act, Mapping) and isinstance(act.get("action"), str):
                out.append(
                    Action(
                        action=act["action"],
                        digital_source_type=_str(act.get("digitalSourceType")),
                        software_agent=_software_agent(act.get("softwareAgent")),
                        when=_str(act.get("when")),
                        description=_str(act.get("description")),
                    )
                )
    return tuple(out)


def _ingredient_hashes(manifest: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for a in manifest.get("assertions") or []:
        if isinstance(a, Mapping) and a.get("label") == "org.provcheck.ingredient-hashes":
            data = a.get("data")
            for item in (data.get("ingredients") if isinstance(data, Mapping) else None) or []:
                if (
                    isinstance(item, Mapping)
                    and item.get("alg") == "sha256"
                    and isinstance(item.get("hash"), str)
                ):
                    out.append((str(item.get("title") or ""), item["hash"].lower()))
    return tuple(out)


def _claim_generator(manifest: Mapping[str, Any]) -> str | None:
    gen = _str(manifest.get("claim_generator"))
    if gen:
        return gen
    infos = manifest.get("claim_generator_info")
    if isinstance(infos, list) and infos:
        return _software_agent(infos[0])
    return None


def _signer(
    label: str, manifest: Mapping[str, Any], cr: Mapping[str, Any] | None, trust: TrustConfig
) -> tuple[Signer | None, Timestamp | None]:
    sig = cr.get("signature") if isinstance(cr, Mapping) else None
    info = manifest.get("signature_info") or {}
    cert = sig.get("certificateInfo") if isinstance(sig, Mapping) else None
    subject = cert.get("subject") if isinstance(cert, Mapping) else None
    issuer = cert.get("issuer") if isinstance(cert, Mapping) else None
    validity = cert.get("validity") if isinstance(cert, Mapping) else None
    if not isinstance(subject, Mapping) and not info:
        return None, None
    subject = subject if isinstance(subject, Mapping) else {}
    issuer = issuer if isinstance(issuer, Mapping) else {}
    validity = validity if isinstance(validity, Mapping) else {}
    results = cr.get("validationResults") if isinstance(cr, Mapping) else None
    success = [c["code"] for c in _codes(results, "success")]
    informational = [c["code"] for c in _codes(results, "informational")]
    failure = [c["code"] for c in _codes(results, "failure")]
    trust_list = None
    for item in _codes(results, "success"):
        if item["code"] == "signingCredential.trusted":
            trust_list = _vouching_list(str(item.get("explanation", "")), trust)
    signer = Signer(
        common_name=_str(subject.get("CN")) or _str(info.get("common_name")),
        organization=_str(subject.get("O")),
        issuer=_str(issuer.get("CN")) or _str(issuer.get("O")) or _str(info.get("issuer")),
        serial_number=_str(cert.get("serialNumber"))
        if isinstance(cert, Mapping)
        else _str(info.get("cert_serial_number")),
        not_before=_str(validity.get("notBefore")),
        not_after=_str(validity.get("notAfter")),
        algorithm=_str(sig.get("algorithm")) if isinstance(sig, Mapping) else _str(info.get("alg")),
        trust_list=trust_list,
    )
    ts_info = sig.get("timeStampInfo") if isinstance(sig, Mapping) else None
    timestamp = None
    if isinstance(ts_info, Mapping) or "timeStamp.validated" in success:
        ts_info = ts_info if isinstance(ts_info, Mapping) else {}
        ts_cert = ts_info.get("certificateInfo")
        ts_subject = ts_cert.get("subject") if isinstance(ts_cert, Mapping) else None
        all_codes = success + informational + failure
        trusted: bool | None = None
        legacy = any(
            "legacy" in str(c.get("explanation", ""))
            for c in _codes(results, "success")
            if c["code"] == "timeStamp.trusted"
        )
        if "timeStamp.trusted" in success and not legacy:
            trusted = True
        elif legacy:
            trusted = None  # c2pa-rs does not check a v1 claim's TSA against any list
        elif "timeStamp.untrusted" in all_codes or "timeStamp.mismatch" in all_codes:
            trusted = False
        timestamp = Timestamp(
            time=_str(ts_info.get("timestamp")) or _str(info.get("time")),
            authority=_str(ts_subject.get("CN")) if isinstance(ts_subject, Mapping) else None,
            trusted=trusted,
        )
    return signer, timestamp


def _build_manifest(
    label: str,
    manifests: Mapping[str, Any],
    cr_by_label: Mapping[str, Mapping[str, Any]],
    trust: TrustConfig,
    visiting: set[str],
) -> Manifest:
    m = manifests[label]
    visiting = visiting | {label}
    actions = _actions(m)
    own_ai, _ = labels.classify_actions(actions)
    signer, timestamp = _signer(label, m, cr_by_label.get(label), trust)
    ingredients = []
    for ing in m.get("ingredients") or []:
        if isinstance(ing, Mapping):
            ingredients.append(_build_ingredient(ing, manifests, cr_by_label, trust, visiting))
    return Manifest(
        ingredient_hashes=_ingredient_hashes(m),
        label=label,
        claim_generator=_claim_generator(m),
        title=_str(m.get("title")),
        format=_str(m.get("format")),
        signer=signer,
        timestamp=timestamp,
        actions=actions,
        ai_generated=own_ai,
        ingredients=tuple(ingredients),
    )


def _build_ingredient(
    ing: Mapping[str, Any],
    manifests: Mapping[str, Any],
    cr_by_label: Mapping[str, Mapping[str, Any]],
    trust: TrustConfig,
    visiting: set[str],
) -> Ingredient:
    label = _str(ing.get("active_manifest"))
    child = None
    if label and label in manifests and label not in visiting:
        child = _build_manifest(label, manifests, cr_by_label, trust, visiting)
    # The ingredient manifest's validation as of now (crJSON); the results stored in the
    # ingredient assertion were recorded at signing time, under the signer's trust settings,
    # and are used only when the store has no current results for that manifest.
    problems: list[Problem] = []
    codes: list[str] = []
    title = _str(ing.get("title"))
    if label and label in cr_by_label:
        current = cr_by_label[label].get("validationResults")
    else:
        stored = ing.get("validation_results")
        current = stored.get("activeManifest") if isinstance(stored, Mapping) else None
    for c in _codes(current, "failure"):
        if c["code"] not in codes:
            codes.append(c["code"])
            problems.append(
                Problem(
                    c["code"],
                    describe_code(c["code"]),
                    c.get("explanation"),
                    f"ingredient {title or '?'}",
                )
            )
    if label and label not in manifests:
        status = "missing"
        if "ingredient.manifest.missing" not in codes:
            problems.append(
                Problem(
                    "ingredient.manifest.missing",
                    describe_code("ingredient.manifest.missing"),
                    None,
                    f"ingredient {title or '?'}",
                )
            )
    elif not label:
        status = "no credentials"
    elif any(c not in UNTRUSTED_CODES for c in codes):
        status = "invalid"
    elif "signingCredential.untrusted" in codes or (
        child is not None and child.signer is not None and child.signer.trust_list is None
    ):
        status = "untrusted"
        if "signingCredential.untrusted" not in codes:
            # c2pa-rs may skip re-validating an ingredient whose recorded results it
            # accepts; the signer is still not vouched for by any list of ours.
            problems.append(
                Problem(
                    "signingCredential.untrusted",
                    describe_code("signingCredential.untrusted"),
                    "the ingredient's signer is not on a configured claim-signer trust list",
                    f"ingredient {title or '?'}",
                )
            )
    else:
        status = "valid"
    return Ingredient(
        title=title,
        format=_str(ing.get("format")),
        relationship=_str(ing.get("relationship")),
        status=status,
        manifest=child,
        problems=tuple(problems),
    )


def _ai_for(
    label: object, manifests: Mapping[str, Any], visiting: set[str]
) -> tuple[AIGeneration, str]:
    """The active manifest speaks first; with no signal, the strongest ingredient decides."""
    if not isinstance(label, str) or label not in manifests or label in visiting:
        return AIGeneration.UNKNOWN, "no AI-generation signal in the credentials"
    m = manifests[label]
    own, why = labels.classify_actions(_actions(m))
    if own is not AIGeneration.UNKNOWN:
        return own, f"the active manifest records {why}" if not visiting else why
    best, best_why = AIGeneration.UNKNOWN, "no AI-generation signal in the credentials"
    for ing in m.get("ingredients") or []:
        if not isinstance(ing, Mapping):
            continue
        child_ai, child_why = _ai_for(ing.get("active_manifest"), manifests, visiting | {label})
        if child_ai.strength > best.strength:
            title = _str(ing.get("title")) or "an ingredient"
            best, best_why = child_ai, f"ingredient {title}: {child_why}"
    if best is not AIGeneration.UNKNOWN and not visiting:
        best_why = f"the active manifest has no signal of its own; {best_why}"
    return best, best_why


def verify_bytes(data: bytes, name: str = "<bytes>", **kwargs: Any) -> Report:
    """Convenience for small in-memory assets (tests, fuzzing)."""
    stream = io.BytesIO(data)
    stream.name = name
    return verify(stream, **kwargs)
