"""`provcheck sign`: build, sign and embed a manifest with an explicit AI-generation label."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

import provenance
from provenance.textsafe import for_terminal as _s

from ..options import (
    SIGN_EXIT_HELP,
    Failure,
    open_repository,
    refuse_special_files,
    repository_option,
    verbose_option,
)

__all__ = ["sign_cmd", "AI_CHOICES"]

AI_CHOICES = ("fully", "partly", "possibly", "no")

_NO_AI_MESSAGE = (
    "--ai is required: say whether generative AI made this content "
    "(--ai fully, partly or possibly), or that it did not (--ai no). "
    "A signed file without an AI label leaves every reader guessing."
)


def _load_extra_assertions(path: str | None) -> list[dict[str, Any]]:
    if path is None:
        return []
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


def _load_parts(texts: tuple[str, ...], path: str | None) -> list[provenance.AIPart]:
    from provenance import parts as parts_mod

    out = []
    for text in texts:
        try:
            out.append(parts_mod.parse_part(text))
        except ValueError as exc:
            raise click.BadParameter(_s(str(exc)), param_hint="--ai-part") from None
    if path is not None:
        refuse_special_files("--ai-parts", [path])
        try:
            out.extend(parts_mod.load_parts(path))
        except provenance.ProvenanceError as exc:
            raise click.BadParameter(_s(str(exc)), param_hint="--ai-parts") from None
    return out


def _load_ingredients(texts: tuple[str, ...]) -> list[provenance.IngredientSpec]:
    """``--ingredient FILE[:REL][@RANGES]`` values (see provenance.creators)."""
    from provenance import creators

    out = []
    for text in texts:
        try:
            path, rel, used = creators.parse_ingredient(text)
        except ValueError as exc:
            raise click.BadParameter(_s(str(exc)), param_hint="--ingredient") from None
        out.append(provenance.IngredientSpec(path, rel, used=used))
    return out


def _load_signer(key: str, cert: str, alg: str | None, passphrase_env: str) -> provenance.PemSigner:
    try:
        mode = Path(key).stat().st_mode
        if mode & 0o077:
            click.echo(
                f"provcheck: warning: {_s(key)} is readable by other users; "
                f"run `chmod 600 {_s(key)}`",
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
        secret = click.prompt(f"Passphrase for {_s(key)}", hide_input=True, err=True)
        return provenance.PemSigner.from_files(key, cert, passphrase=secret.encode(), alg=alg)


def _for_people(message: str) -> str:
    """Library messages that name the Python argument get the flag's name instead."""
    return message.replace("use force=True (--force)", "use --force")


def _probe(url: str) -> str | None:
    """Why a TSA cannot be reached, in words (the native library only says "error
    sending request"): one TCP connection to the host the user named."""
    import socket
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        return f"not a usable URL ({exc})"
    if not host:
        return "the URL names no host"
    try:
        with socket.create_connection((host, port), timeout=5):
            return None
    except socket.gaierror as exc:
        return f"the host name {host} does not resolve ({exc.strerror or exc})"
    except TimeoutError:
        return f"no answer from {host}:{port} within 5 s"
    except OSError as exc:
        return f"cannot connect to {host}:{port}: {exc.strerror or exc}"


def _tsa_failure(tsa_url: str, exc: BaseException) -> Failure:
    cause = _probe(tsa_url) or f"the server did not give a usable timestamp ({exc})"
    return Failure(
        f"the timestamp authority {tsa_url} could not timestamp the signature: {cause}. "
        "Nothing was written. Check the URL, or sign without --tsa."
    )


