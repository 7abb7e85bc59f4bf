"""`provcheck repo ...`: the manifest repository a stripped copy can be matched back to."""

from __future__ import annotations

import sys
from typing import Any

import click

import provenance
from provenance.textsafe import for_terminal as _s

from .. import render
from ..options import (
    COMMAND_EXIT_HELP,
    Failure,
    build_trust,
    open_repository,
    repo_db_option,
    text_json_format_option,
    trust_options,
)

__all__ = ["repo_group", "resolve_entry_id"]

_ADD_EXIT_HELP = """\b
Exit codes:
  0  every file is registered (or was already)
  1  a file could not be registered (the reason is printed)
  2  usage error (bad option or argument)
  5  the repository or the trust configuration could not be opened
"""

_LOOKUP_EXIT_HELP = """\b
Exit codes:
  0  a match was found
  1  no match
  2  usage error (bad option or argument)
  5  the file or the repository could not be read
"""


@click.group("repo")
def repo_group() -> None:
    """The manifest repository: signed clips a stripped copy can be matched back to."""


@repo_group.command("add", epilog=_ADD_EXIT_HELP)
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@repo_db_option
@trust_options
def repo_add(
    files: tuple[str, ...],
    repository: str,
    trust_files: tuple[str, ...],
    allowed_files: tuple[str, ...],
    tsa_files: tuple[str, ...],
    no_default_trust: bool,
    config_dir: str | None,
) -> None:
    """Register signed video FILE(s); adding a file already known changes nothing."""
    trust = build_trust(trust_files, allowed_files, tsa_files, no_default_trust, config_dir)
    repo = open_repository(repository)
    failed = 0
    with repo:
        for path in files:
            try:
                entry = provenance.register_signed_file(repo, path, trust=trust)
            except provenance.ProvenanceError as exc:
                click.echo(f"provcheck: {_s(exc)}", err=True)
                failed += 1
                continue
            click.echo(f"{entry.id}  {_s(path)}")
    sys.exit(1 if failed else 0)


@repo_group.command("list", epilog=COMMAND_EXIT_HELP)
@repo_db_option
@text_json_format_option
def repo_list(repository: str, fmt: str) -> None:
    """List the registered manifests."""
    with open_repository(repository) as repo:
        click.echo(render.render_repo_entries(repo.list(), str(repo.path), fmt))


@repo_group.command("lookup", epilog=_LOOKUP_EXIT_HELP)
@click.argument("file", type=click.Path(dir_okay=False))
@repo_db_option
@click.option("--limit", type=click.IntRange(1, 100), default=5, show_default=True)
@text_json_format_option
def repo_lookup(file: str, repository: str, limit: int, fmt: str) -> None:
    """Find the registered manifests whose clip FILE looks like. Exit 0 on a match, 1 if none."""
    with open_repository(repository) as repo:
        matches = provenance.lookup_file(repo, file, limit=limit)
    click.echo(render.render_repo_matches(file, matches, fmt))
    sys.exit(0 if matches else 1)


def resolve_entry_id(repo: Any, prefix: str) -> str:
    """The one registered id that starts with ``prefix`` (like a git commit id)."""
    wanted = prefix.strip().lower()
    if not wanted:
        raise Failure("give an entry id (or a unique prefix of one)")
    ids = [e.id for e in repo.list() if str(e.id).lower().startswith(wanted)]
    if not ids:
        raise Failure(f"no entry {_s(prefix)!r} in {_s(repo.path)}")
    if len(ids) > 1 and wanted not in ids:
        shown = ", ".join(i[:12] for i in ids[:5])
        raise Failure(
            f"{_s(prefix)!r} is ambiguous: {len(ids)} entries start with it ({shown}"
            f"{', ...' if len(ids) > 5 else ''}); give more characters"
        )
    return wanted if wanted in ids else str(ids[0])


@repo_group.command("remove", epilog=COMMAND_EXIT_HELP)
@click.argument("entry_id")
@repo_db_option
def repo_remove(entry_id: str, repository: str) -> None:
    """Remove a registered manifest by its id, or by a unique prefix of it."""
    with open_repository(repository) as repo:
        full = resolve_entry_id(repo, entry_id)
        if not repo.remove(full):
            raise Failure(f"no entry {_s(entry_id)!r} in {_s(repo.path)}")
    click.echo(f"removed {full}", err=True)
