"""Text and JSON for the per-file commands (verify, gate, repo, trust). No C2PA logic here.

Every string that came from a file or a file name goes through ``_s`` (escaped for
the terminal) before it is styled; styles are only ever added around escaped text.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import click

from provenance import AIGeneration, Ingredient, Manifest, Report, Verdict
from provenance.textsafe import for_terminal as _s

from .output import (
    AI_COLORS,
    CLAIMED,
    FAIL_COLOR,
    PASS_COLOR,
    VERDICT_COLORS,
    envelope,
    summary_of,
    to_json,
)

__all__ = [
    "render_text",
    "render_json",
    "render_gate_text",
    "render_gate_json",
    "render_repo_entries",
    "render_repo_matches",
    "render_trust_sources",
    "VERDICT_COLORS",
]

# --detailed: how much of one assertion's data is shown before it is cut.
DETAIL_LIMIT = 2000


def _line(label: str, value: str, indent: int = 2) -> str:
    return " " * indent + click.style(f"{label:<11}", dim=True) + " " + value


def _claimed(text: str, claimed: bool) -> str:
    return f"{text} ({CLAIMED})" if claimed else text


def _manifest_lines(m: Manifest, indent: int, *, claimed: bool = False) -> list[str]:
    """One manifest; with ``claimed`` (a broken manifest) every claim says so, uncoloured."""
    out: list[str] = []
    if m.signer is not None:
        if claimed:
            trust = CLAIMED
        elif m.signer.trust_list:
            trust = f"vouched for by {_s(m.signer.trust_list)}"
        else:
            trust = "not on a configured trust list"
        out.append(_line("signed by", f"{_s(m.signer.display())} — {trust}", indent))
    if m.timestamp is not None:
        tsa = {
            True: "TSA trusted",
            False: "TSA not trusted",
            None: "TSA not checked against a trust list",
        }[m.timestamp.trusted]
        by = f" by {_s(m.timestamp.authority)}" if m.timestamp.authority else ""
        when = _s(m.timestamp.time or "?")
        out.append(_line("signed at", _claimed(f"{when}{by} ({tsa})", claimed), indent))
    else:
        out.append(_line("signed at", "no trusted timestamp (time unproven)", indent))
    if m.claim_generator:
        out.append(_line("made with", _claimed(_s(m.claim_generator), claimed), indent))
    if m.title:
        fmt = f" ({_s(m.format)})" if m.format else ""
        out.append(_line("title", _claimed(_s(m.title) + fmt, claimed), indent))
    if m.actions:
        out.append(_line("actions", f"({CLAIMED})" if claimed else "", indent))
        for a in m.actions:
            extra = []
            if a.digital_source_type:
                extra.append(f"source: {_s(a.digital_source_type.rsplit('/', 1)[-1])}")
            if a.software_agent:
                extra.append(f"by {_s(a.software_agent)}")
            if a.when:
                extra.append(_s(a.when))
            tail = f"  ({'; '.join(extra)})" if extra else ""
            out.append(" " * (indent + 4) + f"- {_s(a.action)}{tail}")
    out.extend(_identity_lines(m, indent, claimed=claimed))
    if m.ingredients:
        out.append(_line("ingredients", f"({CLAIMED})" if claimed else "", indent))
        for ing in m.ingredients:
            out.extend(_ingredient_lines(ing, indent + 4, claimed=claimed))
    return out


_IDENTITY_COLORS = {"verified": "green", "not trusted": "yellow", "invalid": "red"}


def _identity_lines(m: Manifest, indent: int, *, claimed: bool) -> list[str]:
    """CAWG identity assertions: a name is green only when the C2PA library verified it."""
    from provenance import describe_identity

    out = []
    for ident in m.identities:
        color = None if claimed else _IDENTITY_COLORS.get(ident.status)
        text = click.style(_s(describe_identity(ident)), fg=color)
        out.append(_line("identity", _claimed(text, claimed), indent))
        out.append(" " * (indent + 12) + click.style(_s(ident.reason), dim=True))
        for detail in ident.details[:10]:
            out.append(" " * (indent + 12) + f"- {_s(detail)}")
    return out


def _contains_lines(report: Report) -> list[str]:
    """Whose work is inside: "contains 6.0 s of "Creator clip" signed by ... (intact)"."""
    from provenance import describe_identity, describe_work

    out = []
    for work in report.contains:
        color = None if work.claimed else ("green" if work.trusted else None)
        if not work.claimed and work.status in ("invalid", "missing"):
            color = "red"
        text = describe_work(work).removeprefix("contains ")
        out.append(_line("contains", click.style(_s(text), fg=color)))
        for ident in work.identities:
            said = _claimed(_s(describe_identity(ident)), work.claimed)
            out.append(_line("  identity", said))
    return out


_INGREDIENT_COLORS = {
    "valid": "green",
    "untrusted": "yellow",
    "invalid": "red",
    "missing": "red",
    "no credentials": None,
}


def _ingredient_lines(ing: Ingredient, indent: int, *, claimed: bool) -> list[str]:
    color = None if claimed else _INGREDIENT_COLORS.get(ing.status)
    name = _s(ing.title or "(untitled)")
    head = f"- {name} [{_s(ing.relationship or 'ingredient')}]: " + click.style(
        _s(ing.status), fg=color
    )
    out = [" " * indent + head]
    if ing.used:
        from provenance.parts import format_time

        spans = ", ".join(
            f"{format_time(s)}\u2013{format_time(e) if e is not None else 'end'}"
            for s, e in ing.used
        )
        out.append(_line("used", _claimed(_s(spans), claimed), indent + 2))
    for p in ing.recorded_problems:
        out.append(" " * (indent + 2) + click.style(f"! {_s(p.message)} [{_s(p.code)}]", fg="red"))
    if ing.manifest is not None:
        ai = ing.manifest.ai_generated
        if ai is not AIGeneration.UNKNOWN:
            out.append(_line("AI (own)", _claimed(ai.value, claimed), indent + 2))
        out.extend(_manifest_lines(ing.manifest, indent + 2, claimed=claimed))
    for p in ing.problems:
        out.append(
            " " * (indent + 2) + click.style(f"! {_s(p.message)} [{_s(p.code)}, {name}]", fg="red")
        )
    return out


def _summarise_data(data: Any) -> Any:
    """Binary data (bytes, or a base64-looking string) replaced by its size and hash."""
    if isinstance(data, bytes | bytearray):
        digest = hashlib.sha256(data).hexdigest()[:16]
        return f"<{len(data)} bytes of binary data, sha256 {digest}…>"
    if isinstance(data, Mapping):
        return {str(k): _summarise_data(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_summarise_data(v) for v in data]
    if isinstance(data, str) and len(data) > 256 and " " not in data:
        try:
            raw = base64.b64decode(data, validate=True)
        except ValueError:
            return data
        return _summarise_data(raw)
    return data


def _assertion_items(m: Manifest) -> list[tuple[str, Any, bool]]:
    """The manifest's assertions (label, data, cut by the library?), read defensively:
    objects with ``label``/``data``/``truncated`` or mappings, or none (older library)."""
    found = getattr(m, "assertions", None) or ()
    items: list[tuple[str, Any, bool]] = []
    for a in found:
        get = a.get if isinstance(a, Mapping) else lambda k, a=a: getattr(a, k, None)
        label = get("label")
        items.append(
            (str(label) if label is not None else "(no label)", get("data"), bool(get("truncated")))
        )
    return items


def _detailed_lines(m: Manifest, *, claimed: bool) -> list[str]:
    items = _assertion_items(m)
    if not items:
        return [_line("assertions", "none reported by the library for this manifest")]
    head = f"{len(items)}" + (f" ({CLAIMED})" if claimed else "")
    out = [_line("assertions", head)]
    for label, data, cut in items:
        tail = " (long or binary parts summarised)" if cut else ""
        out.append("      " + click.style(f"- {_s(label)}", bold=True) + tail)
        try:
            text = json.dumps(_summarise_data(data), ensure_ascii=False, default=repr)
        except (TypeError, ValueError):
            text = repr(data)
        if len(text) > DETAIL_LIMIT:
            text = f"{text[:DETAIL_LIMIT]}… ({len(text) - DETAIL_LIMIT} more characters)"
        out.append("          " + _s(text))
    return out


def _is_trust_hint(note: str) -> bool:
    return "trust update" in note


def _ai_part_lines(report: Report, *, claimed: bool) -> list[str]:
    """Which parts are AI, in words, each saying which manifest declared it when that is
    not the active one (an ingredient's manifest)."""
    if not report.ai_parts:
        return []
    from provenance import describe_part

    titles: dict[str, str] = {}
    todo = [report.manifest] if report.manifest else []
    while todo:
        m = todo.pop()
        titles.setdefault(m.label, m.title or m.label)
        todo.extend(i.manifest for i in m.ingredients if i.manifest is not None)
    active = report.manifest.label if report.manifest else None
    out = [_line("AI parts", f"({CLAIMED})" if claimed else "")]
    for part in report.ai_parts:
        said = ""
        if part.manifest and part.manifest != active:
            said = f"  (declared by ingredient {_s(titles.get(part.manifest, part.manifest))})"
        out.append(f"      - {_s(describe_part(part))}{said}")
    return out


def render_text(
    report: Report,
    *,
    verbose: bool = False,
    detailed: bool = False,
    trust_hint: bool = True,
) -> str:
    """One file for a person. Claims of a tampered/invalid manifest are marked as
    claimed, not verified, and never get a reassuring colour. ``trust_hint=False``
    leaves out the "no trust configured" note (the caller says it once per run)."""
    claimed = report.claims == "unverified"
    color = VERDICT_COLORS[report.verdict]
    lines = [
        click.style(_s(report.path), bold=True)
        + "  "
        + click.style(report.verdict.value.upper(), fg=color, bold=True)
    ]
    lines.append(_line("why", _s(report.reason)))
    if report.format:
        lines.append(_line("format", _s(report.format)))
    if claimed:
        lines.append(
            _line("claims", f"{CLAIMED}: the manifest is broken, so nothing it says is proven")
        )
    if report.verdict not in (Verdict.ERROR,):
        ai = report.ai_generated
        value = ai.value if claimed else click.style(ai.value, fg=AI_COLORS[ai], bold=True)
        lines.append(_line("AI", f"{_claimed(value, claimed)} — {_s(report.ai_reason)}"))
        lines.extend(_ai_part_lines(report, claimed=claimed))
        lines.extend(_contains_lines(report))
        for v in report.visible_labels:  # issue 15: burned-in label, said as a claim
            said = f'visible AI label "{_s(v.text)}" added by {_s(v.signer or "an unnamed signer")}'
            lines.append(_line("label", _claimed(said, claimed)))
    if report.manifest is not None:
        lines.extend(_manifest_lines(report.manifest, 2, claimed=claimed))
        if detailed:
            lines.extend(_detailed_lines(report.manifest, claimed=claimed))
    if report.problems:
        lines.append(_line("problems", ""))
        names = _ingredient_names_by_code(report.manifest)
        for p in report.problems:
            where = p.where
            if where == "ingredient" and names.get(p.code):
                where = "ingredient " + ", ".join(repr(n) for n in names[p.code])
            lines.append(
                "      "
                + click.style(f"- {_s(p.message)}", fg="red")
                + f"  [{_s(p.code)}, {_s(where)}]"
            )
            if verbose and p.detail:
                lines.append("          " + click.style(_s(p.detail), dim=True))
    if report.recovered is not None:
        rec = report.recovered
        lines.append(
            _line(
                "recovered",
                f"{_s(rec.title or rec.entry_id)} (similarity {rec.similarity:.2f})",
            )
        )
        lines.append(_line("  signer", _s(recovered_signer(report) or "?")))
        lines.append(_line("  AI", rec.ai_generated.value))
        lines.append(_line("  original", f"{_s(rec.verdict)}: {_s(rec.verdict_reason)}"))
        lines.append(
            _line(
                "  matched",
                f"{rec.matched_range[0]:.1f}-{rec.matched_range[1]:.1f} s"
                f" of this file = {rec.original_range[0]:.1f}-"
                f"{rec.original_range[1]:.1f} s of the original",
            )
        )
    if report.remote_manifest_url:
        lines.append(_line("remote", _s(report.remote_manifest_url)))
    if report.fragments:
        lines.append(_line("fragments", ", ".join(_s(f) for f in report.fragments)))
    for note in report.notes:
        if not trust_hint and _is_trust_hint(note):
            continue
        lines.append(_line("note", _s(note)))
    return "\n".join(lines)


def _ingredient_names_by_code(m: Manifest | None) -> dict[str, list[str]]:
    """Which ingredients (by title) carry each problem code, so that a report-level
    problem located only as "ingredient" can name them."""
    found: dict[str, list[str]] = {}
    if m is None:
        return found
    for ing in m.ingredients:
        for p in ing.problems:
            names = found.setdefault(p.code, [])
            title = ing.title or "(untitled)"
            if title not in names:
                names.append(title)
    return found


def recovered_signer(report: Report) -> str | None:
    """Who signed the original a stripped file was matched to (None when unknown)."""
    rec = report.recovered
    if rec is None or not isinstance(rec.signer, Mapping):
        return None
    parts = [rec.signer.get("common_name"), rec.signer.get("organization")]
    who = ", ".join(dict.fromkeys(str(p) for p in parts if p))
    return who or None


def render_json(reports: Sequence[Report], *, exit_code: int, seconds: float = 0.0) -> str:
    summary = summary_of(reports, (), seconds).to_dict()
    return to_json(envelope([r.to_dict() for r in reports], summary, exit_code))


# ---------------------------------------------------------------------------
# gate


def render_gate_text(paths: Sequence[str], decisions: Sequence[Any]) -> str:
    lines: list[str] = []
    for p, d in zip(paths, decisions, strict=True):
        head = (
            click.style("PASS", fg=PASS_COLOR, bold=True)
            if d.passed
            else click.style("REFUSE", fg=FAIL_COLOR, bold=True)
        )
        lines.append(f"{click.style(_s(p), bold=True)}  {head}")
        for o in d.outcomes:
            mark = (
                click.style("ok ", fg=PASS_COLOR) if o.passed else click.style("NO ", fg=FAIL_COLOR)
            )
            lines.append(f"  {mark} [{_s(o.layer)}] {_s(o.rule)}: {_s(o.reason)}")
    return "\n".join(lines)


def render_gate_json(paths: Sequence[str], decisions: Sequence[Any], *, exit_code: int) -> str:
    passed = all(d.passed for d in decisions)
    results = [{"path": p, **d.to_dict()} for p, d in zip(paths, decisions, strict=True)]
    summary = {
        "outputs": len(results),
        "passed": sum(1 for d in decisions if d.passed),
        "refused": sum(1 for d in decisions if not d.passed),
    }
    doc = envelope(results, summary, exit_code, decision="pass" if passed else "refuse")
    return to_json(doc)


# ---------------------------------------------------------------------------
# repository


def _summary_field(summary: Any, key: str) -> Any:
    return summary.get(key) if isinstance(summary, Mapping) else None


def _entry_signer(summary: Any) -> str:
    signer = _summary_field(summary, "signer")
    if isinstance(signer, Mapping):
        return str(signer.get("common_name") or "?")
    return "?"


def render_repo_entries(entries: Sequence[Any], where: str, fmt: str) -> str:
    """`repo list`: a malformed stored summary is shown as '?', never a crash."""
    if fmt == "json":
        return to_json(
            [
                {
                    "id": e.id,
                    "summary": dict(e.summary) if isinstance(e.summary, Mapping) else None,
                    "added": e.added,
                    "duration": e.duration,
                }
                for e in entries
            ]
        )
    lines = [f"{len(entries)} manifest(s) in {_s(where)}"]
    for e in entries:
        title = _summary_field(e.summary, "title") or "?"
        ai = _summary_field(e.summary, "ai_generated") or "?"
        lines.append(
            f"{_s(e.id)}  {_s(title)}  AI: {_s(ai)}  signer: {_s(_entry_signer(e.summary))}  "
            f"{e.duration:.1f} s"
        )
    return "\n".join(lines)


def render_repo_matches(file: str, matches: Sequence[Any], fmt: str) -> str:
    if fmt == "json":
        return to_json(
            [
                {
                    "id": e.id,
                    "summary": dict(e.summary) if isinstance(e.summary, Mapping) else None,
                    "similarity": round(m.similarity, 4),
                    "closeness": getattr(m, "closeness", None),
                    "rivals": getattr(m, "rivals", 0),
                    "matched_range": [m.a_start, m.a_end],
                    "original_range": [m.b_start, m.b_end],
                }
                for e, m in matches
            ]
        )
    if not matches:
        return f"{_s(file)}: no match"
    lines = [
        f"{_s(e.id)}  similarity {m.similarity:.2f}  this file "
        f"{m.a_start:.1f}-{m.a_end:.1f} s = original {m.b_start:.1f}-"
        f"{m.b_end:.1f} s  (registered as {_s(_summary_field(e.summary, 'title') or '?')})"
        for e, m in matches
    ]
    if getattr(matches[0][1], "rivals", 0):
        lines.insert(0, f"ambiguous: {_s(matches[0][1].explain())}")
    # The row's summary is what was stored, not evidence: say so, and where it is judged.
    lines.append(
        "(titles as registered, not re-validated: `provcheck FILE --repository DB` "
        "validates the original manifest under your trust)"
    )
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# trust


def render_trust_sources(sources: Sequence[Any], where: str) -> str:
    lines = [f"config directory: {_s(where)}"]
    if not sources:
        lines.append("no trust sources installed: run `provcheck trust update`")
    for src in sources:
        lines.append(
            f"{src.kind:<8} {_s(src.label):<28} {src.count:>4} certificate(s)  {_s(src.origin)}"
        )
    return "\n".join(lines)
