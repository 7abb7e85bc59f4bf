"""The click application: flags -> library calls -> rendering. No C2PA logic here."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

import provenance
from provenance import EXIT_CODES, ProvenanceError, Report, Verdict, exit_code_for

if TYPE_CHECKING:
    from provenance import TrustConfig

from . import render

__all__ = ["main", "cli"]

F = TypeVar("F", bound=Callable[..., Any])

EXIT_HELP = f"""\b
Exit codes (the worst file decides):
  {EXIT_CODES[Verdict.TRUSTED]}  every file is trusted
  {EXIT_CODES[Verdict.UNTRUSTED]}  intact credentials, but a signer is not trusted
  2  usage error (bad option or argument)
  {EXIT_CODES[Verdict.UNSIGNED]}  no credentials found
  {EXIT_CODES[Verdict.TAMPERED]}  tampered or invalid credentials
  {EXIT_CODES[Verdict.ERROR]}  a file could not be read (missing, unreadable, not media)
Precedence: tampered/invalid > unreadable > no credentials > untrusted > trusted.
"""


class _Failure(click.ClickException):
    """A library error shown as one line, with the unreadable-file exit code."""

    exit_code = EXIT_CODES[Verdict.ERROR]

    def show(self, file: Any = None) -> None:
        click.echo(f"provcheck: error: {self.format_message()}", err=True)


class _DefaultToVerify(click.Group):
    """`provcheck FILE...` means `provcheck verify FILE...`; library errors become one
    clear line (a traceback only with --verbose)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ProvenanceError as exc:
            if "--verbose" in sys.argv or "-v" in sys.argv:
                traceback.print_exc()
            raise _Failure(str(exc)) from exc
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except OSError as exc:
            if "--verbose" in sys.argv or "-v" in sys.argv:
                traceback.print_exc()
            where = f"{exc.filename}: " if exc.filename else ""
            raise _Failure(f"{where}{exc.strerror or exc}") from exc
        except Exception as exc:
            if "--verbose" in sys.argv or "-v" in sys.argv:
                traceback.print_exc()
            raise _Failure(
                f"internal error: {type(exc).__name__}: {exc} (run with --verbose for details)"
            ) from exc

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["verify", *args]
        return super().parse_args(ctx, args)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_help(ctx, formatter)
        verify_cmd = self.commands.get("verify")
        if verify_cmd is not None:
            formatter.write_paragraph()
            formatter.write_text("Options of `provcheck [verify] FILE...`:")
            with formatter.indentation():
                verify_cmd.format_options(ctx, formatter)
        formatter.write_paragraph()
        formatter.write_text(EXIT_HELP)


def _trust_options(f: F) -> F:
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
        click.option(
            "--config-dir",
            type=click.Path(file_okay=False),
            envvar=None,
            help="Config directory (default: $PROVCHECK_CONFIG_DIR or the "
            "platform's, e.g. ~/.config/provcheck).",
        ),
    ]
    for opt in reversed(options):
        f = opt(f)
    return f


def _build_trust(
    trust_files: Sequence[str],
    allowed_files: Sequence[str],
    tsa_files: Sequence[str],
    no_default_trust: bool,
    config_dir: str | None,
) -> TrustConfig:
    try:
        base = (
            provenance.TrustConfig()
            if no_default_trust
            else provenance.TrustConfig.load(config_dir)
        )
        return base.with_files(anchors=trust_files, allowed=allowed_files, tsa=tsa_files)
    except provenance.TrustConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="trust configuration") from exc


def _repository_option(f: F) -> F:
    return click.option(
        "--repository",
        "repository",
        default=None,
        metavar="DB",
        help="Manifest repository (SQLite file) for soft binding; 'default' is the one in "
        "the user's data directory ($PROVCHECK_DATA_DIR).",
    )(f)


def _repository_path(repository: str | None) -> str | None:
    """None: no repository; "": the default one; else a path."""
    if repository is None:
        return None
    return "" if repository == "default" else repository


def _open_repository(repository: str | None) -> Any:
    path = _repository_path(repository)
    if path is None:
        return None
    return provenance.SQLiteRepository(path or None)


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


