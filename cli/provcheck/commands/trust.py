"""`provcheck trust ...`: the default trust configuration, through provenance.trust."""

from __future__ import annotations

from pathlib import Path

import click

import provenance
from provenance.textsafe import for_terminal as _s

from .. import render
from ..options import COMMAND_EXIT_HELP, config_dir_option, refuse_special_files

__all__ = ["trust_group"]

_KINDS = click.Choice(["anchors", "allowed", "tsa"])


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
@config_dir_option
def trust_install(source: str, kind: str, name: str | None, config_dir: str | None) -> None:
    """Add a PEM bundle from a FILE or an http(s) URL to the default configuration."""
    if source.startswith(("http://", "https://")):
        data = provenance.download_trust_list(source)
        label = name or Path(source.split("?", 1)[0]).stem or "downloaded"
    else:
        refuse_special_files("trust file", [source])
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
