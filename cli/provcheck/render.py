"""Rendering of reports for people (text) and machines (JSON). No C2PA logic here."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import click

from provenance import AIGeneration, Ingredient, Manifest, Report, Verdict, __version__

__all__ = ["render_text", "render_json", "VERDICT_COLORS"]

VERDICT_COLORS = {
    Verdict.TRUSTED: "green",
    Verdict.UNTRUSTED: "yellow",
    Verdict.UNSIGNED: "blue",
    Verdict.STRIPPED: "cyan",
    Verdict.TAMPERED: "red",
    Verdict.INVALID: "red",
    Verdict.ERROR: "magenta",
}
_AI_COLORS = {
    AIGeneration.FULLY: "red",
    AIGeneration.PARTLY: "yellow",
    AIGeneration.POSSIBLY: "yellow",
    AIGeneration.NO: "green",
    AIGeneration.UNKNOWN: None,
}


def _line(label: str, value: str, indent: int = 2) -> str:
    return " " * indent + click.style(f"{label:<11}", dim=True) + " " + value


def _manifest_lines(m: Manifest, indent: int) -> list[str]:
    out: list[str] = []
    if m.signer is not None:
        trust = (
            f"vouched for by {m.signer.trust_list}"
            if m.signer.trust_list
            else "not on a configured trust list"
        )
        out.append(_line("signed by", f"{m.signer.display()} — {trust}", indent))
    if m.timestamp is not None:
        tsa = {
            True: "TSA trusted",
            False: "TSA not trusted",
            None: "TSA not checked against a trust list",
        }[m.timestamp.trusted]
        by = f" by {m.timestamp.authority}" if m.timestamp.authority else ""
        out.append(_line("signed at", f"{m.timestamp.time or '?'}{by} ({tsa})", indent))
    else:
        out.append(_line("signed at", "no trusted timestamp (time unproven)", indent))
    if m.claim_generator:
        out.append(_line("made with", m.claim_generator, indent))
    if m.title:
        out.append(_line("title", m.title + (f" ({m.format})" if m.format else ""), indent))
    if m.actions:
        out.append(_line("actions", "", indent))
        for a in m.actions:
            extra = []
            if a.digital_source_type:
                extra.append(f"source: {a.digital_source_type.rsplit('/', 1)[-1]}")
            if a.software_agent:
                extra.append(f"by {a.software_agent}")
            if a.when:
                extra.append(a.when)
            tail = f"  ({'; '.join(extra)})" if extra else ""
            out.append(" " * (indent + 4) + f"- {a.action}{tail}")
    if m.ingredients:
        out.append(_line("ingredients", "", indent))
        for ing in m.ingredients:
            out.extend(_ingredient_lines(ing, indent + 4))
    return out


def _ingredient_lines(ing: Ingredient, indent: int) -> list[str]:
    color = {
        "valid": "green",
        "untrusted": "yellow",
        "invalid": "red",
        "missing": "red",
        "no credentials": None,
    }.get(ing.status)
    head = f"- {ing.title or '(untitled)'} [{ing.relationship or 'ingredient'}]: " + click.style(
        ing.status, fg=color
    )
    out = [" " * indent + head]
    if ing.manifest is not None:
        ai = ing.manifest.ai_generated
        if ai is not AIGeneration.UNKNOWN:
            out.append(_line("AI (own)", ai.value, indent + 2))
        out.extend(_manifest_lines(ing.manifest, indent + 2))
    for p in ing.problems:
        out.append(" " * (indent + 2) + click.style(f"! {p.message} [{p.code}]", fg="red"))
    return out


def render_text(report: Report, *, verbose: bool = False) -> str:
    color = VERDICT_COLORS[report.verdict]
    lines = [
        click.style(report.path, bold=True)
        + "  "
        + click.style(report.verdict.value.upper(), fg=color, bold=True)
    ]
    lines.append(_line("why", report.reason))
    if report.format:
        lines.append(_line("format", report.format))
    if report.verdict not in (Verdict.ERROR,):
        ai = report.ai_generated
        lines.append(
            _line(
                "AI", click.style(ai.value, fg=_AI_COLORS[ai], bold=True) + f" — {report.ai_reason}"
            )
        )
    if report.manifest is not None:
        lines.extend(_manifest_lines(report.manifest, 2))
    if report.problems:
        lines.append(_line("problems", ""))
        for p in report.problems:
            lines.append(
                "      " + click.style(f"- {p.message}", fg="red") + f"  [{p.code}, {p.where}]"
            )
            if verbose and p.detail:
                lines.append("          " + click.style(p.detail, dim=True))
    if report.recovered is not None:
        rec = report.recovered
        signer = rec.signer or {}
        who = ", ".join(x for x in (signer.get("common_name"), signer.get("organization")) if x)
        lines.append(
            _line("recovered", f"{rec.title or rec.entry_id} (similarity {rec.similarity:.2f})")
        )
        lines.append(_line("  signer", who or "?"))
        lines.append(_line("  AI", rec.ai_generated.value))
        lines.append(_line("  original", f"{rec.verdict}: {rec.verdict_reason}"))
        lines.append(
            _line(
                "  matched",
                f"{rec.matched_range[0]:.1f}-{rec.matched_range[1]:.1f} s"
                f" of this file = {rec.original_range[0]:.1f}-"
                f"{rec.original_range[1]:.1f} s of the original",
            )
        )
    if report.remote_manifest_url:
        lines.append(_line("remote", report.remote_manifest_url))
    if report.fragments:
        lines.append(_line("fragments", ", ".join(report.fragments)))
    for note in report.notes:
        lines.append(_line("note", note))
    return "\n".join(lines)


def summary(reports: Sequence[Report]) -> dict[str, Any]:
    return {
        "files": len(reports),
        "verdicts": dict(Counter(r.verdict.value for r in reports)),
        "ai_generated": dict(Counter(r.ai_generated.value for r in reports)),
    }


def render_json(reports: Sequence[Report], *, exit_code: int) -> str:
    doc = {
        "provcheck_version": __version__,
        "results": [r.to_dict() for r in reports],
        "summary": summary(reports),
        "exit_code": exit_code,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)
