"""What every renderer shares: the palette, the JSON envelope, the summary, safe text.

The colours are plain names that both click.style and rich understand, so the
verify text, the audit table and the gate output colour a verdict the same way.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from typing import Any

from provenance import AIGeneration, AuditSummary, Report, Verdict, __version__, summarize

__all__ = [
    "VERDICT_COLORS",
    "AI_COLORS",
    "PASS_COLOR",
    "FAIL_COLOR",
    "CLAIMED",
    "envelope",
    "to_json",
    "summary_of",
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


def to_json(doc: Any) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False)