@cli.command("verify", epilog=EXIT_HELP)
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format; json writes only JSON to stdout.",
)
@_trust_options
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
@_repository_option
@click.option("-v", "--verbose", is_flag=True, help="Show library details and tracebacks.")
def verify_cmd(
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
    verbose: bool,
) -> None:
    """Verify the Content Credentials of FILE(s)."""
    if fragments and len(files) != 1:
        raise click.UsageError("--fragment needs exactly one FILE (the init segment)")
    trust = _build_trust(trust_files, allowed_files, tsa_files, no_default_trust, config_dir)
    reports: list[Report] = []
    repo = _open_repository(repository)
    with provenance.Verifier(
        trust, remote_manifests=remote_manifests, ocsp=ocsp, repository=repo
    ) as verifier:
        for path in files:
            reports.append(_guarded(verifier.verify, path, fragments, verbose))
            if fmt == "text":
                click.echo(render.render_text(reports[-1], verbose=verbose))
                if len(files) > 1:
                    click.echo()
    code = exit_code_for([r.verdict for r in reports])
    if fmt == "json":
        click.echo(render.render_json(reports, exit_code=code))
    elif not trust.has_signer_trust:
        click.echo(
            click.style(
                "note: no trust list is configured, so nothing can be "
                "`trusted`. Run `provcheck trust update` or pass --trust PEM.",
                dim=True,
            ),
            err=True,
        )
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
            traceback.print_exc()
        return Report(
            path=path,
            verdict=Verdict.ERROR,
            reason=f"internal error while verifying: {type(exc).__name__}: {exc}",
        )


# ---------------------------------------------------------------------------
# trust management


@cli.group("trust")
def trust_group() -> None:
    """Manage the default trust configuration (trust anchors, allowed list, TSA list)."""


@trust_group.command("install")
@click.argument("source")
@click.option(
    "--kind",
    type=click.Choice(["anchors", "allowed", "tsa"]),
    default="anchors",
    show_default=True,
    help="What the PEM bundle is used for.",
)
@click.option("--name", help="Name to store it under (default: the file name).")
@click.option("--config-dir", type=click.Path(file_okay=False))
def trust_install(source: str, kind: str, name: str | None, config_dir: str | None) -> None:
    """Add a PEM bundle from a FILE or an http(s) URL to the default configuration."""
    if source.startswith(("http://", "https://")):
        data = provenance.download_trust_list(source)
        label = name or Path(source.split("?", 1)[0]).stem or "downloaded"
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise provenance.TrustConfigError(
                f"{source}: cannot read: {exc.strerror or exc}"
            ) from exc
        label = name or Path(source).stem
    src = provenance.install_trust_source(
        data, kind=kind, label=label, origin=source, config_dir=config_dir
    )
    click.echo(f"installed {src.count} certificate(s) as {kind} '{src.label}'", err=True)


@trust_group.command("update")
@click.option("--config-dir", type=click.Path(file_okay=False))
@click.option(
    "--trust-list-url",
    default=None,
    metavar="URL",
    help="Where to fetch the C2PA trust list (default: the official location).",
)
@click.option(
    "--tsa-list-url",
    default=None,
    metavar="URL",
    help="Where to fetch the C2PA TSA trust list (default: the official location).",
)
@click.option(
    "--cai-interim",
    is_flag=True,
    help="Also install the older interim trust list of the Content Authenticity "
    "Initiative (much 2023-2025 content chains only to it).",
)
@click.option("--cai-interim-url", default=None, metavar="URL")
def trust_update(
    config_dir: str | None,
    trust_list_url: str | None,
    tsa_list_url: str | None,
    cai_interim: bool,
    cai_interim_url: str | None,
) -> None:
    """Download the official C2PA trust list and TSA trust list."""
    sources = provenance.update_trust_lists(
        config_dir=config_dir,
        trust_list_url=trust_list_url or provenance.OFFICIAL_TRUST_LIST_URL,
        tsa_list_url=tsa_list_url or provenance.OFFICIAL_TSA_TRUST_LIST_URL,
        include_cai_interim=cai_interim,
        cai_interim_url=cai_interim_url or provenance.CAI_INTERIM_TRUST_LIST_URL,
    )
    for src in sources:
        click.echo(
            f"updated {src.kind} '{src.label}': {src.count} certificate(s) from {src.origin}",
            err=True,
        )


