"""Audit output formats: a terminal table, JSON, JSON Lines, CSV and a self-contained HTML page.

Strings from files are data in every format: escaped for the terminal in the table
(rich Text objects, never markup), neutralised against formula injection in CSV
(a leading ``=``, ``+``, ``-``, ``@``, tab or CR gets a ``'``, per OWASP), escaped by
jinja2 in HTML.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from provenance import Report, Verdict, __version__
from provenance.textsafe import for_csv, for_terminal

from .output import AI_COLORS, AUDIT_FORMATS, VERDICT_COLORS, envelope, to_json, to_json_line
from .render import recovered_signer

if TYPE_CHECKING:  # provenance.audit is heavy (multiprocessing): not at start-up
    from provenance import AuditSummary

__all__ = ["render", "results_table", "summary_table", "FORMATS", "CSV_COLUMNS"]

FORMATS = AUDIT_FORMATS

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
    "contains",
]


def _csv(reports: Sequence[Report]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in reports:
        s = r.signer
        ts = r.manifest.timestamp if r.manifest else None
        row = {
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
            "writing_application": (r.container.writing_application or "") if r.container else "",
            "inconsistencies": " | ".join(r.inconsistencies),
            "contains": " | ".join(_works(r)),
        }
        writer.writerow({k: for_csv(v) for k, v in row.items()})
    return buf.getvalue()


def _works(r: Report) -> list[str]:
    """Whose work is inside, one phrase each ("contains 6.0 s of ... (credentials intact)")."""
    from provenance import describe_work

    return [describe_work(w) for w in r.contains]


def _html(reports: Sequence[Report], summary: AuditSummary) -> str:
    from .html_report import render_html

    return render_html(reports, summary, version=__version__)


def render(fmt: str, reports: Sequence[Report], summary: AuditSummary, exit_code: int) -> str:
    """The whole output document for a non-table format."""
    if fmt == "json":
        results = [r.to_dict() for r in reports]
        return to_json(envelope(results, summary.to_dict(), exit_code)) + "\n"
    if fmt == "jsonl":
        lines = [to_json_line(r.to_dict()) for r in reports]
        lines.append(to_json_line({"summary": summary.to_dict(), "exit_code": exit_code}))
        return "\n".join(lines) + "\n"
    if fmt == "csv":
        return _csv(reports)
    if fmt == "html":
        return _html(reports, summary)
    raise ValueError(f"unknown format {fmt!r}")


def _signer_cell(r: Report) -> str:
    s = r.signer
    if s is not None:
        return ", ".join(dict.fromkeys(x for x in (s.common_name, s.organization) if x))
    recovered = recovered_signer(r)
    return f"{recovered} (recovered)" if recovered else ""


def results_table(reports: Sequence[Report]) -> Any:
    """One row per file. Every cell is a Text object holding escaped text: a name with
    `[/]` or `[link=...]` is shown as it is, never parsed as markup."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="provcheck audit", show_lines=False)
    for col in ("file", "verdict", "AI", "signer", "notes"):
        table.add_column(col, overflow="fold")
    for r in reports:
        claimed = r.claims == "unverified"
        notes = [] if r.verdict is Verdict.TRUSTED else [r.reason]
        if r.stripped and r.verdict is not Verdict.STRIPPED:
            notes.append("credentials stripped")
        notes.extend(r.inconsistencies)
        notes.extend(_works(r))
        ai = r.ai_generated.value + (" (claimed)" if claimed else "")
        ai_style = None if claimed else AI_COLORS[r.ai_generated]
        signer = _signer_cell(r)
        if claimed and signer:
            signer += " (claimed)"
        table.add_row(
            Text(for_terminal(r.path)),
            Text(r.verdict.value, style=VERDICT_COLORS[r.verdict]),
            Text(ai, style=ai_style or ""),
            Text(for_terminal(signer or "-")),
            Text(for_terminal("; ".join(notes))),
        )
    return table


def summary_table(summary: AuditSummary) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="summary", show_header=True)
    table.add_column("")
    table.add_column("files", justify="right")
    for verdict, n in sorted(summary.verdicts.items()):
        style = next((c for v, c in VERDICT_COLORS.items() if v.value == verdict), "")
        table.add_row(Text(f"verdict {for_terminal(verdict)}", style=style), str(n))
    for ai, n in sorted(summary.ai_generated.items()):
        table.add_row(Text(f"AI {for_terminal(ai)}"), str(n))
    table.add_row("skipped (not media)", str(summary.skipped))
    table.add_row("credentials stripped (any)", str(summary.stripped))
    table.add_row("time", f"{summary.seconds:.1f} s")
    return table
