"""`provcheck audit --resume`: the JSON Lines report is the journal (provenance.resume).

Results are appended as they arrive; a killed audit run again with the same command
skips what is already reported and appends the rest, then one summary line."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import click

from provenance import Candidate, Report, Skipped
from provenance.resume import Journal, stamps
from provenance.textsafe import for_terminal as _s

from . import audit_render
from .output import drain

__all__ = ["run_resumable"]


def run_resumable(
    candidates: Sequence[Candidate],
    skipped: Sequence[Skipped],
    output: str,
    audit: Callable[[Sequence[Candidate]], Iterator[Report]],
    *,
    start: float,
    show_progress: bool,
    console: Any,
) -> int:
    """Audit what the report at ``output`` lacks; returns the exit code of the whole."""
    with Journal.open(output, stamps(c.path for c in candidates)) as journal:
        todo = [c for c in candidates if not journal.done(c.path)]
        if len(todo) < len(candidates):
            click.echo(
                f"provcheck: resuming {_s(output)}: {len(candidates) - len(todo)} of "
                f"{len(candidates)} file(s) already reported, {len(todo)} to go",
                err=True,
            )
        runner = audit(todo) if todo else iter(())
        drain(
            runner,
            journal.append,
            total=len(todo),
            show=show_progress and len(todo) > 1,
            console=console,
        )
        summary = journal.summary(skipped, time.monotonic() - start)
        code = journal.exit_code()
        journal.finish(summary, code)
    console.print(audit_render.summary_table(summary))
    click.echo(f"report written to {_s(output)}", err=True)
    if not summary.files:
        click.echo("provcheck: no media files found", err=True)
    return code
