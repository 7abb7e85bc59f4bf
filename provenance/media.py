"""What is this file? Format sniffing from bytes, and a bounded walk over BMFF boxes.

The extension is never trusted: a ``.mp4`` renamed ``.dat`` is still MP4. The
sniffer looks only at a file's first bytes (fixed magic numbers and the BMFF
``ftyp`` brand); the structure itself is left to the C2PA library and
MediaInfo.
"""

from __future__ import annotations

import enum
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import BinaryIO

from .errors import InputError

__all__ = [
    "C2PA_BMFF_UUID",
    "FORMATS",
    "Family",
    "MediaFormat",
    "MediaType",
    "MAX_BOX_DEPTH",
    "MAX_NESTED_BOXES",
    "MAX_TOP_LEVEL_BOXES",
    "TIMED_BMFF_MIMES",
    "XmpCarrier",
    "bmff_boxes",
    "check_structure",
    "format_of",
    "mimes",
    "sniff",
    "sniff_path",
    "sniff_stream",
]

HEADER_SIZE = 64
# The ISO BMFF `uuid` box type that holds a C2PA manifest store.
C2PA_BMFF_UUID = bytes.fromhex("D8FEC3D61B0E483C92975828877EC481")


class Family(enum.Enum):
    """The container structure a format shares with its relatives (one parser each)."""

    BMFF = "bmff"  # ISO base media file format: MP4, MOV, M4A, HEIF/HEIC, AVIF
    JPEG = "jpeg"
    PNG = "png"
    RIFF = "riff"  # WebP, WAV, AVI
    GIF = "gif"
    TIFF = "tiff"
    PDF = "pdf"
    MP3 = "mp3"
    FLAC = "flac"
    AIFF = "aiff"
    SVG = "svg"
    EBML = "ebml"  # Matroska, WebM


class XmpCarrier(enum.Enum):
    """Where a format carries an XMP packet."""

    BMFF_UUID = "bmff-uuid"  # a top-level uuid box BE7ACFCB-...
    JPEG_APP1 = "jpeg-app1"  # an APP1 segment with the Adobe XMP namespace header
    PNG_ITXT = "png-itxt"  # an iTXt chunk keyed XML:com.adobe.xmp
    RIFF_CHUNK = "riff-chunk"  # a RIFF chunk named 'XMP ' (WebP)


@dataclass(frozen=True)
class MediaFormat:
    """What provcheck knows about one MIME type: its family and what it can do with it.

    ``c2pa``: the C2PA library can embed a manifest in it. ``xmp``: where its XMP packet
    lives (read); ``xmp_writable``: provcheck also writes the AI label there when
    signing. ``timed``: audio/video whose BMFF hash is a Merkle tree of chunks.
    ``video``: frames can be decoded for a perceptual fingerprint (soft binding).
    """

    mime: str
    family: Family
    c2pa: bool = False
    xmp: XmpCarrier | None = None
    xmp_writable: bool = False
    timed: bool = False
    video: bool = False


def _table(*formats: MediaFormat) -> Mapping[str, MediaFormat]:
    return MappingProxyType({f.mime: f for f in formats})


def _bmff(mime: str, *, timed: bool = False, video: bool = False) -> MediaFormat:
    return MediaFormat(
        mime,
        Family.BMFF,
        c2pa=True,
        xmp=XmpCarrier.BMFF_UUID,
        xmp_writable=True,
        timed=timed,
        video=video,
    )


_R = Family.RIFF
# The one table of media types. Adding a format is one row here (and its magic in `sniff`).
FORMATS: Mapping[str, MediaFormat] = _table(
    _bmff("video/mp4", timed=True, video=True),
    _bmff("video/quicktime", timed=True, video=True),
    _bmff("audio/mp4", timed=True),
    _bmff("image/heic"),
    _bmff("image/heif"),
    _bmff("image/avif"),
    MediaFormat("image/jpeg", Family.JPEG, c2pa=True, xmp=XmpCarrier.JPEG_APP1, xmp_writable=True),
    MediaFormat("image/png", Family.PNG, c2pa=True, xmp=XmpCarrier.PNG_ITXT, xmp_writable=True),
    MediaFormat("image/webp", _R, c2pa=True, xmp=XmpCarrier.RIFF_CHUNK),
    MediaFormat("audio/wav", _R, c2pa=True),
    MediaFormat("video/avi", _R, c2pa=True, video=True),
    MediaFormat("image/gif", Family.GIF, c2pa=True),
    MediaFormat("image/tiff", Family.TIFF, c2pa=True),
    MediaFormat("audio/mpeg", Family.MP3, c2pa=True),
    MediaFormat("image/svg+xml", Family.SVG, c2pa=True),
    MediaFormat("application/pdf", Family.PDF, c2pa=True),
    MediaFormat("audio/flac", Family.FLAC, c2pa=True),
    MediaFormat("audio/aiff", Family.AIFF),
    MediaFormat("video/webm", Family.EBML, video=True),
    MediaFormat("video/x-matroska", Family.EBML, video=True),
)


