"""`provcheck keys ...`: TEST-ONLY keys and certificates for signing."""

from __future__ import annotations

from pathlib import Path

import click

import provenance
from provenance.textsafe import for_terminal as _s

from ..options import COMMAND_EXIT_HELP

__all__ = ["keys_group"]


def _check_org(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    # The length limit (X.509 ub-organization-name, 64) is the library's to enforce.
    if not value.strip():
        raise click.BadParameter("must not be empty")
    return value


@click.group("keys")
def keys_group() -> None:
    """Keys and certificates for signing."""


@keys_group.command("create-test-ca", epilog=COMMAND_EXIT_HELP)
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
    callback=_check_org,
    help="Organisation name in the certificates (at most 64 bytes of UTF-8).",
)
@click.option("--force", is_flag=True, help="Replace existing files.")
def keys_create_test_ca(directory: str, alg: str, org: str, force: bool) -> None:
    """Write a TEST-ONLY root CA and a C2PA signer certificate into DIRECTORY."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    ca = provenance.create_test_ca(directory, alg=alg, org=org, force=force)
    root, chain, key = (_s(p) for p in (ca.root_cert, ca.signer_cert, ca.signer_key))
    click.echo(
        "TEST ONLY — never install this root as a real trust anchor.\n"
        f"  root certificate: {root}\n"
        f"  signer chain:     {chain}\n"
        f"  signer key:       {key}\n"
        f"sign with:   provcheck sign IN -o OUT --key {key} --cert {chain} --ai no\n"
        f"verify with: provcheck --trust {root} OUT",
        err=True,
    )
