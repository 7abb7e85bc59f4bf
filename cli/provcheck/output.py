"""What every renderer shares: the palette, the JSON envelope, the summary, safe text.

The colours are plain names that both click.style and rich understand, so the
verify text, the audit table and the gate output colour a verdict the same way.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from provenance import AIGeneration, Report, Verdict, __version__

if TYPE_CHECKING:  # provenance.audit pulls in multiprocessing: only when summarising
    from provenance import AuditSummary

__all__ = [
    "VERDICT_COLORS",
    "AI_COLORS",
    "PASS_COLOR",
    "FAIL_COLOR",
    "CLAIMED",
    "AUDIT_FORMATS",
    "envelope",
    "to_json",
    "to_json_line",
    "json_safe",
    "summary_of",
    "drain",
    "stripped_count",
]

VERDICT_COLORS: dict[Verdict, str] = {
    Verdict.TRUSTED: "green",
    Verdict.UNTRUSTED: "yellow",
    Verdict.UNSIGNED: "blue",
    Verdict.STRIPPED: "cyan",
    Verdict.TAMPERED: "red",
    Verdict.INVALID: "red",
    Verdict.ERROR: "magenta",
}
AI_COLORS: dict[AIGeneration, str | None] = {
    AIGeneration.FULLY: "red",
    AIGeneration.PARTLY: "yellow",
    AIGeneration.POSSIBLY: "yellow",
    AIGeneration.NO: "green",
    AIGeneration.UNKNOWN: None,
}
PASS_COLOR = "green"
FAIL_COLOR = "red"

# The audit report formats (audit_render renders them; listed here so that the
# command's options do not import the renderers at start-up).
AUDIT_FORMATS = ("table", "json", "jsonl", "csv", "html")

# How a claim of a broken (tampered / invalid) manifest is labelled wherever it is shown.
CLAIMED = "claimed, not verified"


def stripped_count(reports: Iterable[Report]) -> int:
    """Files whose credentials were stripped: traces left in the file, or the verdict
    `stripped` (a repository recovered the original). One number, so the summary
    never says `verdict stripped 2` beside `credentials stripped 1`."""
    return sum(1 for r in reports if r.stripped or r.verdict is Verdict.STRIPPED)


def summary_of(
    reports: Sequence[Report], skipped: Sequence[Any] = (), seconds: float = 0.0
) -> AuditSummary:
    """The one summary of a run (verify and audit alike)."""
    from provenance import summarize

    return dataclasses.replace(
        summarize(reports, skipped, seconds), stripped=stripped_count(reports)
    )


def envelope(results: list[Any], summary: Any, exit_code: int, **extra: Any) -> dict[str, Any]:
    """The one JSON document shape: version, results, summary, exit code (and extras)."""
    return {
        "provcheck_version": __version__,
        **extra,
        "results": results,
        "summary": summary,
        "exit_code": exit_code,
    }


def json_safe(text: str) -> str:
    """JSON text with every character a terminal would obey or hide (C1 controls, DEL,
    bidi and zero-width characters, line separators, lone surrogates) written as a
    ``\\uXXXX`` escape: the same document once parsed, and one line per JSON Lines record.
    json.dumps already escapes C0 controls; these can only occur inside strings."""
    return _NON_ASCII.sub(_json_escape, text)


# json.dumps escapes C0 controls itself; only DEL and non-ASCII characters need a look.
_NON_ASCII = re.compile("[^\x00-\x7e]")  # = [\x7f-\U0010ffff], 0.1 ms to compile, not 9 ms


def _json_escape(m: re.Match[str]) -> str:
    ch = m.group()
    if ch.isprintable():
        return ch
    cp = ord(ch)
    if cp > 0xFFFF:  # a UTF-16 surrogate pair, as JSON spells it
        cp -= 0x10000
        return f"\\u{0xD800 + (cp >> 10):04x}\\u{0xDC00 + (cp & 0x3FF):04x}"
    return f"\\u{cp:04x}"


def to_json(doc: Any) -> str:
    return json_safe(json.dumps(doc, indent=2, ensure_ascii=False))


def to_json_line(doc: Any) -> str:
    """One JSON Lines record."""
    return json_safe(json.dumps(doc, ensure_ascii=False))


def drain(
    runner: Iterable[Report],
    sink: Callable[[Report], object],
    *,
    total: int,
    show: bool,
    console: Any,
) -> None:
    """Hand each report to ``sink`` as it arrives, with a progress bar of ``total`` on
    ``console`` when ``show`` (rich loads only then)."""
    if not show:
        for report in runner:
            sink(report)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("verifying", total=total)
        for report in runner:
            sink(report)
            bar.advance(task)