def _looks_like_tsa_trouble(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(w in text for w in ("http", "resolver", "timestamp", "tsa", "connect"))


@click.command("sign", epilog=SIGN_EXIT_HELP)
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
    type=click.Choice(AI_CHOICES),
    help="AI-generation label to declare (required; `--ai no` for content made "
    "without generative AI).",
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
    metavar="FILE[:REL][@RANGES]",
    help="A source file (e.g. the photo a video was made from, or the creator's signed clip "
    "an ad was cut from); repeatable. REL: parentOf, componentOf or inputTo; RANGES: the "
    "time used from it, e.g. creator.mp4:componentOf@0:02-0:08 (several: @0:00-0:04,0:10-0:12).",
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
@click.option(
    "--ai-part",
    "ai_part_texts",
    multiple=True,
    metavar="PART",
    help="An AI-made part, e.g. 'video 0:02-0:08 at 120,80,320x480: placed avatar' or "
    "'audio track 1: dubbed vi'; repeatable. Implies --ai partly.",
)
@click.option(
    "--ai-parts",
    "ai_parts_file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="AI-made parts from a JSON or TOML spec file (see README, 'Which part is AI').",
)
@click.option(
    "--visible-label",
    metavar="TEXT",
    help="Burn TEXT (e.g. 'AI-generated') into the video before signing (MP4/MOV; "
    "the video is re-encoded, audio copied); recorded in the manifest.",
)
@click.option(
    "--label-position",
    default="top-left",
    show_default=True,
    metavar="WHERE",
    help="top-left, top-right, bottom-left, bottom-right, top, bottom, center, or X,Y.",
)
@click.option(
    "--label-size",
    type=click.FloatRange(0.01, 0.5),
    default=0.05,
    show_default=True,
    help="Text height as a fraction of the frame height.",
)
@click.option(
    "--label-start",
    type=click.FloatRange(0),
    default=0.0,
    metavar="SECONDS",
    help="When the label appears, from the first frame (default: at once).",
)
@click.option(
    "--label-duration",
    type=click.FloatRange(0, min_open=True),
    metavar="SECONDS",
    help="How long the label shows (default: to the end).",
)
@click.option(
    "--label-font",
    type=click.Path(dir_okay=False),
    metavar="FONT",
    help="TrueType/OpenType font for the label (default: a bundled Latin font).",
)
@click.option("--force", is_flag=True, help="Replace an existing output file.")
@click.option("--in-place", is_flag=True, help="Sign SOURCE itself (still atomically).")
@click.option("--no-xmp", is_flag=True, help="Do not also write the AI label as IPTC XMP.")
@repository_option
@click.option(
    "--passphrase-env",
    default="PROVCHECK_KEY_PASSPHRASE",
    show_default=True,
    metavar="VAR",
    help="Environment variable holding the key's passphrase; "
    "without it an encrypted key is prompted for on a terminal.",
)
@verbose_option
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
    ai_part_texts: tuple[str, ...],
    ai_parts_file: str | None,
    visible_label: str | None,
    label_position: str,
    label_size: float,
    label_start: float,
    label_duration: float | None,
    label_font: str | None,
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
    provcheck sign photo.jpg -o photo.signed.jpg --key signer.key --cert chain.pem --ai no
    provcheck sign ad.mp4 -o ad.signed.mp4 --key signer.key --cert chain.pem \\
        --ai-part "audio track 1: dubbed en>vi"
    """
    parts = _load_parts(ai_part_texts, ai_parts_file)
    if ai is None and parts:
        ai = "partly"
    if ai is None:
        raise click.UsageError(_NO_AI_MESSAGE)
    if in_place:
        if output is not None and Path(output).resolve() != Path(source).resolve():
            raise click.UsageError("--in-place signs SOURCE itself; drop -o/--output")
        output = source
    if output is None:
        raise click.UsageError("give -o/--output (or --in-place)")
    refuse_special_files("--key", [key])
    refuse_special_files("--cert", [cert])
    refuse_special_files("--manifest", [manifest_file])
    ingredient_specs = _load_ingredients(ingredients)
    refuse_special_files("--ingredient", [str(i.path) for i in ingredient_specs])
    extra = _load_extra_assertions(manifest_file)
    label = None
    if visible_label is None:
        ctx = click.get_current_context()
        for name in ("label_position", "label_size", "label_start", "label_duration", "label_font"):
            if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE:
                flag = "--" + name.replace("_", "-")
                raise click.UsageError(f"{flag} needs --visible-label TEXT")
    else:
        refuse_special_files("--label-font", [label_font])
        try:
            label = provenance.VisibleLabel(
                visible_label,
                position=label_position,
                size=label_size,
                start=label_start,
                duration=label_duration,
                font=Path(label_font) if label_font else None,
            )
        except provenance.ProvenanceError as exc:
            hint = "--label-position" if "position" in str(exc) else "--visible-label"
            raise click.BadParameter(_s(str(exc)), param_hint=hint) from None
    signer = _load_signer(key, cert, alg, passphrase_env)
    repo = open_repository(repository)
    try:
        result = provenance.sign(
            source,
            output,
            signer=signer,
            ai=ai,
            ingredients=ingredient_specs,
            title=title,
            tsa_url=tsa_url,
            extra_assertions=extra,
            software_agent=software_agent,
            source_type=source_type,
            force=force,
            in_place=in_place,
            write_xmp=not no_xmp,
            repository=repo,
            parts=parts,
            visible_label=label,
        )
    except provenance.DestinationExistsError as exc:
        raise Failure(f"{_s(exc.path)}: already exists; use --force to replace it") from exc
    except provenance.ProvenanceError as exc:
        if tsa_url and _looks_like_tsa_trouble(exc):
            raise _tsa_failure(tsa_url, exc) from exc
        raise Failure(_for_people(str(exc))) from exc
    except Exception as exc:  # the native library's own error types
        if tsa_url and _looks_like_tsa_trouble(exc):
            raise _tsa_failure(tsa_url, exc) from exc
        raise
    if repo is not None:
        click.echo(f"registered in the manifest repository {_s(repo.location)}", err=True)
    ai_text = f", AI: {result.ai.value}" if result.ai else ""
    if label is not None:
        ai_text += f', visible label "{_s(label.text)}"'
    size = result.manifest_size
    click.echo(
        f"signed {_s(result.path)} ({result.format}{ai_text}, manifest {size} bytes)",
        err=True,
    )
