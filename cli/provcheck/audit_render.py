"""Audit output formats: a terminal table, JSON, JSON Lines, CSV and a self-contained HTML page."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from provenance import AuditSummary, Report, Verdict, __version__

__all__ = ["render", "summary_table", "FORMATS"]

FORMATS = ("table", "json", "jsonl", "csv", "html")

CSV_COLUMNS = [
    "path",
    "verdict",
    "ai_generated",
    "signer",
    "signer_organization",
    "signer_issuer",
    "trust_list",
    "timestamp",
    "status_codes",
    "reason",
    "format",
    "stripped",
    "xmp_digital_source_type",
    "container",
    "writing_application",
    "inconsistencies",
]


def _csv(reports: Sequence[Report]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in reports:
        s = r.signer
        ts = r.manifest.timestamp if r.manifest else None
        writer.writerow(
            {
                "path": r.path,
                "verdict": r.verdict.value,
                "ai_generated": r.ai_generated.value,
                "signer": s.common_name if s else "",
                "signer_organization": s.organization if s else "",
                "signer_issuer": s.issuer if s else "",
                "trust_list": (s.trust_list or "") if s else "",
                "timestamp": (ts.time or "") if ts else "",
                "status_codes": ";".join(r.status_codes),
                "reason": r.reason,
                "format": r.format or "",
                "stripped": "yes" if r.stripped else "no",
                "xmp_digital_source_type": r.xmp_digital_source_type or "",
                "container": (r.container.container or "") if r.container else "",
                "writing_application": (r.container.writing_application or "")
                if r.container
                else "",
                "inconsistencies": " | ".join(r.inconsistencies),
            }
        )
    return buf.getvalue()


def _html(reports: Sequence[Report], summary: AuditSummary) -> str:
    from .html_report import render_html

    return render_html(reports, summary, version=__version__)


def render(fmt: str, reports: Sequence[Report], summary: AuditSummary, exit_code: int) -> str:
    """The whole output document for a non-table format."""
    if fmt == "json":
        doc: dict[str, Any] = {
            "provcheck_version": __version__,
            "results": [r.to_dict() for r in reports],
            "summary": summary.to_dict(),
            "exit_code": exit_code,
        }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if fmt == "jsonl":
        lines = [json.dumps(r.to_dict(), ensure_ascii=False) for r in reports]
        lines.append(json.dumps({"summary": summary.to_dict(), "exit_code": exit_code}))
        return "\n".join(lines) + "\n"
    if fmt == "csv":
        return _csv(reports)
    if fmt == "html":
        return _html(reports, summary)
    raise ValueError(f"unknown format {fmt!r}")


def results_table(reports: Sequence[Report]) -> Any:
    from rich.table import Table

    colors = {
        "trusted": "green",
        "untrusted": "yellow",
        "unsigned": "blue",
        "stripped": "cyan",
        "tampered": "red",
        "invalid": "red",
        "error": "magenta",
    }
    table = Table(title="provcheck audit", show_lines=False)
    for col in ("file", "verdict", "AI", "signer", "notes"):
        table.add_column(col, overflow="fold")
    for r in reports:
        s = r.signer
        signer = ", ".join(x for x in ((s.common_name, s.organization) if s else ()) if x)
        notes = [] if r.verdict is Verdict.TRUSTED else [r.reason]
        if r.stripped:
            notes.append("credentials stripped")
        notes.extend(r.inconsistencies)
        table.add_row(
            r.path,
            f"[{colors[r.verdict.value]}]{r.verdict.value}[/]",
            r.ai_generated.value,
            signer or "-",
            "; ".join(notes),
        )
    return table


def summary_table(summary: AuditSummary) -> Any:
    from rich.table import Table

    table = Table(title="summary", show_header=True)
    table.add_column("")
    table.add_column("files", justify="right")
    for verdict, n in sorted(summary.verdicts.items()):
        table.add_row(f"verdict {verdict}", str(n))
    for ai, n in sorted(summary.ai_generated.items()):
        table.add_row(f"AI {ai}", str(n))
    table.add_row("skipped (not media)", str(summary.skipped))
    table.add_row("credentials stripped", str(summary.stripped))
    table.add_row("time", f"{summary.seconds:.1f} s")
    return table
