"""Options and helpers shared by the commands: each option block is written once here.

Also the exit-code help texts, the one-line failure every command ends with, and
``--verbose`` (kept in the click context, so the error boundary can read it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

import provenance
from provenance import EXIT_CODES, Verdict
from provenance.textsafe import for_terminal

if TYPE_CHECKING:
    from provenance import TrustConfig

__all__ = [
    "EXIT_HELP",
    "GATE_EXIT_HELP",
    "SIGN_EXIT_HELP",
    "COMMAND_EXIT_HELP",
    "Failure",
    "trust_options",
    "build_trust",
    "repository_option",
    "repo_db_option",
    "repository_path",
    "open_repository",
    "verbose_option",
    "is_verbose",
    "config_dir_option",
    "text_json_format_option",
    "refuse_special_files",
]

F = TypeVar("F", bound=Callable[..., Any])

_VERBOSE_KEY = "provcheck.verbose"

EXIT_HELP = f"""\b
Exit codes (the worst file decides):
  {EXIT_CODES[Verdict.TRUSTED]}  every file is trusted
  {EXIT_CODES[Verdict.UNTRUSTED]}  intact credentials, but a signer is not trusted
  2  usage error (bad option or argument)
  {EXIT_CODES[Verdict.UNSIGNED]}  no credentials found
  {EXIT_CODES[Verdict.TAMPERED]}  tampered or invalid credentials
  {EXIT_CODES[Verdict.ERROR]}  a file could not be read (missing, unreadable, not media),
     or the trust configuration could not be loaded
Precedence: tampered/invalid > unreadable > no credentials > untrusted > trusted.
"""

GATE_EXIT_HELP = """\b
Exit codes:
  0  every output passes the policy
  1  an output is refused (the reasons are printed)
  2  usage error (bad option or argument)
  5  the policy, a prompt file or the trust configuration could not be loaded
"""

SIGN_EXIT_HELP = """\b
Exit codes:
  0  the file was signed (and written atomically)
  2  usage error (bad option or argument, --ai missing, unreadable --manifest JSON)
  5  signing failed: unreadable source, key or certificate, output exists,
     timestamp authority unreachable, ... (the message says which)
"""

COMMAND_EXIT_HELP = """\b
Exit codes:
  0  done
  2  usage error (bad option or argument)
  5  it could not be done (the message says why)
"""


class Failure(click.ClickException):
    """A failure shown as one line (file-derived text escaped), exit code 5."""

    exit_code = EXIT_CODES[Verdict.ERROR]

    def show(self, file: Any = None) -> None:
        click.echo(f"provcheck: error: {for_terminal(self.format_message())}", err=True)


def refuse_special_files(what: str, paths: Sequence[str | None]) -> None:
    """A FIFO, a device or a socket where a regular file is expected would block or
    read forever: refuse it with exit 5. Missing files are left to the library's message."""
    import os
    import stat

    for p in paths:
        if p is None or p == "-":
            continue
        try:
            mode = os.stat(p).st_mode
        except OSError:
            continue
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
            raise Failure(f"{what} {p}: {kind} (a FIFO, device or socket is never read)")


def _remember_verbose(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    # ctx.meta is shared by every context of one invocation, so the group's error
    # boundary sees what the sub-command parsed.
    if value:
        ctx.meta[_VERBOSE_KEY] = True
    return value


def verbose_option(f: F) -> F:
    return click.option(
        "-v",
        "--verbose",
        is_flag=True,
        callback=_remember_verbose,
        help="Show library details and tracebacks.",
    )(f)


def is_verbose(ctx: click.Context) -> bool:
    return bool(ctx.meta.get(_VERBOSE_KEY, False))


def text_json_format_option(f: F) -> F:
    """--format text|json: text for people, or one JSON document on stdout and nothing else."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="Output format; json writes only JSON to stdout.",
    )(f)


def config_dir_option(f: F) -> F:
    return click.option(
        "--config-dir",
        type=click.Path(file_okay=False),
        help="Config directory (default: $PROVCHECK_CONFIG_DIR or the "
        "platform's, e.g. ~/.config/provcheck).",
    )(f)


def trust_options(f: F) -> F:
    """--trust / --allowed-list / --tsa-trust / --no-default-trust / --config-dir."""
    options = [
        click.option(
            "--trust",
            "trust_files",
            multiple=True,
            type=click.Path(dir_okay=False),
            metavar="PEM",
            help="Trust anchors (PEM) for claim signers; repeatable.",
        ),
        click.option(
            "--allowed-list",
            "allowed_files",
            multiple=True,
            type=click.Path(dir_okay=False),
            metavar="PEM",
            help="End-entity signing certificates accepted as they are; repeatable.",
        ),
        click.option(
            "--tsa-trust",
            "tsa_files",
            multiple=True,
            type=click.Path(dir_okay=False),
            metavar="PEM",
            help="Trust anchors for timestamp authorities; repeatable.",
        ),
        click.option(
            "--no-default-trust",
            is_flag=True,
            help="Ignore the trust lists installed in the config directory.",
        ),
        config_dir_option,
    ]
    for opt in reversed(options):
        f = opt(f)
    return f


def build_trust(
    trust_files: Sequence[str],
    allowed_files: Sequence[str],
    tsa_files: Sequence[str],
    no_default_trust: bool,
    config_dir: str | None,
) -> TrustConfig:
    """The trust of this run; a missing or broken trust file is exit 5 (not a usage error)."""
    refuse_special_files("trust file", [*trust_files, *allowed_files, *tsa_files])
    try:
        base = (
            provenance.TrustConfig()
            if no_default_trust
            else provenance.TrustConfig.load(config_dir)
        )
        return base.with_files(anchors=trust_files, allowed=allowed_files, tsa=tsa_files)
    except provenance.ProvenanceError as exc:
        raise Failure(f"trust configuration: {exc}") from exc


def repository_option(f: F) -> F:
    """--repository for commands where soft-binding recovery is optional (off by default)."""
    return click.option(
        "--repository",
        "repository",
        default=None,
        metavar="DB",
        help="Manifest repository for soft binding: a SQLite file, postgresql://..., or the "
        "https:// URL of a Soft Binding Resolution API; 'default' is the SQLite one in the "
        "user's data directory ($PROVCHECK_DATA_DIR).",
    )(f)


def repo_db_option(f: F) -> F:
    """--repository for the `repo` commands, where the default repository is implied."""
    return click.option(
        "--repository",
        "repository",
        default="default",
        show_default=True,
        metavar="DB",
        help="Repository: a SQLite file or postgresql://...; 'default' is the SQLite one in "
        "the user's data directory.",
    )(f)


def repository_path(repository: str | None) -> str | None:
    """None: no repository; "": the default one; else a path."""
    if repository is None:
        return None
    return "" if repository == "default" else repository


def open_repository(repository: str | None) -> Any:
    """The store --repository names (through the library's one factory), or None."""
    path = repository_path(repository)
    if path is None:
        return None
    from provenance.repository import default_repository
    from provenance.repository import open_repository as open_store

    return default_repository() if path == "" else open_store(path)
