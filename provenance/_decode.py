"""The C2PA manifest store read as data: manifests, signers, actions, ingredients,
assertions and AI signals, decoded from the native reader's JSON (``Reader.json()`` and
crJSON). Nothing here decides a verdict; ``judge`` does that.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from cryptography import x509

from . import _c2pa, labels
from ._certprofile import ChainInfo, chains_to, tsa_vouched
from ._status import TAMPER_CODES, UNTRUSTED_CODES, describe_code
from .model import (
    Action,
    AIGeneration,
    AIPart,
    Assertion,
    Identity,
    Ingredient,
    Manifest,
    Problem,
    Signer,
    Timestamp,
    VisibleLabelClaim,
)
from .trust import TrustConfig

__all__ = [
    "codes",
    "crjson_by_label",
    "build_manifest",
    "ai_for",
    "chain",
    "all_ingredients",
    "self_signed",
    "trust_view",
]


def codes(results: Mapping[str, Any] | None, bucket: str) -> list[Mapping[str, Any]]:
    """The status entries of one bucket (success / informational / failure) that carry a code."""
    if not isinstance(results, Mapping):
        return []
    items = results.get(bucket) or []
    if not isinstance(items, list):
        return []
    return [i for i in items if isinstance(i, Mapping) and isinstance(i.get("code"), str)]


class _Trust:
    """The trust configuration with the store's certificate chains, for judging signers."""

    def __init__(
        self,
        config: TrustConfig,
        chains: Mapping[str, ChainInfo],
        tsa_certs: Mapping[str, list[x509.Certificate]] | None = None,
    ) -> None:
        self.config = config
        self.chains = chains
        self.tsa_certs = tsa_certs or {}
        self._anchors: list[tuple[str, list[x509.Certificate]]] | None = None
        self._tsa: list[x509.Certificate] | None = None

    def legacy_tsa_trusted(self, label: str) -> bool | None:
        """A v1 claim's timestamp authority judged under the configured TSA list (the C2PA
        library does not check it); None without a TSA list or without its certificates."""
        if not self.config.tsa or label not in self.tsa_certs:
            return None
        if self._tsa is None:
            self._tsa = []
            for src in self.config.tsa:
                try:
                    self._tsa.extend(x509.load_pem_x509_certificates(src.pem.encode()))
                except ValueError:
                    continue
        return tsa_vouched(self.tsa_certs[label], self._tsa)

    def vouching_anchor(self, chain: ChainInfo) -> str | None:
        if self._anchors is None:
            self._anchors = []
            for src in self.config.anchors:
                try:
                    certs = x509.load_pem_x509_certificates(src.pem.encode())
                except ValueError:
                    continue
                self._anchors.append((src.label, certs))
        for label, certs in self._anchors:
            if chains_to(chain, certs):
                return label
        return None


def trust_view(
    config: TrustConfig,
    chains: Mapping[str, ChainInfo],
    tsa_certs: Mapping[str, list[x509.Certificate]] | None = None,
) -> _Trust:
    return _Trust(config, chains, tsa_certs)


_MAX_ASSERTION_JSON = 16 * 1024
_MAX_STRING = 2000
_MAX_ITEMS = 200
_MAX_DEPTH = 8


def _bounded(value: Any, depth: int = 0) -> tuple[Any, bool]:
    """A JSON-ready copy of value, bounded: (copy, whether something was cut)."""
    if depth > _MAX_DEPTH:
        return "(nested too deep)", True
    if isinstance(value, str):
        if len(value) > _MAX_STRING:
            return value[:_MAX_STRING] + "...", True
        return value, False
    if value is None or isinstance(value, bool | int | float):
        return value, False
    if isinstance(value, list):
        if len(value) > 16 and all(isinstance(v, int) and 0 <= v < 256 for v in value):
            return f"(binary data, {len(value)} bytes)", True
        cut = len(value) > _MAX_ITEMS
        out = []
        for v in value[:_MAX_ITEMS]:
            b, c = _bounded(v, depth + 1)
            out.append(b)
            cut = cut or c
        return out, cut
    if isinstance(value, Mapping):
        cut = len(value) > _MAX_ITEMS
        obj: dict[str, Any] = {}
        for k, v in list(value.items())[:_MAX_ITEMS]:
            b, c = _bounded(v, depth + 1)
            obj[str(k)[:_MAX_STRING]] = b
            cut = cut or c
        return obj, cut
    return str(value)[:_MAX_STRING], True


def _assertions(manifest: Mapping[str, Any]) -> tuple[Assertion, ...]:
    out: list[Assertion] = []
    for a in manifest.get("assertions") or []:
        if not isinstance(a, Mapping) or not isinstance(a.get("label"), str):
            continue
        data, cut = _bounded(a.get("data"))
        if len(json.dumps(data, ensure_ascii=False)) > _MAX_ASSERTION_JSON:
            data, cut = (
                f"(assertion data too large to show, over {_MAX_ASSERTION_JSON} bytes)",
                True,
            )
        out.append(Assertion(label=a["label"][:_MAX_STRING], data=data, truncated=cut))
    return tuple(out)