def format_of(mime: str | None) -> MediaFormat | None:
    """The table row of a MIME type, or None for a type provcheck does not know."""
    return FORMATS.get(mime) if mime is not None else None


def mimes(
    *,
    family: Family | None = None,
    c2pa: bool | None = None,
    xmp_writable: bool | None = None,
    timed: bool | None = None,
    video: bool | None = None,
) -> frozenset[str]:
    """The MIME types whose row matches every given capability."""
    wanted = {
        "family": family,
        "c2pa": c2pa,
        "xmp_writable": xmp_writable,
        "timed": timed,
        "video": video,
    }
    return frozenset(
        f.mime
        for f in FORMATS.values()
        if all(v is None or getattr(f, k) == v for k, v in wanted.items())
    )


# Audio/video BMFF: the C2PA library hashes them as a Merkle tree of chunks.
TIMED_BMFF_MIMES = mimes(family=Family.BMFF, timed=True)


@dataclass(frozen=True)
class MediaType:
    """A detected format: its MIME type and a short human name."""

    mime: str
    name: str

    @property
    def format(self) -> MediaFormat | None:
        """Its row of the media-type table (family and capabilities)."""
        return FORMATS.get(self.mime)

    @property
    def family(self) -> Family | None:
        row = FORMATS.get(self.mime)
        return row.family if row is not None else None


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


# The native C2PA reader is quadratic in the number of boxes (30k top-level boxes ~ 11 s,
# 100k ~ 2 min; 16k empty boxes inside moov: 7 s to verify, 11 s to sign). Real media has a
# handful at the top (ftyp, moov, mdat, a few uuid/free, one moof+mdat pair per fragment)
# and at most a few thousand inside one box: ceilings far above any real file refuse the
# attack cheaply. Nesting deeper than a real file's (~8 levels) is refused as well: the
# native parser recurses.
MAX_TOP_LEVEL_BOXES = 20_000
MAX_NESTED_BOXES = 10_000  # inside any one top-level box, all levels together
MAX_BOX_DEPTH = 32
# Boxes made only of boxes (ISO/IEC 14496-12 and 23008-12), and the header bytes
# before their first child (`meta` is a full box: 4 bytes of version and flags).
_CONTAINERS: dict[bytes, int] = {
    **dict.fromkeys(
        [
            b"moov",
            b"trak",
            b"edts",
            b"mdia",
            b"minf",
            b"dinf",
            b"stbl",
            b"mvex",
            b"moof",
            b"traf",
            b"mfra",
            b"udta",
            b"tref",
            b"sinf",
            b"schi",
            b"iprp",
            b"ipco",
            b"grpl",
            b"strk",
            b"strd",
        ],
        0,
    ),
    b"meta": 4,
}


# Sample tables: bytes per entry of the tables whose entry count precedes the entries
# (after the 4 bytes of version and flags). A count the box cannot hold is a lie that
# makes some parsers allocate for it (MediaInfo: gigabytes for one flipped byte).
_TABLES: dict[bytes, int] = {
    b"stts": 8,
    b"ctts": 8,
    b"stsc": 12,
    b"stco": 4,
    b"co64": 8,
    b"stss": 4,
    b"stps": 4,
    b"elst": 12,  # 20 in version 1
}


