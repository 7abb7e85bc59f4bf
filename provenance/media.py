"""What is this file? Format sniffing from bytes, and a bounded walk over BMFF boxes.

The extension is never trusted: a ``.mp4`` renamed ``.dat`` is still MP4. The
sniffer looks only at a file's first bytes (fixed magic numbers and the BMFF
``ftyp`` brand); the structure itself is left to the C2PA library and
MediaInfo.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import BinaryIO

from .errors import InputError

__all__ = [
    "C2PA_BMFF_UUID",
    "MediaType",
    "MAX_TOP_LEVEL_BOXES",
    "bmff_boxes",
    "check_structure",
    "sniff",
    "sniff_path",
    "sniff_stream",
]

HEADER_SIZE = 64
# The ISO BMFF `uuid` box type that holds a C2PA manifest store.
C2PA_BMFF_UUID = bytes.fromhex("D8FEC3D61B0E483C92975828877EC481")


@dataclass(frozen=True)
class MediaType:
    """A detected format: its MIME type and a short human name."""

    mime: str
    name: str


# ISO BMFF major/compatible brands -> (mime, name). Order matters only for the major brand.
_BMFF_BRANDS: dict[bytes, MediaType] = {
    b"qt  ": MediaType("video/quicktime", "QuickTime MOV"),
    b"heic": MediaType("image/heic", "HEIC"),
    b"heix": MediaType("image/heic", "HEIC"),
    b"heim": MediaType("image/heic", "HEIC"),
    b"heis": MediaType("image/heic", "HEIC"),
    b"hevc": MediaType("image/heic", "HEIC"),
    b"mif1": MediaType("image/heif", "HEIF"),
    b"msf1": MediaType("image/heif", "HEIF"),
    b"avif": MediaType("image/avif", "AVIF"),
    b"avis": MediaType("image/avif", "AVIF"),
    b"M4A ": MediaType("audio/mp4", "M4A audio"),
    b"M4B ": MediaType("audio/mp4", "M4A audio"),
    b"M4V ": MediaType("video/mp4", "MP4 video"),
}
_MP4 = MediaType("video/mp4", "MP4 video")


def _sniff_bmff(header: bytes) -> MediaType | None:
    if len(header) < 12 or header[4:8] not in (b"ftyp", b"styp"):
        return None
    major = header[8:12]
    if major in _BMFF_BRANDS:
        return _BMFF_BRANDS[major]
    return _MP4


def sniff(header: bytes) -> MediaType | None:
    """Detect a media format from the first bytes of a file, or None if unknown."""
    h = header
    if h.startswith(b"\xff\xd8\xff"):
        return MediaType("image/jpeg", "JPEG")
    if h.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaType("image/png", "PNG")
    if h.startswith(b"GIF87a") or h.startswith(b"GIF89a"):
        return MediaType("image/gif", "GIF")
    if h[:4] == b"RIFF" and len(h) >= 12:
        kind = h[8:12]
        if kind == b"WEBP":
            return MediaType("image/webp", "WebP")
        if kind == b"WAVE":
            return MediaType("audio/wav", "WAV audio")
        if kind == b"AVI ":
            return MediaType("video/avi", "AVI video")
    bmff = _sniff_bmff(h)
    if bmff is not None:
        return bmff
    if h[:4] in (b"II*\x00", b"MM\x00*"):
        return MediaType("image/tiff", "TIFF")
    if h.startswith(b"%PDF-"):
        return MediaType("application/pdf", "PDF")
    if h.startswith(b"fLaC"):
        return MediaType("audio/flac", "FLAC audio")
    if h.startswith(b"ID3") or (
        len(h) >= 2 and h[0] == 0xFF and (h[1] & 0xE0) == 0xE0 and (h[1] & 0x06) != 0
    ):
        return MediaType("audio/mpeg", "MP3 audio")
    if h[:4] == b"FORM" and h[8:12] in (b"AIFF", b"AIFC"):
        return MediaType("audio/aiff", "AIFF audio")
    stripped = h.lstrip()
    if stripped.startswith(b"<svg") or (stripped.startswith(b"<?xml") and b"<svg" in h):
        return MediaType("image/svg+xml", "SVG")
    if h.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: Matroska or WebM (DocType decides)
        if b"webm" in h[:64]:
            return MediaType("video/webm", "WebM video")
        return MediaType("video/x-matroska", "Matroska video")
    # A DASH media segment (.m4s) starts with a moof/sidx/styp box, not ftyp.
    if len(h) >= 8 and h[4:8] in (b"moof", b"sidx", b"emsg", b"prft"):
        return MediaType("video/mp4", "MP4 media segment")
    return None


def sniff_stream(stream: BinaryIO) -> MediaType | None:
    """Sniff a seekable binary stream; its position is restored."""
    pos = stream.tell()
    try:
        return sniff(stream.read(HEADER_SIZE))
    finally:
        stream.seek(pos)


def sniff_path(path: str | os.PathLike[str]) -> MediaType | None:
    """Sniff a file on disk; raises InputError if it cannot be opened."""
    try:
        with open(path, "rb") as f:
            return sniff(f.read(HEADER_SIZE))
    except OSError as exc:
        raise InputError(f"{os.fspath(path)}: cannot read: {exc.strerror or exc}") from exc


def bmff_boxes(f: BinaryIO, size: int) -> list[tuple[int, int, bytes, int]]:
    """Top-level boxes as (offset, total size, type, header size)."""
    boxes = []
    pos = 0
    while pos + 8 <= size:
        f.seek(pos)
        head = f.read(16)
        if len(head) < 8:
            break
        box_size, kind = struct.unpack(">I4s", head[:8])
        header = 8
        if box_size == 1:
            if len(head) < 16:
                break
            box_size = struct.unpack(">Q", head[8:16])[0]
            header = 16
        elif box_size == 0:
            box_size = size - pos
        if box_size < header or pos + box_size > size:
            break
        boxes.append((pos, box_size, kind, header))
        pos += box_size
    return boxes


# The native C2PA reader is quadratic in the number of top-level boxes (30k boxes ~ 11 s,
# 100k ~ 2 min). Real media has a handful (ftyp, moov, mdat, a few uuid/free, and one
# moof+mdat pair per fragment): a ceiling far above any real file refuses the attack cheaply.
MAX_TOP_LEVEL_BOXES = 20_000


def check_structure(path: str | os.PathLike[str], media_type: MediaType | None = None) -> None:
    """Refuse, before any native parser sees it, a file whose structure is absurd.

    Raises InputError naming the file and the problem. Cheap: reads box headers only.
    """
    name = os.fspath(path)
    mt = media_type if media_type is not None else sniff_path(path)
    if mt is None or not mt.mime.startswith(
        ("video/mp4", "video/quicktime", "audio/mp4", "image/hei", "image/avif")
    ):
        return
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            count = 0
            pos = 0
            while pos + 8 <= size:
                f.seek(pos)
                head = f.read(16)
                if len(head) < 8:
                    break
                box_size, _ = struct.unpack(">I4s", head[:8])
                if box_size == 1 and len(head) >= 16:
                    box_size = struct.unpack(">Q", head[8:16])[0]
                elif box_size == 0:
                    box_size = size - pos
                if box_size < 8:
                    break
                count += 1
                if count > MAX_TOP_LEVEL_BOXES:
                    raise InputError(
                        f"{name}: more than {MAX_TOP_LEVEL_BOXES:,} top-level boxes; "
                        "refused as a denial-of-service shape (real media has a few dozen)"
                    )
                pos += box_size
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from exc
