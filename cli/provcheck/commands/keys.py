"""`provcheck keys ...`: TEST-ONLY keys and certificates for signing."""

from __future__ import annotations

from pathlib import Path

import click

import provenance
from provenance.textsafe import for_terminal as _s

from ..options import COMMAND_EXIT_HELP

__all__ = ["keys_group"]

# X.509 names hold at most 64 characters, and the root is named "ORG Root CA (TEST ONLY)".
_ROOT_SUFFIX = " Root CA (TEST ONLY)"
MAX_ORG = 64 - len(_ROOT_SUFFIX)


def _check_org(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    if not value.strip():
        raise click.BadParameter("must not be empty")
    if len(value) > MAX_ORG:
        raise click.BadParameter(
            f"at most {MAX_ORG} characters (certificate names hold 64, and "
            f"'{_ROOT_SUFFIX.strip()}' is added); this one has {len(value)}"
        )
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
    help=f"Organisation name in the certificates (at most {MAX_ORG} characters).",
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
