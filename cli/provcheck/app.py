"""The click application: the root group, its error boundary, and the command groups.

`provcheck FILE` means `provcheck verify FILE`; a word that is no file and close to a
command name gets "did you mean"; library errors become one line (exit 5).
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from typing import Any

import click

import provenance
from provenance import ProvenanceError
from provenance.textsafe import for_terminal

from .options import EXIT_HELP, Failure, is_verbose

__all__ = ["main", "cli"]

# An argument that could be a mistyped command (not a path, not an option).
_COMMAND_LIKE = re.compile(r"[a-z][a-z-]{1,30}")

# command name -> (module under provcheck.commands, attribute). A command's module is
# imported when the command runs or help lists it: `provcheck FILE` does not pay for
# audit, gate, sign, repository (~0.1 s of CPU per call; issue 19).
_COMMANDS: dict[str, tuple[str, str]] = {
    "verify": ("verify", "verify_cmd"),
    "trust": ("trust", "trust_group"),
    "sign": ("sign", "sign_cmd"),
    "keys": ("keys", "keys_group"),
    "audit": ("audit", "audit_cmd"),
    "gate": ("gate", "gate_cmd"),
    "repo": ("repo", "repo_group"),
}


class _DefaultToVerify(click.Group):
    """`provcheck FILE...` means `provcheck verify FILE...`; library errors become one
    clear line (a traceback only with --verbose). Commands load on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _COMMANDS:
            module, attr = _COMMANDS[cmd_name]
            command = getattr(importlib.import_module(f".commands.{module}", __package__), attr)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ProvenanceError as exc:
            self._trace(ctx)
            raise Failure(str(exc)) from exc
        except click.ClickException as exc:
            # a usage message may quote an argument (a file name): shown, never obeyed
            safe = "\n".join(for_terminal(x) for x in exc.message.split("\n"))
            setattr(exc, "message", safe)  # noqa: B010 (typed Final in click's stubs)
            raise
        except (click.exceptions.Exit, click.Abort):
            raise
        except OSError as exc:
            self._trace(ctx)
            where = f"{exc.filename}: " if exc.filename else ""
            raise Failure(f"{where}{exc.strerror or exc}") from exc
        except Exception as exc:
            self._trace(ctx)
            raise Failure(
                f"internal error: {type(exc).__name__}: {exc} (run with --verbose for details)"
            ) from exc

    @staticmethod
    def _trace(ctx: click.Context) -> None:
        if is_verbose(ctx):
            import traceback

            traceback.print_exc()

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in _COMMANDS and args[0] not in ("--help", "-h", "--version"):
            self._suggest(args[0])
            args = ["verify", *args]
        return super().parse_args(ctx, args)

    def _suggest(self, word: str) -> None:
        """A word that is no file and close to a command name is a typo, not a file."""
        if not _COMMAND_LIKE.fullmatch(word) or os.path.lexists(word):
            return
        if word == "help":
            raise click.UsageError("did you mean `provcheck --help`?")
        import difflib

        close = difflib.get_close_matches(word, list(_COMMANDS), n=1, cutoff=0.6)
        if close:
            raise click.UsageError(
                f"no command `{word}` (and no file of that name): did you mean `{close[0]}`?"
            )

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_help(ctx, formatter)
        verify = self.get_command(ctx, "verify")
        if verify is not None:
            formatter.write_paragraph()
            formatter.write_text("Options of `provcheck [verify] FILE...`:")
            with formatter.indentation():
                verify.format_options(ctx, formatter)
        formatter.write_paragraph()
        formatter.write_text(EXIT_HELP)


@click.group(cls=_DefaultToVerify, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(provenance.__version__, prog_name="provcheck")
def cli() -> None:
    """Check where a piece of media came from: verify C2PA Content Credentials
    and AI-generation labels.

    \b
    provcheck clip.mp4                      verify one file (same as `provcheck verify`)
    provcheck --format json a.mp4 b.jpg     machine-readable results on stdout
    provcheck trust update                  install the official C2PA trust lists
    """


def main() -> None:
    """Console entry point."""
    try:
        cli.main(prog_name="provcheck")
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        click.echo("provcheck: interrupted", err=True)
        sys.exit(130)