def all_ingredients(manifest: Manifest) -> list[Ingredient]:
    out: list[Ingredient] = []
    for ing in manifest.ingredients:
        out.append(ing)
        if ing.manifest is not None:
            out.extend(all_ingredients(ing.manifest))
    return out


def chain(manifest: Manifest) -> list[Manifest]:
    out = [manifest]
    for ing in manifest.ingredients:
        if ing.manifest is not None:
            out.extend(chain(ing.manifest))
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


def self_signed(m: Mapping[str, Any] | None) -> bool:
    sig = m.get("signature") if isinstance(m, Mapping) else None
    cert = sig.get("certificateInfo") if isinstance(sig, Mapping) else None
    if not isinstance(cert, Mapping):
        return False
    subject, issuer = cert.get("subject"), cert.get("issuer")
    return isinstance(subject, Mapping) and bool(subject) and subject == issuer


def crjson_by_label(cr: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
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


def _raw_actions(manifest: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every well-formed entry of the manifest's ``c2pa.actions`` assertions (any version)."""
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
            if isinstance(act, Mapping):
                yield act


def _actions(manifest: Mapping[str, Any]) -> tuple[Action, ...]:
    out: list[Action] = []
    for act in _raw_actions(manifest):
        if isinstance(act.get("action"), str):
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


def _ai_parts(manifest: Mapping[str, Any], label: str) -> tuple[AIPart, ...]:
    """AI-made parts declared in the actions' ``changes`` (regions of interest)."""
    from .parts import parts_from_action

    out: list[AIPart] = []
    for act in _raw_actions(manifest):
        out.extend(parts_from_action(act, label))
    return tuple(out[:200])


def _signer_name(signer: Signer | None) -> str | None:
    """Who signed, in a few words: the certificate's common name and organisation."""
    if signer is None:
        return None
    names = [n for n in (signer.common_name, signer.organization) if n]
    return ", ".join(dict.fromkeys(names)) or None


def _visible_labels(
    manifest: Mapping[str, Any], label: str, signer: Signer | None
) -> tuple[VisibleLabelClaim, ...]:
    """Visible labels recorded by the manifest's actions (provenance.visible_label)."""
    out: list[VisibleLabelClaim] = []
    for act in _raw_actions(manifest):
        if act.get("action") != labels.VISIBLE_LABEL_ACTION:
            continue
        # the labelling module loads only for a labelling action: most verifies skip it
        from .visible_label import label_from_action

        seen = label_from_action(act)
        if seen is not None:
            out.append(
                VisibleLabelClaim(
                    manifest=label,
                    signer=_signer_name(signer),
                    software_agent=_software_agent(act.get("softwareAgent")),
                    **seen,
                )
            )
    return tuple(out[:20])


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
    label: str, manifest: Mapping[str, Any], cr: Mapping[str, Any] | None, trust: _Trust
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
    success = [c["code"] for c in codes(results, "success")]
    informational = [c["code"] for c in codes(results, "informational")]
    failure = [c["code"] for c in codes(results, "failure")]
    trust_list = None
    for item in codes(results, "success"):
        if item["code"] == "signingCredential.trusted":
            trust_list = _vouching_list(str(item.get("explanation", "")), trust.config)
    if (
        trust_list is None
        and "signingCredential.untrusted" not in failure + informational
        and label in trust.chains
    ):
        # The library did not judge this (ingredient) signer now (it may accept the
        # results recorded at ingestion): judge its chain under the configured anchors.
        trust_list = trust.vouching_anchor(trust.chains[label])
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
            for c in codes(results, "success")
            if c["code"] == "timeStamp.trusted"
        )
        if "timeStamp.trusted" in success and not legacy:
            trusted = True
        elif legacy:
            # c2pa-rs does not check a v1 claim's TSA against any list: provcheck does,
            # when a TSA list is configured (None otherwise: not checked)
            trusted = trust.legacy_tsa_trusted(label)
        elif "timeStamp.untrusted" in all_codes or "timeStamp.mismatch" in all_codes:
            trusted = False
        timestamp = Timestamp(
            time=_str(ts_info.get("timestamp")) or _str(info.get("time")),
            authority=_str(ts_subject.get("CN")) if isinstance(ts_subject, Mapping) else None,
            trusted=trusted,
        )
    return signer, timestamp


def build_manifest(
    label: str,
    manifests: Mapping[str, Any],
    cr_by_label: Mapping[str, Mapping[str, Any]],
    trust: _Trust,
    visiting: set[str] | None = None,
) -> Manifest:
    """One manifest of the store, its ingredients' manifests decoded recursively."""
    m = manifests[label]
    visiting = visiting or set()
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
        assertions=_assertions(m),
        ai_parts=_ai_parts(m, label),
        identities=_identities(m),
        visible_labels=_visible_labels(m, label, signer),
    )


