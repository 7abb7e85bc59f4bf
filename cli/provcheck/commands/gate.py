"""`provcheck gate OUTPUT...`: the pre-publish policy check (sources, prompt, output)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

import provenance

from .. import render
from ..options import (
    GATE_EXIT_HELP,
    Failure,
    build_trust,
    refuse_special_files,
    text_json_format_option,
    trust_options,
    verbose_option,
)

__all__ = ["gate_cmd"]

# A prompt is text a person typed: a file larger than this is not a prompt.
_MAX_PROMPT_BYTES = 1 << 20


def _read_prompt_file(name: str) -> str:
    """The prompt from a file or '-' (stdin). Missing, unreadable, special, huge or not
    UTF-8 is exit 5 with the reason (never a usage banner, never a hang)."""
    if name == "-":
        data = sys.stdin.buffer.read(_MAX_PROMPT_BYTES + 1)
    else:
        path = Path(name)
        try:
            if not path.is_file():
                what = "does not exist" if not path.exists() else "is not a regular file"
                raise Failure(f"--prompt-file {name}: {what}")
            with path.open("rb") as f:
                data = f.read(_MAX_PROMPT_BYTES + 1)
        except OSError as exc:
            raise Failure(f"--prompt-file {name}: cannot read: {exc.strerror or exc}") from exc
    if len(data) > _MAX_PROMPT_BYTES:
        raise Failure(f"--prompt-file {name}: larger than 1 MiB, not a prompt")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Failure(f"--prompt-file {name}: not UTF-8 text ({exc.reason})") from exc


@click.command("gate", epilog=GATE_EXIT_HELP)
@click.argument("outputs", nargs=-1, type=click.Path())
@click.option(
    "--policy",
    "policy_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="Policy file (TOML).",
)
@trust_options
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="An input the output was made from (e.g. the source photo); repeatable.",
)
@click.option("--prompt", help="The prompt the output was generated from.")
@click.option(
    "--prompt-file",
    metavar="FILE",
    help="Read the prompt from a UTF-8 file ('-' for stdin).",
)
@click.option("--ai-made", is_flag=True, help="Declare the output AI-made (it must be labelled).")
@click.option(
    "--stdin",
    "from_stdin",
    is_flag=True,
    help="Also read output paths from stdin, one per line (for pipelines).",
)
@text_json_format_option
@verbose_option
def gate_cmd(
    outputs: tuple[str, ...],
    policy_file: str,
    trust_files: tuple[str, ...],
    allowed_files: tuple[str, ...],
    tsa_files: tuple[str, ...],
    no_default_trust: bool,
    config_dir: str | None,
    sources: tuple[str, ...],
    prompt: str | None,
    prompt_file: str | None,
    ai_made: bool,
    from_stdin: bool,
    fmt: str,
    verbose: bool,
) -> None:
    """Check generated OUTPUT(s) against a pre-publish POLICY in three layers: the sources
    are scanned, the prompt is evaluated, the output's credentials are checked.

    \b
    provcheck gate clip.mp4 --policy publish.toml --source photo.jpg --prompt "a cat surfing"
    find out/ -name '*.mp4' | provcheck gate --stdin --policy publish.toml --format json
    """
    if prompt is not None and prompt_file is not None:
        raise click.UsageError("give --prompt or --prompt-file, not both")
    if prompt_file == "-" and from_stdin:
        raise click.UsageError("--prompt-file - and --stdin both want standard input")
    if prompt_file is not None:
        prompt = _read_prompt_file(prompt_file)
    paths = list(outputs)
    if from_stdin:
        paths += [line.strip() for line in sys.stdin if line.strip()]
    if not paths:
        raise click.UsageError("give at least one OUTPUT (or --stdin)")
    refuse_special_files("--policy", [policy_file])
    refuse_special_files("--source", list(sources))
    policy = provenance.Policy.from_toml(policy_file)
    trust = build_trust(trust_files, allowed_files, tsa_files, no_default_trust, config_dir)
    decisions = [
        provenance.gate(
            p, policy=policy, trust=trust, sources=sources, prompt=prompt, ai_made=ai_made
        )
        for p in paths
    ]
    code = 0 if all(d.passed for d in decisions) else 1
    if fmt == "json":
        click.echo(render.render_gate_json(paths, decisions, exit_code=code))
    else:
        click.echo(render.render_gate_text(paths, decisions))
    sys.exit(code)