@trust_group.command("list")
@click.option("--config-dir", type=click.Path(file_okay=False))
def trust_list(config_dir: str | None) -> None:
    """Show the installed trust sources."""
    cfg = provenance.TrustConfig.load(config_dir)
    where = Path(config_dir) if config_dir else provenance.default_config_dir()
    click.echo(f"config directory: {where}")
    if not cfg.sources():
        click.echo("no trust sources installed: run `provcheck trust update`")
    for src in cfg.sources():
        click.echo(f"{src.kind:<8} {src.label:<28} {src.count:>4} certificate(s)  {src.origin}")


@trust_group.command("remove")
@click.argument("name")
@click.option("--kind", type=click.Choice(["anchors", "allowed", "tsa"]), default=None)
@click.option("--config-dir", type=click.Path(file_okay=False))
def trust_remove(name: str, kind: str | None, config_dir: str | None) -> None:
    """Remove an installed trust source by NAME."""
    root = Path(config_dir) if config_dir else provenance.default_config_dir()
    removed = 0
    for k in [kind] if kind else list(provenance.TRUST_KINDS):
        p = root / "trust" / k / f"{name}.pem"
        if p.exists():
            p.unlink()
            removed += 1
    if not removed:
        raise provenance.TrustConfigError(f"no installed trust source named {name!r}")
    click.echo(f"removed {name}", err=True)


def main() -> None:
    """Console entry point."""
    try:
        cli.main(prog_name="provcheck")
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        click.echo("provcheck: interrupted", err=True)
        sys.exit(130)


# ---------------------------------------------------------------------------
# signing


