"""What the container says beside the credentials: MediaInfo facts, the XMP label,
traces of credentials that were stripped, and the inconsistencies a reviewer should see.

Nothing here changes a verdict: these are facts and flags next to it. ``inspect``
takes a ``Report`` from ``verify`` and returns a new one with ``container``,
``xmp_digital_source_type``, ``traces``, ``stripped`` and ``inconsistencies`` filled.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import labels, xmp
from .media import C2PA_BMFF_UUID
from .model import AIGeneration, ContainerFacts, Report, Verdict

__all__ = ["container_facts", "inspect", "find_traces"]

_SCAN_LIMIT = 4 * 1024 * 1024

# General-track fields that are bookkeeping, not metadata a reviewer needs.
_BORING = {
    "track_type",
    "count",
    "count_of_stream_of_this_kind",
    "kind_of_stream",
    "stream_identifier",
    "count_of_video_streams",
    "count_of_audio_streams",
    "video_format_list",
    "video_format_withhint_list",
    "audio_format_list",
    "audio_format_withhint_list",
    "codecs_video",
    "audio_codecs",
    "complete_name",
    "folder_name",
    "file_name_extension",
    "file_name",
    "file_extension",
    "format",
    "format_extensions_usually_used",
    "commercial_name",
    "format_profile",
    "internet_media_type",
    "codec_id",
    "codec_id_url",
    "codecid_compatible",
    "file_size",
    "duration",
    "overall_bit_rate",
    "overall_bit_rate_mode",
    "frame_rate",
    "frame_count",
    "stream_size",
    "proportion_of_this_stream",
    "headersize",
    "datasize",
    "footersize",
    "isstreamable",
    "file_last_modification_date",
    "file_last_modification_date__local",
    "writing_application",
    "encoded_date",
    "tagged_date",
    "title",
    "comment",
    "file_creation_date",
    "file_creation_date__local",
    "format_version",
    "image_format_list",
    "image_format_withhint_list",
    "count_of_image_streams",
    "count_of_menu_streams",
    "codecs_image",
    "other_format",
    "compression_mode",
}
_MAX_TAGS = 40
_MAX_TAG_LEN = 300


def container_facts(
    path: str | os.PathLike[str],
    *,
    parse_speed: float | None = 0,
    table_lies: tuple[str, ...] | None = None,
) -> ContainerFacts | None:
    """Facts from MediaInfo; None when it cannot parse the file (facts are optional), or
    when a sample table lies about its size (MediaInfo would allocate for the lie).

    MediaInfo's quick parse (``parse_speed=0``) reports the same facts on every fixture
    at ~40% of the full parse's cost (bench/parse_speed_check.py); None: full parse."""
    from .media import implausible_tables

    if table_lies is None:
        table_lies = implausible_tables(path)
    if table_lies:
        return None
    try:
        from pymediainfo import MediaInfo

        opts: dict[str, Any] = {} if parse_speed is None else {"parse_speed": parse_speed}
        info = MediaInfo.parse(os.fspath(path), **opts)
    except Exception:  # MediaInfo raises plain Exception/OSError: facts are optional
        return None
    general: Mapping[str, Any] = {}
    codecs: list[str] = []
    width = height = None
    frame_rate = None
    encoder = None
    for track in info.tracks:
        data = track.to_data()
        kind = data.get("track_type")
        if kind == "General":
            general = data
        elif kind in ("Video", "Audio", "Image"):
            fmt = data.get("format")
            if fmt:
                codecs.append(f"{kind.lower()}: {fmt}")
            if kind in ("Video", "Image") and width is None:
                width, height = data.get("width"), data.get("height")
                frame_rate = data.get("frame_rate")
                encoder = data.get("writing_library") or data.get("encoded_library_name")
    if not general and not codecs:
        return None
    tags = []
    for key, value in general.items():
        if key in _BORING or key.startswith("other_") or value in (None, ""):
            continue
        tags.append((key, str(value)[:_MAX_TAG_LEN]))
        if len(tags) >= _MAX_TAGS:
            break
    duration = general.get("duration")
    return ContainerFacts(
        container=_s(general.get("format")),
        codecs=tuple(codecs),
        duration_s=float(duration) / 1000 if isinstance(duration, int | float) else None,
        width=width if isinstance(width, int) else None,
        height=height if isinstance(height, int) else None,
        frame_rate=_s(frame_rate),
        writing_application=_s(general.get("writing_application")),
        encoder=_s(encoder),
        encoded_date=_s(general.get("encoded_date")),
        tagged_date=_s(general.get("tagged_date")),
        title=_s(general.get("title")),
        comment=_s(general.get("comment")),
        tags=tuple(tags),
    )


