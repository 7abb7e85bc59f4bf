"""`provcheck [verify] FILE...`: the Content Credentials of each file, one verdict each."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence

import click

import provenance
from provenance import ProvenanceError, Report, Verdict, exit_code_for

from .. import render
from ..options import (
    EXIT_HELP,
    build_trust,
    is_verbose,
    open_repository,
    repository_option,
    text_json_format_option,
    trust_options,
    verbose_option,
)

__all__ = ["verify_cmd", "NO_TRUST_NOTE"]

NO_TRUST_NOTE = (
    "note: no trust list is configured, so nothing can be `trusted`. "
    "Run `provcheck trust update` or pass --trust PEM."
)


@click.command("verify", epilog=EXIT_HELP)
@click.argument("files", nargs=-1, required=True, type=click.Path())
@text_json_format_option
@trust_options
@click.option(
    "--fragment",
    "fragments",
    multiple=True,
    type=click.Path(),
    metavar="FILE",
    help="A fragment (.m4s) of a fragmented MP4 whose init segment is FILE; "
    "repeatable, in order. Only with a single FILE.",
)
@click.option(
    "--remote-manifests",
    is_flag=True,
    help="Fetch manifests that a file only references remotely (network).",
)
@click.option("--ocsp", is_flag=True, help="Check certificate revocation over OCSP (network).")
@repository_option
@click.option(
    "--detailed",
    is_flag=True,
    help="Also print every assertion of the manifest (label and data; long data cut, "
    "binary data summarised).",
)
@verbose_option
@click.pass_context
def verify_cmd(
    ctx: click.Context,
    files: tuple[str, ...],
    fmt: str,
    trust_files: tuple[str, ...],
    allowed_files: tuple[str, ...],
    tsa_files: tuple[str, ...],
    no_default_trust: bool,
    config_dir: str | None,
    fragments: tuple[str, ...],
    remote_manifests: bool,
    ocsp: bool,
    repository: str | None,
    detailed: bool,
    verbose: bool,
) -> None:
    """Verify the Content Credentials of FILE(s)."""
    if fragments and len(files) != 1:
        raise click.UsageError("--fragment needs exactly one FILE (the init segment)")
    trust = build_trust(trust_files, allowed_files, tsa_files, no_default_trust, config_dir)
    start = time.monotonic()
    reports: list[Report] = []
    repo = open_repository(repository)
    with provenance.Verifier(
        trust, remote_manifests=remote_manifests, ocsp=ocsp, repository=repo
    ) as verifier:
        for path in files:
            reports.append(_guarded(verifier.verify, path, fragments, is_verbose(ctx)))
            if fmt == "text":
                text = render.render_text(
                    reports[-1],
                    verbose=verbose,
                    detailed=detailed,
                    trust_hint=trust.has_signer_trust,  # else said once, below
                )
                click.echo(text)
                if len(files) > 1:
                    click.echo()
    code = exit_code_for([r.verdict for r in reports])
    if fmt == "json":
        click.echo(render.render_json(reports, exit_code=code, seconds=time.monotonic() - start))
    elif not trust.has_signer_trust:
        click.echo(click.style(NO_TRUST_NOTE, dim=True), err=True)
    sys.exit(code)


def _guarded(
    fn: Callable[[str, Sequence[str]], Report], path: str, fragments: Sequence[str], verbose: bool
) -> Report:
    """The library returns error Reports for bad input; anything else is a bug we still
    report per file instead of dying with a traceback."""
    try:
        return fn(path, fragments)
    except ProvenanceError as exc:
        return Report(path=path, verdict=Verdict.ERROR, reason=str(exc))
    except Exception as exc:  # last line of defence: one bad file must not end the run
        if verbose:
            import traceback

            traceback.print_exc()
        return Report(
            path=path,
            verdict=Verdict.ERROR,
            reason=f"internal error while verifying: {type(exc).__name__}: {exc}",
        )
