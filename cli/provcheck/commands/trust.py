"""`provcheck trust ...`: the default trust configuration, through provenance.trust."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

import provenance
from provenance.textsafe import for_terminal as _s

from .. import render
from ..options import COMMAND_EXIT_HELP, config_dir_option, refuse_special_files

__all__ = ["trust_group"]

_KINDS = click.Choice(["anchors", "allowed", "tsa"])


def _insecure_http_option(f: Any) -> Any:
    return click.option(
        "--insecure-http",
        is_flag=True,
        help="Also accept plain http:// URLs. Anyone on the network path could then "
        "substitute their own roots: a warning is printed every time.",
    )(f)


@contextlib.contextmanager
def _warnings_to_stderr() -> Iterator[None]:
    """The library warns (InsecureDownloadWarning) and never prints: the CLI says it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", provenance.InsecureDownloadWarning)
        try:
            yield
        finally:
            for w in caught:
                click.echo(f"provcheck: warning: {_s(str(w.message))}", err=True)


@click.group("trust")
def trust_group() -> None:
    """Manage the default trust configuration (trust anchors, allowed list, TSA list)."""


@trust_group.command("install", epilog=COMMAND_EXIT_HELP)
@click.argument("source")
@click.option(
    "--kind",
    type=_KINDS,
    default="anchors",
    show_default=True,
    help="What the PEM bundle is used for.",
)
@click.option("--name", help="Name to store it under (default: the file name).")
@click.option(
    "--sha256",
    default=None,
    metavar="HEX",
    help="Pin a download: refuse it unless its SHA-256 is exactly HEX.",
)
@_insecure_http_option
@config_dir_option
def trust_install(
    source: str,
    kind: str,
    name: str | None,
    sha256: str | None,
    insecure_http: bool,
    config_dir: str | None,
) -> None:
    """Add a PEM bundle from a FILE or an https URL to the default configuration."""
    if source.startswith(("http://", "https://")):
        with _warnings_to_stderr():
            data = provenance.download_trust_list(
                source, sha256=sha256, allow_insecure_http=insecure_http
            )
        label = name or Path(source.split("?", 1)[0]).stem or "downloaded"
    else:
        refuse_special_files("trust file", [source])
        from provenance.trust import load_pem_source

        data = load_pem_source(source, kind).pem.encode("ascii")
        label = name or Path(source).stem
    src = provenance.install_trust_source(
        data, kind=kind, label=label, origin=source, config_dir=config_dir
    )
    click.echo(f"installed {src.count} certificate(s) as {kind} '{_s(src.label)}'", err=True)


@trust_group.command("update", epilog=COMMAND_EXIT_HELP)
@config_dir_option
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
@_insecure_http_option
def trust_update(
    config_dir: str | None,
    trust_list_url: str | None,
    tsa_list_url: str | None,
    cai_interim: bool,
    cai_interim_url: str | None,
    insecure_http: bool,
) -> None:
    """Download the official C2PA trust list and TSA trust list (HTTPS only)."""
    with _warnings_to_stderr():
        sources = provenance.update_trust_lists(
            config_dir=config_dir,
            trust_list_url=trust_list_url or provenance.OFFICIAL_TRUST_LIST_URL,
            tsa_list_url=tsa_list_url or provenance.OFFICIAL_TSA_TRUST_LIST_URL,
            include_cai_interim=cai_interim,
            cai_interim_url=cai_interim_url or provenance.CAI_INTERIM_TRUST_LIST_URL,
            allow_insecure_http=insecure_http,
        )
    for src in sources:
        click.echo(
            f"updated {src.kind} '{_s(src.label)}': {src.count} certificate(s) "
            f"from {_s(src.origin)}",
            err=True,
        )


@trust_group.command("list", epilog=COMMAND_EXIT_HELP)
@config_dir_option
def trust_list(config_dir: str | None) -> None:
    """Show the installed trust sources."""
    cfg = provenance.TrustConfig.load(config_dir)
    where = Path(config_dir) if config_dir else provenance.default_config_dir()
    click.echo(render.render_trust_sources(cfg.sources(), str(where)))


@trust_group.command("remove", epilog=COMMAND_EXIT_HELP)
@click.argument("name")
@click.option("--kind", type=_KINDS, default=None, help="Only this kind (default: any).")
@config_dir_option
def trust_remove(name: str, kind: str | None, config_dir: str | None) -> None:
    """Remove an installed trust source by NAME."""
    kinds = provenance.remove_trust_source(name, kind=kind, config_dir=config_dir)
    click.echo(f"removed {_s(name)} ({', '.join(kinds)})", err=True)