def _s(v: object) -> str | None:
    return str(v)[:_MAX_TAG_LEN] if v not in (None, "") else None


def find_traces(
    path: str | os.PathLike[str], mime: str | None, xmp_facts: xmp.XmpFacts | None
) -> tuple[str, ...]:
    """Evidence in the file that C2PA credentials were once there."""
    traces: list[str] = []
    if xmp_facts is not None and xmp_facts.provenance:
        traces.append(
            f"XMP dcterms:provenance still points to a C2PA manifest ({xmp_facts.provenance[:120]})"
        )
    try:
        with open(path, "rb") as f:
            head = f.read(_SCAN_LIMIT)
    except OSError:
        return tuple(traces)
    if C2PA_BMFF_UUID in head:
        traces.append("a C2PA box (uuid D8FEC3D6-...) is present but holds no readable manifest")
    if b"jumdc2pa" in head or b"c2pa.claim" in head:
        traces.append(
            "C2PA manifest-store bytes (JUMBF 'c2pa') are present but no manifest could be read"
        )
    return tuple(traces)


def _is_genai(ai: AIGeneration) -> bool:
    return ai in (AIGeneration.FULLY, AIGeneration.PARTLY)


def inspect(
    report: Report,
    path: str | os.PathLike[str] | None = None,
    *,
    table_lies: tuple[str, ...] | None = None,
) -> Report:
    """Add container facts, the XMP label, traces and inconsistencies to a report.

    ``table_lies``: what :func:`media.check_structure` already found (the verifier
    walks the boxes once); None walks them here."""
    p = Path(path if path is not None else report.path)
    if report.verdict is Verdict.ERROR or not p.is_file():
        return report
    facts = container_facts(p, table_lies=table_lies)
    xmp_facts = xmp.read(p, report.format)
    xmp_dst = xmp_facts.digital_source_type if xmp_facts else None
    xmp_ai = labels.classify_source_type(xmp_dst, inception=True) if xmp_dst else None
    traces = find_traces(p, report.format, xmp_facts) if report.verdict is Verdict.UNSIGNED else ()
    notes: list[str] = []
    cred_ai = report.ai_generated
    has_credentials = report.manifest is not None
    if xmp_ai is not None and _is_genai(xmp_ai) and not has_credentials:
        notes.append(
            f"the XMP metadata says AI-generated ({xmp_ai.value}) but the file "
            "carries no Content Credentials"
        )
    if has_credentials and xmp_ai is not None and xmp_ai is not AIGeneration.UNKNOWN:
        if cred_ai is AIGeneration.NO and _is_genai(xmp_ai):
            notes.append(
                f"the credentials say not AI-generated but the XMP metadata says {xmp_ai.value}"
            )
        elif _is_genai(cred_ai) and xmp_ai is AIGeneration.NO:
            notes.append(
                f"the credentials say AI-generated ({cred_ai.value}) but the XMP "
                "metadata says it is not"
            )
    if report.manifest is not None and report.manifest.format and report.format:
        declared = report.manifest.format.lower()
        if declared != report.format and not _same_family(declared, report.format):
            notes.append(f"the manifest declares format {declared} but the file is {report.format}")
    if (
        report.manifest is not None
        and facts is not None
        and facts.title
        and report.manifest.title
        and facts.title != report.manifest.title
    ):
        notes.append(
            f"the manifest's title {report.manifest.title!r} differs from the "
            f"container's title {facts.title!r}"
        )
    # No guess about who changed a tampered file: the container's last writer is shown
    # in the facts, but the writer at signing time is not recorded anywhere, and an
    # untouched original has the same writer (a "re-encoded by" note was wrong there).
    return dataclasses.replace(
        report,
        container=facts,
        xmp_digital_source_type=xmp_dst,
        traces=traces,
        stripped=bool(traces),
        inconsistencies=tuple(notes),
    )


def _same_family(a: str, b: str) -> bool:
    families = [
        {"video/mp4", "audio/mp4", "application/mp4", "video/quicktime"},
        {"image/heic", "image/heif"},
        {"audio/wav", "audio/wave", "audio/x-wav", "audio/vnd.wave"},
    ]
    return any(a in f and b in f for f in families)