class _Walk:
    def __init__(self, f: BinaryIO, name: str) -> None:
        self.f, self.name, self.nested = f, name, 0
        self.lies: list[str] = []

    def check_table(self, kind: bytes, payload: int, end: int) -> None:
        """Record a sample table whose declared entry count its box cannot hold."""
        self.f.seek(payload)
        head = self.f.read(12)
        if len(head) < 8:
            return
        version = head[0]
        if kind == b"stsz":  # sample_size, then sample_count; entries only when size is 0
            if len(head) < 12 or struct.unpack(">I", head[4:8])[0] != 0:
                return
            count, entries_at, per = struct.unpack(">I", head[8:12])[0], payload + 12, 4
        else:
            count, entries_at = struct.unpack(">I", head[4:8])[0], payload + 8
            per = 20 if kind == b"elst" and version == 1 else _TABLES[kind]
        if count * per > end - entries_at:
            self.lies.append(
                f"{kind.decode('latin-1')} declares {count:,} entries, its box holds "
                f"{max(0, end - entries_at) // per:,}"
            )

    def box_at(self, pos: int, end: int) -> tuple[int, bytes, int] | None:
        """(total size, type, header size) of the box at ``pos``, or None past the data."""
        self.f.seek(pos)
        head = self.f.read(16)
        if len(head) < 8:
            return None
        size, kind = struct.unpack(">I4s", head[:8])
        header = 8
        if size == 1:
            if len(head) < 16:
                return None
            size, header = struct.unpack(">Q", head[8:16])[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return None
        return size, kind, header

    def children(self, start: int, end: int, depth: int) -> None:
        # Iterative over siblings, recursive over depth (bounded by MAX_BOX_DEPTH).
        if depth > MAX_BOX_DEPTH:
            raise InputError(
                f"{self.name}: boxes nested more than {MAX_BOX_DEPTH} levels deep; refused "
                "as a denial-of-service shape"
            )
        pos = start
        while pos + 8 <= end:
            found = self.box_at(pos, end)
            if found is None:
                return
            size, kind, header = found
            self.nested += 1
            if self.nested > MAX_NESTED_BOXES:
                raise InputError(
                    f"{self.name}: more than {MAX_NESTED_BOXES:,} boxes inside one top-level "
                    "box; refused as a denial-of-service shape (real media has a few hundred)"
                )
            skip = _CONTAINERS.get(kind)
            if skip is not None:
                self.children(pos + header + skip, pos + size, depth + 1)
            elif kind in _TABLES or kind == b"stsz":
                self.check_table(kind, pos + header, pos + size)
            pos += size


def implausible_tables(path: str | os.PathLike[str]) -> tuple[str, ...]:
    """BMFF sample tables whose declared entry counts their boxes cannot hold, in words.

    Such a file is not refused (its credentials can still be judged), but parsers that
    trust the counts (MediaInfo) are not run on it. The same walk as
    :func:`check_structure`, which returns these too; an unreadable or absurd file gives
    () here (check_structure speaks for those).
    """
    try:
        return check_structure(path)
    except InputError:
        return ()


def check_structure(
    path: str | os.PathLike[str], media_type: MediaType | None = None
) -> tuple[str, ...]:
    """Refuse, before any native parser sees it, a file whose structure is absurd.

    BMFF only: more than ``MAX_TOP_LEVEL_BOXES`` top-level boxes, more than
    ``MAX_NESTED_BOXES`` inside one of them, or nesting deeper than ``MAX_BOX_DEPTH``.
    Raises InputError naming the file and the problem. Cheap: reads box headers and
    sample-table heads only. Returns the sample tables that lie about their size (see
    :func:`implausible_tables`), found on the same walk.
    """
    name = os.fspath(path)
    mt = media_type if media_type is not None else sniff_path(path)
    if mt is None or mt.family is not Family.BMFF:
        return ()
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            walk = _Walk(f, name)
            count = 0
            pos = 0
            while pos + 8 <= size:
                found = walk.box_at(pos, size)
                if found is None:
                    break
                box_size, kind, header = found
                count += 1
                if count > MAX_TOP_LEVEL_BOXES:
                    raise InputError(
                        f"{name}: more than {MAX_TOP_LEVEL_BOXES:,} top-level boxes; "
                        "refused as a denial-of-service shape (real media has a few dozen)"
                    )
                skip = _CONTAINERS.get(kind)
                if skip is not None:
                    walk.nested = 0
                    walk.children(pos + header + skip, pos + box_size, 1)
                pos += box_size
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    return tuple(walk.lies[:5])