def _build_ingredient(
    ing: Mapping[str, Any],
    manifests: Mapping[str, Any],
    cr_by_label: Mapping[str, Mapping[str, Any]],
    trust: _Trust,
    visiting: set[str],
) -> Ingredient:
    label = _str(ing.get("active_manifest"))
    child = None
    if label and label in manifests and label not in visiting:
        child = build_manifest(label, manifests, cr_by_label, trust, visiting)
    # The ingredient manifest's validation as of now (crJSON); the results stored in the
    # ingredient assertion were recorded at signing time, under the signer's trust settings,
    # and are used only when the store has no current results for that manifest.
    problems: list[Problem] = []
    seen: list[str] = []
    title = _str(ing.get("title"))
    if label and label in cr_by_label:
        current = cr_by_label[label].get("validationResults")
    else:
        stored = ing.get("validation_results")
        current = stored.get("activeManifest") if isinstance(stored, Mapping) else None
    recorded = _recorded_at_signing(ing, title) if label and label in cr_by_label else ()
    for c in codes(current, "failure"):
        if c["code"] not in seen:
            seen.append(c["code"])
            problems.append(
                Problem(
                    c["code"],
                    describe_code(c["code"]),
                    c.get("explanation"),
                    f"ingredient {title or '(untitled)'}",
                )
            )
    if label and label not in manifests:
        status = "missing"
        if "ingredient.manifest.missing" not in seen:
            problems.append(
                Problem(
                    "ingredient.manifest.missing",
                    describe_code("ingredient.manifest.missing"),
                    None,
                    f"ingredient {title or '(untitled)'}",
                )
            )
    elif not label:
        status = "no credentials"
    elif recorded or any(c not in UNTRUSTED_CODES for c in seen):
        status = "invalid"
    elif "signingCredential.untrusted" in seen or (
        child is not None and child.signer is not None and child.signer.trust_list is None
    ):
        status = "untrusted"
        if "signingCredential.untrusted" not in seen:
            # c2pa-rs may skip re-validating an ingredient whose recorded results it
            # accepts; the signer is still not vouched for by any list of ours.
            problems.append(
                Problem(
                    "signingCredential.untrusted",
                    describe_code("signingCredential.untrusted"),
                    "the ingredient's signer is not on a configured claim-signer trust list",
                    f"ingredient {title or '(untitled)'}",
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
        used=_used_ranges(ing),
        recorded_problems=recorded,
    )


def _recorded_at_signing(ing: Mapping[str, Any], title: str | None) -> tuple[Problem, ...]:
    """Content-hash failures the signer's library recorded when it added the ingredient.

    An ingredient's content can only be checked against its manifest when it is added
    (the output does not hold the ingredient's bytes), so a creator clip that was already
    altered when an ad was cut from it shows only here. They describe the ingredient, not
    this file: they make the ingredient broken, not this file's verdict.
    """
    stored = ing.get("validation_results")
    at_signing = stored.get("activeManifest") if isinstance(stored, Mapping) else None
    out: list[Problem] = []
    for c in codes(at_signing, "failure"):
        if c["code"] in TAMPER_CODES and all(p.code != c["code"] for p in out):
            out.append(
                Problem(
                    c["code"],
                    describe_code(c["code"]) + " (recorded when it was used as an ingredient)",
                    c.get("explanation"),
                    f"ingredient {title or '(untitled)'}",
                )
            )
    return tuple(out)


def ai_for(
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
        child_ai, child_why = ai_for(ing.get("active_manifest"), manifests, visiting | {label})
        if child_ai.strength > best.strength:
            title = _str(ing.get("title")) or "an ingredient"
            best, best_why = child_ai, f"ingredient {title}: {child_why}"
    if best is not AIGeneration.UNKNOWN and not visiting:
        best_why = f"the active manifest has no signal of its own; {best_why}"
    return best, best_why


# The creators module (ranges, identities) loads only for a manifest that has either:
# 7 ms of start-up for every other file.
def _identities(manifest: Mapping[str, Any]) -> tuple[Identity, ...]:
    if not isinstance(manifest.get(_c2pa.IDENTITY_KEY), list):
        return ()
    from .creators import identities_from

    return identities_from(manifest)


def _used_ranges(ingredient: Mapping[str, Any]) -> tuple[tuple[float, float | None], ...]:
    meta = ingredient.get("metadata")
    if not (isinstance(meta, Mapping) and "regionOfInterest" in meta):
        return ()
    from .creators import used_ranges

    return used_ranges(ingredient)
