"""`provcheck audit PATH...`: every media file of folders, in worker processes."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click

import provenance
from provenance import EXIT_CODES, Report, Verdict, exit_code_for
from provenance.textsafe import for_terminal as _s

from ..options import (
    EXIT_HELP,
    build_trust,
    repository_option,
    repository_path,
    trust_options,
    verbose_option,
)
from ..output import AUDIT_FORMATS, drain, summary_of

__all__ = ["audit_cmd"]


@click.command("audit", epilog=EXIT_HELP)
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "-r",
    "--recursive/--no-recursive",
    default=True,
    help="Descend into sub-folders (the default; -r is still accepted). With "
    "--no-recursive the sub-folders left out are named on stderr.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1, 256),
    default=None,
    help="Worker processes (default: the number of cores).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(AUDIT_FORMATS)),
    default="table",
    show_default=True,
    help="table (terminal), json, jsonl, csv (cells that would start a spreadsheet "
    "formula get a leading ') or html.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write the report to this file (atomically) instead of stdout.",
)
@trust_options
@click.option(
    "--timeout",
    type=click.FloatRange(1, 3600),
    default=120.0,
    show_default=True,
    help="Seconds one file may take before it is abandoned as an error.",
)
@click.option("--remote-manifests", is_flag=True, help="Fetch remote manifests (network).")
@click.option("--ocsp", is_flag=True, help="Check revocation over OCSP (network).")
@repository_option
@click.option("--no-progress", is_flag=True, help="Never show a progress bar.")
# --- Dask distributed and resumable audits (provenance.distributed, audit_resume) ---
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Run one task per file on this Dask distributed cluster (tcp://host:8786). "
    "Workers need provcheck[distributed] and the files at the same paths.",
)
@click.option(
    "--resume",
    is_flag=True,
    help="With --format jsonl -o FILE: append each result as it arrives; run again, "
    "files already in FILE (same path, size and mtime) are skipped.",
)
# --- end ---
@verbose_option
def audit_cmd(
    paths: tuple[str, ...],
    recursive: bool,
    jobs: int | None,
    fmt: str,
    output: str | None,
    trust_files: tuple[str, ...],
    allowed_files: tuple[str, ...],
    tsa_files: tuple[str, ...],
    no_default_trust: bool,
    config_dir: str | None,
    timeout: float,
    remote_manifests: bool,
    ocsp: bool,
    repository: str | None,
    no_progress: bool,
    scheduler: str | None,
    resume: bool,
    verbose: bool,
) -> None:
    """Audit many files or whole folders (sub-folders included): verdict, AI label,
    signer and container facts of every media file; non-media files are skipped and
    counted.

    \b
    provcheck audit downloads/                         a table on the terminal
    provcheck audit downloads/ --format html -o report.html
    provcheck audit downloads/ --format jsonl | jq .verdict
    """
    from .. import audit_render  # the renderers load when a report is made, not at start-up

    if resume and (fmt != "jsonl" or output is None):
        raise click.UsageError("--resume needs --format jsonl and -o FILE (the report it resumes)")
    trust = build_trust(trust_files, allowed_files, tsa_files, no_default_trust, config_dir)
    start = time.monotonic()
    candidates, skipped = provenance.discover(paths, recursive=recursive)
    if not recursive:
        _warn_unentered(paths)
    order = {c.path: i for i, c in enumerate(candidates)}
    err_console = _console(stderr=True)
    show_progress = (
        not no_progress
        and err_console.is_terminal
        and len(candidates) > 1
        and (fmt == "table" or output is not None)
    )
    reports: list[Report] = []

    def audit(todo: Sequence[provenance.Candidate]) -> Iterator[Report]:
        return provenance.run_audit(
            todo,
            trust,
            jobs=jobs,
            timeout=timeout,
            remote_manifests=remote_manifests,
            ocsp=ocsp,
            thumbnails=(fmt == "html"),
            repository=repository_path(repository),
            scheduler=scheduler,
        )

    if resume and output is not None:  # --- resumable audit ---
        from ..audit_resume import run_resumable

        sys.exit(
            run_resumable(
                candidates,
                skipped,
                output,
                audit,
                start=start,
                show_progress=show_progress,
                console=err_console,
            )
        )
    drain(
        audit(candidates),
        reports.append,
        total=len(candidates),
        show=show_progress,
        console=err_console,
    )
    reports.sort(key=lambda r: order.get(r.path, len(order)))
    summary = summary_of(reports, skipped, time.monotonic() - start)
    code = exit_code_for([r.verdict for r in reports]) if reports else EXIT_CODES[Verdict.UNSIGNED]
    if fmt == "table":
        if output is None:
            out_console = _console(stderr=False)
            out_console.print(audit_render.results_table(reports))
            out_console.print(audit_render.summary_table(summary))
        else:
            _write_output(output, _plain_table(reports, summary))
    else:
        text = audit_render.render(fmt, reports, summary, code)
        if output is None:
            click.echo(text, nl=False)
        else:
            _write_output(output, text)
    if output is not None:
        err_console.print(audit_render.summary_table(summary))
        click.echo(f"report written to {_s(output)}", err=True)
    if not reports:
        click.echo("provcheck: no media files found", err=True)
    sys.exit(code)


def _warn_unentered(paths: Sequence[str]) -> None:
    """--no-recursive: say loudly which sub-folders were not looked at."""
    left_out: list[str] = []
    for p in paths:
        try:
            with os.scandir(p) as entries:
                left_out.extend(e.path for e in entries if e.is_dir(follow_symlinks=True))
        except OSError:
            continue  # not a folder, or unreadable: discover() reports it
    if left_out:
        shown = ", ".join(_s(x) for x in sorted(left_out)[:5])
        more = f" and {len(left_out) - 5} more" if len(left_out) > 5 else ""
        click.echo(
            f"provcheck: warning: {len(left_out)} sub-folder(s) not entered "
            f"(--no-recursive): {shown}{more}",
            err=True,
        )


def _console(stderr: bool) -> Any:
    from rich.console import Console

    # markup/emoji off: nothing printed through the console is ever parsed as markup.
    console = Console(stderr=stderr, highlight=False, soft_wrap=False, markup=False, emoji=False)
    if not console.is_terminal:  # piped: do not fold paths at 80 columns
        console = Console(
            stderr=stderr, highlight=False, soft_wrap=False, markup=False, emoji=False, width=200
        )
    return console


def _plain_table(reports: Sequence[Report], summary: Any) -> str:
    from rich.console import Console

    from .. import audit_render

    with open(os.devnull, "w") as sink:
        console = Console(record=True, width=160, file=sink, markup=False, emoji=False)
        console.print(audit_render.results_table(reports))
        console.print(audit_render.summary_table(summary))
        return console.export_text()


def _write_output(path: str, text: str) -> None:
    provenance.write_file_atomically(Path(path), text.encode("utf-8"))
