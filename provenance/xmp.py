"""IPTC XMP: the AI label as ``Iptc4xmpExt:DigitalSourceType`` for metadata-only readers.

Writing happens before signing, on a copy, so the content hash covers the packet:

* MP4/MOV and other BMFF: a top-level ``uuid`` box BE7ACFCB-97A9-42E8-9C71-999491E3AFAC
  appended at the end of the file (no chunk offset moves); an older XMP box is turned
  into a ``free`` box of the same size;
* JPEG: an APP1 ``http://ns.adobe.com/xap/1.0/`` segment after the SOI/APP0 headers,
  replacing an older one;
* PNG: an ``iTXt`` chunk ``XML:com.adobe.xmp`` after IHDR.

Reading looks in the same places and parses the packet with defusedxml (no entity
expansion, no external references). Walks over boxes and segments are bounded by the
file size and never trust a declared length past the end of the data.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from xml.etree.ElementTree import Element

from .errors import InputError
from .media import XmpCarrier, bmff_boxes, format_of

__all__ = [
    "XMP_UUID",
    "XmpFacts",
    "EditedView",
    "bmff_edits",
    "build_packet",
    "embed",
    "read",
    "parse_packet",
]

XMP_UUID = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")
_JPEG_XMP_ID = b"http://ns.adobe.com/xap/1.0/\x00"
_NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "dcterms": "http://purl.org/dc/terms/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
}
_MAX_XMP = 4 * 1024 * 1024


def _xml_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def build_packet(digital_source_type: str) -> bytes:
    """A minimal XMP packet declaring the IPTC digital source type."""
    dst = _xml_escape(digital_source_type)
    xml = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="provcheck">\n'
        f' <rdf:RDF xmlns:rdf="{_NS["rdf"]}">\n'
        f'  <rdf:Description rdf:about="" xmlns:Iptc4xmpExt="{_NS["Iptc4xmpExt"]}"\n'
        f'    Iptc4xmpExt:DigitalSourceType="{dst}"/>\n'
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )
    return xml.encode("utf-8")


# ---------------------------------------------------------------------------
# container walks (bounded)


def _jpeg_segments(data: bytes) -> list[tuple[int, int, int]]:
    """Header segments as (offset, marker, total length incl. marker), up to SOS."""
    segs = []
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if length < 2 or pos + 2 + length > len(data):
            break
        segs.append((pos, marker, length + 2))
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        pos += 2 + length
    return segs


def _png_chunks(data: bytes) -> list[tuple[int, bytes, int]]:
    """Chunks as (offset, type, total length)."""
    chunks = []
    pos = 8
    while pos + 12 <= len(data):
        length = struct.unpack(">I", data[pos : pos + 4])[0]
        kind = data[pos + 4 : pos + 8]
        if pos + 12 + length > len(data):
            break
        chunks.append((pos, kind, 12 + length))
        pos += 12 + length
        if kind == b"IEND":
            break
    return chunks


# ---------------------------------------------------------------------------
# writing


def embed(source: Path, dest: Path, mime: str, packet: bytes) -> bool:
    """Copy ``source`` to ``dest`` with the XMP packet embedded.

    Returns False (and copies unchanged) for formats we do not write XMP into.
    """
    row = format_of(mime)
    carrier = row.xmp if row is not None and row.xmp_writable else None
    writer = _WRITERS.get(carrier) if carrier is not None else None
    if writer is None:
        shutil.copyfile(source, dest)
        return False
    writer(source, dest, packet)
    return True


def bmff_edits(source: Path, packet: bytes) -> tuple[dict[int, bytes], bytes]:
    """How to label a BMFF file without touching a byte of its media: older XMP boxes
    become ``free`` boxes of the same size (patches by offset) and a new XMP box is
    appended (the suffix). No chunk offset anywhere moves."""
    size = source.stat().st_size
    patches: dict[int, bytes] = {}
    with open(source, "rb") as f:
        for pos, _box_size, kind, header in bmff_boxes(f, size):
            if kind == b"uuid":
                f.seek(pos + header)
                if f.read(16) == XMP_UUID:
                    patches[pos + 4] = b"free"
    suffix = struct.pack(">I4s", 8 + 16 + len(packet), b"uuid") + XMP_UUID + packet
    return patches, suffix


def _embed_bmff(source: Path, dest: Path, packet: bytes) -> None:
    patches, suffix = bmff_edits(source, packet)
    shutil.copyfile(source, dest)
    with open(dest, "r+b") as f:
        for offset, data in patches.items():
            f.seek(offset)
            f.write(data)
        f.seek(0, os.SEEK_END)
        f.write(suffix)


class EditedView(io.RawIOBase):
    """A read-only, seekable view of a file with byte patches and an appended suffix:
    what ``_embed_bmff`` would write, without copying the file (the signer reads it once)."""

    def __init__(self, path: Path, patches: dict[int, bytes], suffix: bytes) -> None:
        self._f = open(path, "rb", buffering=0)
        self._size = os.fstat(self._f.fileno()).st_size
        self._patches = sorted(patches.items())
        self._suffix = suffix
        self._pos = 0
        self.name = str(path)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        end = self._size + len(self._suffix)
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: end}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        want = len(view)
        pos = self._pos
        got = 0
        if pos < self._size and want:
            self._f.seek(pos)
            got = self._f.readinto(view[: min(want, self._size - pos)]) or 0
            for off, data in self._patches:  # overlay the few patched bytes
                lo, hi = max(off, pos), min(off + len(data), pos + got)
                if lo < hi:
                    view[lo - pos : hi - pos] = data[lo - off : hi - off]
        if got == min(want, max(0, self._size - pos)) and want > got:
            s_from = max(0, pos + got - self._size)
            chunk = self._suffix[s_from : s_from + want - got]
            view[got : got + len(chunk)] = chunk
            got += len(chunk)
        self._pos = pos + got
        return got

    def close(self) -> None:
        if not self.closed:
            self._f.close()
        super().close()


def _embed_jpeg(source: Path, dest: Path, packet: bytes) -> None:
    data = source.read_bytes()
    if not data.startswith(b"\xff\xd8"):
        raise InputError(f"{source}: not a JPEG")
    payload = _JPEG_XMP_ID + packet
    if len(payload) + 2 > 0xFFFF:
        raise InputError("XMP packet too large for one JPEG segment")
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    keep = bytearray(data[:2])
    insert_at = None
    pos = 2
    for seg_pos, marker, length in _jpeg_segments(data):
        body = data[seg_pos + 4 : seg_pos + length]
        if marker == 0xE1 and body.startswith(_JPEG_XMP_ID):
            pos = seg_pos + length  # drop the old XMP segment
            continue
        if insert_at is None and marker not in (0xE0,):
            insert_at = len(keep)
        keep += data[seg_pos : seg_pos + length]
        pos = seg_pos + length
    if insert_at is None:
        insert_at = len(keep)
    keep[insert_at:insert_at] = segment
    keep += data[pos:]
    dest.write_bytes(bytes(keep))


def _embed_png(source: Path, dest: Path, packet: bytes) -> None:
    data = source.read_bytes()
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise InputError(f"{source}: not a PNG")
    body = b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + packet
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body
    chunk += struct.pack(">I", zlib.crc32(b"iTXt" + body) & 0xFFFFFFFF)
    out = bytearray(data[:8])
    inserted = False
    last = 8
    for pos, kind, length in _png_chunks(data):
        if kind == b"iTXt" and data[pos + 8 : pos + 8 + 18] == b"XML:com.adobe.xmp\x00":
            last = pos + length
            continue
        out += data[pos : pos + length]
        last = pos + length
        if kind == b"IHDR" and not inserted:
            out += chunk
            inserted = True
    out += data[last:]
    dest.write_bytes(bytes(out))


# The carriers provcheck writes (media.FORMATS says which formats use which).
_WRITERS: dict[XmpCarrier, Callable[[Path, Path, bytes], None]] = {
    XmpCarrier.BMFF_UUID: _embed_bmff,
    XmpCarrier.JPEG_APP1: _embed_jpeg,
    XmpCarrier.PNG_ITXT: _embed_png,
}


# ---------------------------------------------------------------------------
# reading


@dataclass(frozen=True)
class XmpFacts:
    """What an XMP packet says that matters for provenance."""

    digital_source_type: str | None
    provenance: str | None  # dcterms:provenance: a C2PA manifest reference left behind
    packet_size: int


def _attr_or_child(desc: Element, ns: str, name: str) -> str | None:
    key = f"{{{_NS[ns]}}}{name}"
    value = desc.get(key)
    if value:
        return value.strip()
    child = desc.find(key)
    if child is not None:
        res = child.get(f"{{{_NS['rdf']}}}resource")
        if res:
            return res.strip()
        if child.text and child.text.strip():
            return child.text.strip()
    return None


def parse_packet(packet: bytes) -> XmpFacts | None:
    """Parse an XMP packet with a hardened parser; None when it is not well-formed."""
    from defusedxml import ElementTree as SafeET

    text = packet.strip(b"\x00 \r\n\t")
    start = text.find(b"<x:xmpmeta")
    if start < 0:
        start = text.find(b"<rdf:RDF")
    end_tag = b"</x:xmpmeta>" if text.find(b"</x:xmpmeta>") >= 0 else b"</rdf:RDF>"
    end = text.rfind(end_tag)
    if start < 0 or end < 0:
        return None
    try:
        root = SafeET.fromstring(text[start : end + len(end_tag)])
    except Exception:  # defusedxml raises ParseError and its own DTD/entity errors
        return None
    dst = prov = None
    for desc in root.iter(f"{{{_NS['rdf']}}}Description"):
        dst = dst or _attr_or_child(desc, "Iptc4xmpExt", "DigitalSourceType")
        prov = prov or _attr_or_child(desc, "dcterms", "provenance")
    return XmpFacts(dst, prov, len(packet))


def read(path: str | os.PathLike[str], mime: str | None) -> XmpFacts | None:
    """The XMP facts of a file, or None when it has no (readable) XMP packet."""
    p = Path(path)
    try:
        size = p.stat().st_size
        with open(p, "rb") as f:
            packet = _find_packet(f, size, mime)
    except OSError:
        return None
    return parse_packet(packet) if packet else None


def _itxt_text(body: bytes) -> bytes | None:
    """The text of an uncompressed iTXt chunk: keyword, flag, method, language, translation."""
    try:
        rest = body[body.index(b"\x00") + 1 :]
        if rest[:1] != b"\x00":  # compressed XMP: rare, and not worth a decompressor here
            return None
        rest = rest[2:]
        rest = rest[rest.index(b"\x00") + 1 :]
        return rest[rest.index(b"\x00") + 1 :]
    except ValueError:
        return None


def _find_packet(f: BinaryIO, size: int, mime: str | None) -> bytes | None:
    row = format_of(mime)
    carrier = row.xmp if row is not None else None
    if carrier is XmpCarrier.BMFF_UUID:
        for pos, box_size, kind, header in bmff_boxes(f, size):
            if kind == b"uuid" and box_size - header - 16 <= _MAX_XMP:
                f.seek(pos + header)
                if f.read(16) == XMP_UUID:
                    return f.read(box_size - header - 16)
        return None
    head = f.read(min(size, 16 * 1024 * 1024))
    if carrier is XmpCarrier.JPEG_APP1:
        for seg_pos, marker, length in _jpeg_segments(head):
            body = head[seg_pos + 4 : seg_pos + length]
            if marker == 0xE1 and body.startswith(_JPEG_XMP_ID):
                return body[len(_JPEG_XMP_ID) :]
        return None
    if carrier is XmpCarrier.PNG_ITXT:
        for pos, kind, length in _png_chunks(head):
            if kind == b"iTXt" and head[pos + 8 : pos + 26] == b"XML:com.adobe.xmp\x00":
                return _itxt_text(head[pos + 8 : pos + length - 4])
        return None
    if carrier is XmpCarrier.RIFF_CHUNK:
        pos = 12
        while pos + 8 <= len(head):
            kind = head[pos : pos + 4]
            length = struct.unpack("<I", head[pos + 4 : pos + 8])[0]
            if kind == b"XMP ":
                return head[pos + 8 : pos + 8 + length]
            pos += 8 + length + (length & 1)
        return None
    return None
