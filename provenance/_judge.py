"""One verdict from the evidence: the native reader's validation codes, provcheck's own
certificate-profile checks, and the decoded manifests.

How the verdict is reached (the strictest reading wins; ``trusted`` needs every condition
at once):

1. a failure code that says the manifest itself is broken (signature, hashed URI,
   credential and certificate profile, ingredient)      -> ``invalid``
2. a failure code that says the asset's bytes changed   -> ``tampered``
3. the signer (or an ingredient's signer) is not vouched for by a configured anchor or
   allowed-list entry                                   -> ``untrusted``
4. otherwise, when the C2PA library itself says ``Trusted`` and the signer was found
   among the claim-signer anchors (never among TSA roots) -> ``trusted``
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from . import _c2pa
from . import _certprofile as certprofile
from . import _decode as decode
from ._status import PROFILE_CODE, TAMPER_CODES, UNTRUSTED_CODES, describe_code
from .model import Manifest, Problem, Report, Verdict
from .trust import TrustConfig

__all__ = ["judge", "chain_is_vouched"]

# Codes whose generic wording hides the cause: the headline adds the library's explanation.
_EXPLAIN = frozenset(
    {"signingCredential.invalid", "general.error", "claimSignature.mismatch", "claim.malformed"}
)
_VALIDITY_CODES = frozenset(
    {"signingCredential.expired", "claimSignature.outsideValidity", "timeStamp.outsideValidity"}
)


def chain_is_vouched(manifest: Manifest) -> bool:
    """Every manifest of the chain has a signer vouched for by a claim-signer list."""
    return all(
        m.signer is not None and m.signer.trust_list is not None for m in decode.chain(manifest)
    )


def _ingredient_titles(manifests: Mapping[str, Any]) -> dict[str, str]:
    """Ingredient assertion URI tail (``<manifest>/c2pa.assertions/<label>``) -> its title."""
    out: dict[str, str] = {}
    for mlabel, m in manifests.items():
        if not isinstance(m, Mapping):
            continue
        for ing in m.get("ingredients") or []:
            if isinstance(ing, Mapping) and isinstance(ing.get("label"), str):
                title = ing.get("title") if isinstance(ing.get("title"), str) else None
                out[f"{mlabel}/c2pa.assertions/{ing['label']}"] = title or "(untitled)"
    return out


def _where_for_delta(delta: Mapping[str, Any], titles: Mapping[str, str]) -> str:
    uri = delta.get("ingredientAssertionURI")
    if isinstance(uri, str):
        tail = uri.split("c2pa/", 1)[-1] if "c2pa/" in uri else uri
        for key, title in titles.items():
            if tail.endswith(key):
                return f"ingredient {title}"
    return "ingredient (unnamed)"


def judge(raw: _c2pa.RawRead, trust: TrustConfig, base: dict[str, Any]) -> Report:
    """The Report of a manifest store that the native reader returned."""
    store = raw.store or {}
    results = store.get("validation_results") or {}
    active_results = results.get("activeManifest") or {}
    deltas = results.get("ingredientDeltas") or []
    manifests = store.get("manifests") or {}
    if not isinstance(manifests, Mapping):
        manifests = {}
    titles = _ingredient_titles(manifests)

    failures: list[tuple[Mapping[str, Any], str]] = [
        (c, "active manifest") for c in decode.codes(active_results, "failure")
    ]
    for delta in deltas if isinstance(deltas, list) else []:
        if not isinstance(delta, Mapping):
            continue
        where = _where_for_delta(delta, titles)
        for c in decode.codes(delta.get("validationDeltas"), "failure"):
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
        Problem(c["code"], describe_code(c["code"]), _str(c.get("explanation")), where)
        for c, where in failures
    ]

    chains = certprofile.signature_chains(raw.store_bytes)
    view = decode.trust_view(
        trust, chains, certprofile.timestamp_certs(raw.store_bytes) if trust.tsa else None
    )
    cr_by_label = decode.crjson_by_label(raw.crjson)
    active_label = store.get("active_manifest")
    manifest = (
        decode.build_manifest(active_label, manifests, cr_by_label, view)
        if isinstance(active_label, str) and active_label in manifests
        else None
    )

    if manifest is not None:
        for ing in decode.all_ingredients(manifest):
            for p in ing.problems:
                if not any(q.code == p.code and q.where == p.where for q in problem_list):
                    problem_list.append(p)
        problem_list.extend(_profile_problems(manifest, chains, cr_by_label, problem_list))
    problems = tuple(problem_list)
    codes = tuple(dict.fromkeys(p.code for p in problems))

    ai, ai_reason = decode.ai_for(active_label, manifests, set())

    state = store.get("validation_state")
    verdict, reason = _verdict(problems, state, active_results, manifest)
    notes: list[str] = []
    if not trust.has_signer_trust and verdict is Verdict.UNTRUSTED:
        notes.append(
            "no trust anchors are configured, so no signer can be trusted: run "
            "`provcheck trust update` (official C2PA trust list) or pass --trust PEM"
        )
    if manifest is not None and decode.self_signed(cr_by_label.get(manifest.label)):
        notes.append(
            "the signing certificate is self-signed (issuer = subject): anyone can "
            "put any name in such a certificate, so its name proves nothing"
        )
    if manifest is not None and trust.tsa:
        for m in decode.chain(manifest):
            if (
                m.timestamp is not None
                and m.timestamp.trusted is False
                and not any(p.code == "timeStamp.untrusted" for p in problems)
            ):
                notes.append(
                    f"the timestamp authority {m.timestamp.authority or '(unnamed)'} is not on "
                    "the configured TSA trust list (checked by provcheck: the C2PA library "
                    "does not check a v1 claim's timestamp authority; the verdict does not "
                    "rest on it)"
                )
                break
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


def _str(v: object) -> str | None:
    return v if isinstance(v, str) and v else None


def _profile_problems(
    manifest: Manifest,
    chains: Mapping[str, certprofile.ChainInfo],
    cr_by_label: Mapping[str, Mapping[str, Any]],
    known: list[Problem],
) -> list[Problem]:
    """The claim-signer certificate profile, enforced on every manifest of the chain."""
    out: list[Problem] = []
    todo: list[tuple[Manifest, str]] = [(manifest, "active manifest")]
    for ing in decode.all_ingredients(manifest):
        if ing.manifest is not None:
            todo.append((ing.manifest, f"ingredient {ing.title or '(untitled)'}"))
    for m, where in todo:
        info = chains.get(m.label)
        if info is None:
            continue
        signed_at = m.timestamp.time if m.timestamp else None
        results = cr_by_label.get(m.label, {}).get("validationResults")
        own = {c["code"] for c in decode.codes(results, "failure")}
        own |= {p.code for p in known if p.where == where}
        for v in certprofile.check_profile(info, signed_at):
            if v.rule == "validity" and (
                own & _VALIDITY_CODES or (where != "active manifest" and not signed_at)
            ):
                # already reported by the library; or an ingredient without a timestamp,
                # whose validity was judged when it was ingested
                continue
            out.append(
                Problem(PROFILE_CODE, v.message, f"C2PA claim-signer profile: {v.rule}", where)
            )
    return out


def _headline(p: Problem) -> str:
    if p.code == PROFILE_CODE and (p.detail or "").startswith("C2PA claim-signer profile"):
        text = p.message  # our own check: the message names the rule
    elif p.detail and (p.code in _EXPLAIN or p.message.startswith("validation failure")):
        text = f"{p.message} ({p.detail})"
    else:
        text = p.message
    return text if p.where == "active manifest" else f"{p.where}: {text}"


def _verdict(
    problems: Iterable[Problem],
    state: object,
    active_results: Mapping[str, Any],
    manifest: Manifest | None,
) -> tuple[Verdict, str]:
    problems = list(problems)
    codes = [p.code for p in problems]
    broken = [p for p in problems if p.code not in TAMPER_CODES and p.code not in UNTRUSTED_CODES]
    if broken:
        return Verdict.INVALID, f"the manifest is not valid: {_headline(broken[0])}"
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
        unvouched = [
            m for m in decode.chain(manifest) if m.signer is None or m.signer.trust_list is None
        ]
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


def _untrusted_only_in_ingredients(active_results: Mapping[str, Any]) -> bool:
    return not any(
        c["code"] == "signingCredential.untrusted" for c in decode.codes(active_results, "failure")
    )