def _load_extra_assertions(path: str | None) -> list[dict[str, Any]]:
    if path is None:
        return []
    import json

    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise click.BadParameter(f"{path}: cannot read: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"{path}: not valid JSON: {exc}") from None
    items = doc.get("assertions") if isinstance(doc, dict) else doc
    if not isinstance(items, list) or not all(
        isinstance(a, dict) and isinstance(a.get("label"), str) and "data" in a for a in items
    ):
        raise click.BadParameter(
            f'{path}: expected a list of {{"label": ..., "data": ...}} assertions '
            '(or {"assertions": [...]})'
        )
    return items


def _load_signer(key: str, cert: str, alg: str | None, passphrase_env: str) -> provenance.PemSigner:
    try:
        mode = Path(key).stat().st_mode
        if mode & 0o077:
            click.echo(
                f"provcheck: warning: {key} is readable by other users; run `chmod 600 {key}`",
                err=True,
            )
    except OSError:
        pass  # the loader reports a missing key with a proper message
    passphrase = os.environ.get(passphrase_env)
    try:
        return provenance.PemSigner.from_files(
            key, cert, passphrase=passphrase.encode() if passphrase else None, alg=alg
        )
    except provenance.SigningError as exc:
        if "encrypted" not in str(exc) or passphrase:
            raise
        if not sys.stdin.isatty():
            raise provenance.SigningError(
                f"{key}: the private key is encrypted; set ${passphrase_env} to its "
                "passphrase (it is never taken from the command line)"
            ) from None
        secret = click.prompt(f"Passphrase for {key}", hide_input=True, err=True)
        return provenance.PemSigner.from_files(key, cert, passphrase=secret.encode(), alg=alg)


@cli.command("sign")
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Signed file to write.")
@click.option("--key", required=True, type=click.Path(dir_okay=False), help="PEM private key.")
@click.option(
    "--cert",
    required=True,
    type=click.Path(dir_okay=False),
    help="PEM certificate chain, signer first.",
)
@click.option(
    "--alg",
    type=click.Choice(provenance.SIGNING_ALGORITHMS),
    help="Signing algorithm (default: from the key type).",
)
@click.option(
    "--ai",
    type=click.Choice(["fully", "partly", "possibly", "no"]),
    help="AI-generation label to declare.",
)
@click.option(
    "--source-type",
    metavar="NAME",
    help="With --ai no: the IPTC digitalSourceType (default digitalCreation).",
)
@click.option(
    "--ingredient",
    "ingredients",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A source file (e.g. the photo a video was made from); repeatable.",
)
@click.option("--tsa", "tsa_url", metavar="URL", help="RFC 3161 timestamp authority URL.")
@click.option("--title", help="Title recorded in the manifest (default: the output name).")
@click.option(
    "--software-agent",
    metavar="NAME",
    help="Generating software recorded on the action (default: provcheck).",
)
@click.option(
    "--manifest",
    "manifest_file",
    type=click.Path(dir_okay=False),
    metavar="JSON",
    help="Extra assertions to add (a JSON list of {label, data}).",
)
@click.option("--force", is_flag=True, help="Replace an existing output file.")
@click.option("--in-place", is_flag=True, help="Sign SOURCE itself (still atomically).")
@click.option("--no-xmp", is_flag=True, help="Do not also write the AI label as IPTC XMP.")
@_repository_option
@click.option(
    "--passphrase-env",
    default="PROVCHECK_KEY_PASSPHRASE",
    show_default=True,
    metavar="VAR",
    help="Environment variable holding the key's passphrase; "
    "without it an encrypted key is prompted for on a terminal.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks on errors.")
def sign_cmd(
    source: str,
    output: str | None,
    key: str,
    cert: str,
    alg: str | None,
    ai: str | None,
    source_type: str | None,
    ingredients: tuple[str, ...],
    tsa_url: str | None,
    title: str | None,
    software_agent: str | None,
    manifest_file: str | None,
    force: bool,
    in_place: bool,
    no_xmp: bool,
    repository: str | None,
    passphrase_env: str,
    verbose: bool,
) -> None:
    """Sign SOURCE with a C2PA manifest carrying an AI-generation label.

    \b
    provcheck sign gen.mp4 -o gen.signed.mp4 --key signer.key --cert chain.pem \\
        --ai fully --ingredient source-photo.jpg --software-agent "Model 2.1"
    """
    if in_place:
        if output is not None and Path(output).resolve() != Path(source).resolve():
            raise click.UsageError("--in-place signs SOURCE itself; drop -o/--output")
        output = source
    if output is None:
        raise click.UsageError("give -o/--output (or --in-place)")
    extra = _load_extra_assertions(manifest_file)
    signer = _load_signer(key, cert, alg, passphrase_env)
    repo = _open_repository(repository)
    result = provenance.sign(
        source,
        output,
        signer=signer,
        ai=ai,
        ingredients=ingredients,
        title=title,
        tsa_url=tsa_url,
        extra_assertions=extra,
        software_agent=software_agent,
        source_type=source_type,
        force=force,
        in_place=in_place,
        write_xmp=not no_xmp,
        repository=repo,
    )
    if repo is not None:
        click.echo(f"registered in the manifest repository {repo.path}", err=True)
    label = f", AI: {result.ai.value}" if result.ai else ""
    click.echo(
        f"signed {result.path} ({result.format}{label}, manifest {result.manifest_size} bytes)",
        err=True,
    )


@cli.group("keys")
def keys_group() -> None:
    """Keys and certificates for signing."""


@keys_group.command("create-test-ca")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option(
    "--alg",
    type=click.Choice(provenance.SIGNING_ALGORITHMS),
    default="es256",
    show_default=True,
    help="Algorithm of the signer key.",
)
@click.option(
    "--org",
    default="provcheck test",
    show_default=True,
    help="Organisation name in the certificates.",
)
@click.option("--force", is_flag=True, help="Replace existing files.")
def keys_create_test_ca(directory: str, alg: str, org: str, force: bool) -> None:
    """Write a TEST-ONLY root CA and a C2PA signer certificate into DIRECTORY."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    ca = provenance.create_test_ca(directory, alg=alg, org=org, force=force)
    click.echo(
        "TEST ONLY — never install this root as a real trust anchor.\n"
        f"  root certificate: {ca.root_cert}\n"
        f"  signer chain:     {ca.signer_cert}\n"
        f"  signer key:       {ca.signer_key}\n"
        f"sign with:   provcheck sign IN -o OUT --key {ca.signer_key} --cert {ca.signer_cert}\n"
        f"verify with: provcheck --trust {ca.root_cert} OUT",
        err=True,
    )


# ---------------------------------------------------------------------------
# audit


@cli.command("audit", epilog=EXIT_HELP)
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-r", "--recursive", is_flag=True, help="Descend into sub-folders.")
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
    type=click.Choice(["table", "json", "jsonl", "csv", "html"]),
    default="table",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write the report to this file (atomically) instead of stdout.",
)
@_trust_options
@click.option(
    "--timeout",
    type=click.FloatRange(1, 3600),
    default=120.0,
    show_default=True,
    help="Seconds one file may take before it is abandoned as an error.",
)
@click.option("--remote-manifests", is_flag=True, help="Fetch remote manifests (network).")
@click.option("--ocsp", is_flag=True, help="Check revocation over OCSP (network).")
@_repository_option
@click.option("--no-progress", is_flag=True, help="Never show a progress bar.")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks on errors.")
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
    verbose: bool,
) -> None:
    """Audit many files or whole folders: verdict, AI label, signer and container facts of
    every media file; non-media files are skipped and counted.

    \b
    provcheck audit downloads/ -r                      a table on the terminal
    provcheck audit downloads/ -r --format html -o report.html
    provcheck audit downloads/ -r --format jsonl | jq .verdict
    """
    import time as _time

    from . import audit_render

    trust = _build_trust(trust_files, allowed_files, tsa_files, no_default_trust, config_dir)
    start = _time.monotonic()
    candidates, skipped = provenance.discover(paths, recursive=recursive)
    order = {c.path: i for i, c in enumerate(candidates)}
    err_console = _console(stderr=True)
    show_progress = (
        not no_progress
        and err_console.is_terminal
        and len(candidates) > 1
        and (fmt == "table" or output is not None)
    )
    reports: list[Report] = []
    runner = provenance.run_audit(
        candidates,
        trust,
        jobs=jobs,
        timeout=timeout,
        remote_manifests=remote_manifests,
        ocsp=ocsp,
        thumbnails=(fmt == "html"),
        repository=_repository_path(repository),
    )
    if show_progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
        ) as bar:
            task = bar.add_task("verifying", total=len(candidates))
            for report in runner:
                reports.append(report)
                bar.advance(task)
    else:
        reports.extend(runner)
    reports.sort(key=lambda r: order.get(r.path, len(order)))
    summary = provenance.summarize(reports, skipped, _time.monotonic() - start)
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
        click.echo(f"report written to {output}", err=True)
    if not reports:
        click.echo("provcheck: no media files found", err=True)
    sys.exit(code)


def _console(stderr: bool) -> Any:
    from rich.console import Console

    console = Console(stderr=stderr, highlight=False, soft_wrap=False)
    if not console.is_terminal:  # piped: do not fold paths at 80 columns
        console = Console(stderr=stderr, highlight=False, soft_wrap=False, width=200)
    return console


def _plain_table(reports: Sequence[Report], summary: Any) -> str:
    from rich.console import Console

    from . import audit_render

    console = Console(record=True, width=160, file=open(os.devnull, "w"))
    console.print(audit_render.results_table(reports))
    console.print(audit_render.summary_table(summary))
    return console.export_text()


def _write_output(path: str, text: str) -> None:
    provenance.write_file_atomically(Path(path), text.encode("utf-8"))


# ---------------------------------------------------------------------------
# pre-publish gate

GATE_EXIT_HELP = """\b
Exit codes:
  0  every output passes the policy
  1  an output is refused (the reasons are printed)
  2  usage error (bad option or argument)
  5  the policy, a prompt file or the trust configuration could not be loaded
"""


@cli.command("gate", epilog=GATE_EXIT_HELP)
@click.argument("outputs", nargs=-1, type=click.Path())
@click.option(
    "--policy",
    "policy_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="Policy file (TOML).",
)
@_trust_options
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
    type=click.File("r", encoding="utf-8"),
    help="Read the prompt from a file ('-' for stdin).",
)
@click.option("--ai-made", is_flag=True, help="Declare the output AI-made (it must be labelled).")
@click.option(
    "--stdin",
    "from_stdin",
    is_flag=True,
    help="Also read output paths from stdin, one per line (for pipelines).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks on errors.")
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
    prompt_file: Any,
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
    import json

    if prompt is not None and prompt_file is not None:
        raise click.UsageError("give --prompt or --prompt-file, not both")
    if prompt_file is not None:
        if from_stdin and prompt_file.name == "<stdin>":
            raise click.UsageError("--prompt-file - and --stdin both want standard input")
        prompt = prompt_file.read()
    paths = list(outputs)
    if from_stdin:
        paths += [line.strip() for line in sys.stdin if line.strip()]
    if not paths:
        raise click.UsageError("give at least one OUTPUT (or --stdin)")
    policy = provenance.Policy.from_toml(policy_file)
    trust = _build_trust(trust_files, allowed_files, tsa_files, no_default_trust, config_dir)
    decisions = [
        provenance.gate(
            p, policy=policy, trust=trust, sources=sources, prompt=prompt, ai_made=ai_made
        )
        for p in paths
    ]
    passed = all(d.passed for d in decisions)
    if fmt == "json":
        doc = {
            "decision": "pass" if passed else "refuse",
            "results": [{"path": p, **d.to_dict()} for p, d in zip(paths, decisions, strict=True)],
        }
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        for p, d in zip(paths, decisions, strict=True):
            head = (
                click.style("PASS", fg="green", bold=True)
                if d.passed
                else click.style("REFUSE", fg="red", bold=True)
            )
            click.echo(f"{click.style(p, bold=True)}  {head}")
            for o in d.outcomes:
                mark = click.style("ok ", fg="green") if o.passed else click.style("NO ", fg="red")
                click.echo(f"  {mark} [{o.layer}] {o.rule}: {o.reason}")
    sys.exit(0 if passed else 1)


# ---------------------------------------------------------------------------
# manifest repository


@cli.group("repo")
def repo_group() -> None:
    """The manifest repository: signed clips a stripped copy can be matched back to."""


def _repo_arg(f: F) -> F:
    return click.option(
        "--repository",
        "repository",
        default="default",
        show_default=True,
        metavar="DB",
        help="Repository file; 'default' is the one in the user's data directory.",
    )(f)


@repo_group.command("add")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_repo_arg
@_trust_options
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
    trust = _build_trust(trust_files, allowed_files, tsa_files, no_default_trust, config_dir)
    repo = _open_repository(repository)
    failed = 0
    with repo:
        for path in files:
            try:
                entry = provenance.register_signed_file(repo, path, trust=trust)
            except provenance.ProvenanceError as exc:
                click.echo(f"provcheck: {exc}", err=True)
                failed += 1
                continue
            click.echo(f"{entry.id}  {path}")
    sys.exit(1 if failed else 0)


@repo_group.command("list")
@_repo_arg
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def repo_list(repository: str, fmt: str) -> None:
    """List the registered manifests."""
    import json

    with _open_repository(repository) as repo:
        entries = repo.list()
        if fmt == "json":
            click.echo(
                json.dumps(
                    [
                        {
                            "id": e.id,
                            "summary": dict(e.summary),
                            "added": e.added,
                            "duration": e.duration,
                        }
                        for e in entries
                    ],
                    indent=2,
                )
            )
            return
        click.echo(f"{len(entries)} manifest(s) in {repo.path}")
        for e in entries:
            signer = (e.summary.get("signer") or {}).get("common_name") or "?"
            click.echo(
                f"{e.id}  {e.summary.get('title') or '?'}  AI: "
                f"{e.summary.get('ai_generated')}  signer: {signer}  "
                f"{e.duration:.1f} s"
            )


@repo_group.command("lookup")
@click.argument("file", type=click.Path(dir_okay=False))
@_repo_arg
@click.option("--limit", type=click.IntRange(1, 100), default=5, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def repo_lookup(file: str, repository: str, limit: int, fmt: str) -> None:
    """Find the registered manifests whose clip FILE looks like. Exit 0 on a match, 1 if none."""
    import json

    with _open_repository(repository) as repo:
        matches = provenance.lookup_file(repo, file, limit=limit)
    if fmt == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "id": e.id,
                        "summary": dict(e.summary),
                        "similarity": round(m.similarity, 4),
                        "matched_range": [m.a_start, m.a_end],
                        "original_range": [m.b_start, m.b_end],
                    }
                    for e, m in matches
                ],
                indent=2,
            )
        )
    else:
        if not matches:
            click.echo(f"{file}: no match")
        for e, m in matches:
            click.echo(
                f"{e.id}  similarity {m.similarity:.2f}  this file "
                f"{m.a_start:.1f}-{m.a_end:.1f} s = original {m.b_start:.1f}-"
                f"{m.b_end:.1f} s  ({e.summary.get('title') or '?'})"
            )
    sys.exit(0 if matches else 1)


@repo_group.command("remove")
@click.argument("entry_id")
@_repo_arg
def repo_remove(entry_id: str, repository: str) -> None:
    """Remove a registered manifest by its id."""
    with _open_repository(repository) as repo:
        if not repo.remove(entry_id):
            raise provenance.ProvenanceError(f"no entry {entry_id!r} in {repo.path}")
    click.echo(f"removed {entry_id}", err=True)
