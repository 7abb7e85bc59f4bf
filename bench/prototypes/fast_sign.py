#!/usr/bin/env python3
"""PROTOTYPE (not for provenance/): sign an MP4 doing the heavy byte work ourselves.

c2pa-python 0.38's ``Builder.sign`` (c2pa-rs 0.91) copies the asset through Python
read/write callbacks in 8 KiB pieces, into a native temp file, hashes it, and copies
it again to the destination (~4 GiB of I/O for a 1 GiB file). The native library also
exports the *embeddable* workflow, which c2pa-python 0.38 does not wrap; we call it
with ctypes on the same ``libc2pa_c.so``:

    c2pa_builder_placeholder          -> composed C2PA ``uuid`` box of the final size
    c2pa_builder_set_fixed_size_merkle / c2pa_builder_hash_mdat_bytes (optional)
    c2pa_builder_update_hash_from_stream  -> BmffHash over the finished file
    c2pa_builder_sign_embeddable      -> signed box, same size as the placeholder

and write the file ourselves: the bulk (mdat) is copied once in the kernel with
os.copy_file_range; only small boxes pass through Python.

Modes (``--mode``):

front       the C2PA box goes right after ``ftyp`` (where c2pa-rs puts it); every
            ``stco``/``co64`` chunk offset in ``moov`` is shifted by the box size. The
            whole-file hash is computed by c2pa (update_hash_from_stream).
end         the C2PA box is appended after the last box (like provcheck's XMP box):
            no offset moves, the copy is one copy_file_range. Whole-file hash by c2pa.
front-merkle  as ``front`` (conformant placement), with the Merkle leaves of
            ``end-merkle``. The placeholder does not reserve room for the leaves, so a
            ``free`` box of slack follows it; after signing, the C2PA box grows into the
            slack and the ``free`` box shrinks by the same amount (``/free`` is one of
            c2pa-rs's default BMFF exclusions), so no offset after it moves.
end-merkle  as ``end``, but the mdat payload is hashed into fixed-size Merkle leaves
            (c2pa_builder_hash_mdat_bytes) while a second thread copies the file in the
            kernel; update_hash_from_stream then hashes only the small non-mdat part.
            Bounded memory when signing *and* when verifying (leaf-by-leaf).

Refuses (so a caller would fall back to ``Builder.sign``): no leading ``ftyp``,
fragmented files (``moof``/``mvex``), an existing C2PA box, top-level ``meta`` (HEIF
``iloc`` offsets), ``saio`` boxes, or an ``stco`` that would overflow 32 bits.

    python bench/prototypes/fast_sign.py SRC DST [--mode front|end|end-merkle]
        [--leaf-kb 1024] [--xmp trainedAlgorithmicMedia] [--verify]
"""

from __future__ import annotations

import argparse
import ctypes
import io
import json
import os
import struct
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import c2pa
from c2pa import c2pa as _c2pa_mod

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
TESTCA = REPO / "fixtures" / "testca"
C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
XMP_UUID = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")
MIME = "video/mp4"

# ---------------------------------------------------------------------------
# ctypes bindings for the embeddable API (present in libc2pa_c 0.91, unwrapped in 0.38)

_lib = _c2pa_mod._lib
_u8pp = ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte))
_lib.c2pa_builder_placeholder.argtypes = [ctypes.c_void_p, ctypes.c_char_p, _u8pp]
_lib.c2pa_builder_placeholder.restype = ctypes.c_int64
_lib.c2pa_builder_sign_embeddable.argtypes = [ctypes.c_void_p, ctypes.c_char_p, _u8pp]
_lib.c2pa_builder_sign_embeddable.restype = ctypes.c_int64
_lib.c2pa_builder_update_hash_from_stream.argtypes = [
    ctypes.c_void_p,
    ctypes.c_char_p,
    ctypes.c_void_p,
]
_lib.c2pa_builder_update_hash_from_stream.restype = ctypes.c_int
_lib.c2pa_builder_set_fixed_size_merkle.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_lib.c2pa_builder_set_fixed_size_merkle.restype = ctypes.c_int
_lib.c2pa_builder_hash_mdat_bytes.argtypes = [
    ctypes.c_void_p,
    ctypes.c_size_t,
    ctypes.c_void_p,
    ctypes.c_size_t,
    ctypes.c_bool,
]
_lib.c2pa_builder_hash_mdat_bytes.restype = ctypes.c_int


class FastSignRefused(Exception):
    """The asset is outside what the fast path handles: use Builder.sign instead."""


def _check(ret: int, what: str) -> int:
    if ret < 0:
        err = _c2pa_mod._read_native_error() or "unknown error"
        raise c2pa.C2paError(f"{what}: {err}")
    return ret


def _handle(builder: c2pa.Builder) -> int:
    h = builder._handle
    return ctypes.cast(h, ctypes.c_void_p).value  # type: ignore[no-any-return]


def _bytes_out(fn: Any, builder: c2pa.Builder, what: str) -> bytes:
    ptr = ctypes.POINTER(ctypes.c_ubyte)()
    n = _check(fn(_handle(builder), MIME.encode(), ctypes.byref(ptr)), what)
    try:
        return ctypes.string_at(ptr, n)
    finally:
        _lib.c2pa_free(ptr)


def placeholder(builder: c2pa.Builder) -> bytes:
    return _bytes_out(_lib.c2pa_builder_placeholder, builder, "placeholder")


def sign_embeddable(builder: c2pa.Builder) -> bytes:
    return _bytes_out(_lib.c2pa_builder_sign_embeddable, builder, "sign_embeddable")


def update_hash_from_stream(builder: c2pa.Builder, f: BinaryIO) -> None:
    with c2pa.Stream(f) as s:
        _check(
            _lib.c2pa_builder_update_hash_from_stream(
                _handle(builder), MIME.encode(), ctypes.cast(s._stream, ctypes.c_void_p)
            ),
            "update_hash_from_stream",
        )


# ---------------------------------------------------------------------------
# BMFF walking


@dataclass
class Box:
    kind: bytes
    offset: int
    size: int
    header: int

    @property
    def end(self) -> int:
        return self.offset + self.size


def walk(f: BinaryIO, start: int, end: int) -> list[Box]:
    boxes = []
    pos = start
    while pos + 8 <= end:
        f.seek(pos)
        head = f.read(16)
        size, kind = struct.unpack(">I4s", head[:8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", head[8:16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise FastSignRefused(f"malformed box {kind!r} at {pos}")
        boxes.append(Box(kind, pos, size, header))
        pos += size
    if pos != end:
        raise FastSignRefused("trailing bytes after the last box")
    return boxes


def _find(buf: bytes, kinds: tuple[bytes, ...]) -> list[tuple[bytes, int, int, int]]:
    """Recursive walk of an in-memory box tree: (kind, offset, size, header) of matches."""
    containers = {
        b"moov",
        b"trak",
        b"mdia",
        b"minf",
        b"stbl",
        b"edts",
        b"udta",
        b"mvex",
        b"dinf",
        b"meta_",
    }
    out = []

    def rec(start: int, end: int) -> None:
        pos = start
        while pos + 8 <= end:
            size, kind = struct.unpack(">I4s", buf[pos : pos + 8])
            header = 8
            if size == 1:
                size = struct.unpack(">Q", buf[pos + 8 : pos + 16])[0]
                header = 16
            elif size == 0:
                size = end - pos
            if size < header or pos + size > end:
                raise FastSignRefused(f"malformed box {kind!r} in moov")
            if kind in kinds:
                out.append((kind, pos, size, header))
            if kind in containers:
                rec(pos + header, pos + size)
            pos += size

    rec(0, len(buf))
    return out


def patch_chunk_offsets(moov: bytes, delta: int) -> bytes:
    """Shift every stco/co64 entry by delta (moov given whole, header included)."""
    buf = bytearray(moov)
    found = _find(bytes(buf), (b"stco", b"co64", b"saio", b"tfhd", b"iloc"))
    for kind, off, _size, header in found:
        if kind in (b"saio", b"tfhd", b"iloc"):
            raise FastSignRefused(f"{kind.decode()} box: absolute offsets we do not patch")
        p = off + header + 4  # version/flags
        (count,) = struct.unpack(">I", buf[p : p + 4])
        p += 4
        if kind == b"stco":
            vals = struct.unpack(f">{count}I", buf[p : p + 4 * count])
            if vals and max(vals) + delta > 0xFFFFFFFF:
                raise FastSignRefused("stco offsets would overflow 32 bits")
            buf[p : p + 4 * count] = struct.pack(f">{count}I", *(v + delta for v in vals))
        else:
            vals = struct.unpack(f">{count}Q", buf[p : p + 8 * count])
            buf[p : p + 8 * count] = struct.pack(f">{count}Q", *(v + delta for v in vals))
    return bytes(buf)


def xmp_box(digital_source_type: str) -> bytes:
    sys.path.insert(0, str(REPO))
    from provenance import xmp  # read-only use of the project's packet builder

    packet = xmp.build_packet(digital_source_type)
    return struct.pack(">I4s", 8 + 16 + len(packet), b"uuid") + XMP_UUID + packet


# ---------------------------------------------------------------------------
# copying


def copy_range(src_fd: int, dst_fd: int, src_off: int, length: int, dst_off: int) -> None:
    """Kernel-side copy (copy_file_range; falls back to pread/pwrite)."""
    done = 0
    try:
        while done < length:
            n = os.copy_file_range(src_fd, dst_fd, length - done, src_off + done, dst_off + done)
            if n == 0:
                raise OSError("copy_file_range: unexpected end of file")
            done += n
    except OSError as exc:
        if exc.errno not in (18, 22, 38, 95):  # EXDEV, EINVAL, ENOSYS, EOPNOTSUPP
            raise
        buf = bytearray(8 << 20)
        while done < length:
            n = os.preadv(src_fd, [memoryview(buf)[: min(len(buf), length - done)]], src_off + done)
            os.pwrite(dst_fd, memoryview(buf)[:n], dst_off + done)
            done += n


def hash_mdat_leaves(builder: c2pa.Builder, src_fd: int, mdats: list[Box], leaf: int) -> None:
    """Feed each mdat's payload to c2pa's Merkle hasher in leaf-aligned chunks."""
    chunk = max(leaf, (8 << 20) // leaf * leaf)
    buf = bytearray(chunk + 8)
    cbuf = (ctypes.c_ubyte * len(buf)).from_buffer(buf)
    h = _handle(builder)
    for mdat_id, box in enumerate(mdats):
        large = box.header == 16
        pos = box.offset + box.header
        left = box.end - pos
        first = True
        while left > 0:
            # c2pa skips the first 8 payload bytes of a standard-size mdat (the spec's
            # fixed 16-byte mdat exclusion): give it leaf-aligned data after that skip.
            want = min(left, chunk + (8 if first and not large else 0))
            n = os.preadv(src_fd, [memoryview(buf)[:want]], pos)
            if n <= 0:
                raise OSError("short read")
            _check(
                _lib.c2pa_builder_hash_mdat_bytes(h, mdat_id, ctypes.addressof(cbuf), n, large),
                "hash_mdat_bytes",
            )
            pos += n
            left -= n
            first = False


# ---------------------------------------------------------------------------


def load_signer(alg: str = "es256") -> c2pa.Signer:
    key = (TESTCA / "test-signer.key").read_bytes()
    chain = (TESTCA / "test-signer-chain.pem").read_bytes()
    return c2pa.Signer.from_info(c2pa.C2paSignerInfo(alg.encode(), chain, key, None))


def default_manifest(title: str) -> dict[str, Any]:
    return {
        "claim_generator_info": [{"name": "provcheck-fast-sign-prototype", "version": "0"}],
        "title": title,
        "format": MIME,
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
                        }
                    ]
                },
            }
        ],
    }


class ComposedReader(io.RawIOBase):
    """A read-only view of the output file as a list of segments (bytes, or ranges of
    the source file), so c2pa can hash the output while the kernel is still writing it."""

    def __init__(self, segments: list[tuple[int, int, bytes | int]], src_fd: int) -> None:
        super().__init__()
        self._segs = segments  # (dst_offset, length, bytes or source offset)
        self._fd = src_fd
        self._size = segments[-1][0] + segments[-1][1] if segments else 0
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        mv = memoryview(b).cast("B")
        want = min(len(mv), self._size - self._pos)
        done = 0
        for off, length, what in self._segs:
            if done >= want:
                break
            pos = self._pos + done
            if pos >= off + length or pos < off:
                continue
            k = min(off + length - pos, want - done)
            if isinstance(what, bytes):
                mv[done : done + k] = what[pos - off : pos - off + k]
            else:
                got = 0
                while got < k:
                    n = os.preadv(self._fd, [mv[done + got : done + k]], what + pos - off + got)
                    if n <= 0:
                        raise OSError("short read from the source")
                    got += n
            done += k
        self._pos += done
        return done

    def seek(self, off: int, whence: int = 0) -> int:
        self._pos = max(0, (0, self._pos, self._size)[whence] + off)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def write(self, b: Any) -> int:  # c2pa.Stream wants the method
        raise OSError("read-only")

    def flush(self) -> None:
        pass


_libc = ctypes.CDLL(None, use_errno=True)


def start_writeback(fd: int) -> None:
    """Ask the kernel to start writing the file's dirty pages now (sync_file_range
    SYNC_FILE_RANGE_WRITE), so the final fsync overlaps with the hashing."""
    try:
        _libc.sync_file_range(fd, ctypes.c_int64(0), ctypes.c_int64(0), ctypes.c_uint(2))
    except AttributeError:
        pass


def fast_sign(
    src: Path,
    dst: Path,
    *,
    mode: str = "front",
    leaf_kb: int = 1024,
    manifest: dict[str, Any] | None = None,
    xmp: bytes | None = None,
    signer: c2pa.Signer | None = None,
    overlap: bool = True,
) -> dict[str, Any]:
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    size = src.stat().st_size
    with open(src, "rb", buffering=0) as sf:
        boxes = walk(sf, 0, size)
        kinds = [b.kind for b in boxes]
        if not boxes or boxes[0].kind != b"ftyp":
            raise FastSignRefused("no leading ftyp box")
        if b"moof" in kinds or b"meta" in kinds:
            raise FastSignRefused("fragmented or HEIF-style asset")
        for b in boxes:
            if b.kind == b"uuid":
                sf.seek(b.offset + b.header)
                if sf.read(16) == C2PA_UUID:
                    raise FastSignRefused("the asset already carries a C2PA manifest")
        moovs = [b for b in boxes if b.kind == b"moov"]
        if len(moovs) != 1:
            raise FastSignRefused("expected exactly one moov")
        sf.seek(moovs[0].offset)
        moov = sf.read(moovs[0].size)
        if _find(moov, (b"mvex",)):
            raise FastSignRefused("fragmented (mvex)")
        mdats = [b for b in boxes if b.kind == b"mdat"]

    settings = {
        "version": 1,
        "verify": {"verify_after_sign": False},
        "builder": {"thumbnail": {"enabled": False}},
    }
    ctx = c2pa.Context(settings=c2pa.Settings.from_dict(settings), signer=signer or load_signer())
    builder = c2pa.Builder.from_json(manifest or default_manifest(dst.name), ctx)
    merkle = mode.endswith("merkle")
    if merkle:
        _check(
            _lib.c2pa_builder_set_fixed_size_merkle(_handle(builder), leaf_kb),
            "set_fixed_size_merkle",
        )
    ph = placeholder(builder)
    slack = 0
    if mode == "front-merkle":
        leaves = sum(-(-(b.size - 16) // (leaf_kb * 1024)) for b in mdats)
        slack = 8 + 35 * leaves + 64 * len(mdats) + 512  # leaf bstr + map fields + margin
    timings["placeholder"] = time.perf_counter() - t0

    # The output as segments: (bytes) or (source offset, length).
    parts: list[tuple[int, bytes | int]] = []
    if mode.startswith("front"):
        ftyp = boxes[0]
        parts.append((ftyp.size, 0))
        ph_index = len(parts)
        parts.append((len(ph), ph))
        if slack:
            parts.append((slack, struct.pack(">I4s", slack, b"free") + bytes(slack - 8)))
        moov_new = patch_chunk_offsets(moov, len(ph) + slack)
        for b in boxes[1:]:
            parts.append((b.size, moov_new) if b.kind == b"moov" else (b.size, b.offset))
        if xmp:
            parts.append((len(xmp), xmp))
    else:
        parts.append((size, 0))
        if xmp:
            parts.append((len(xmp), xmp))
        ph_index = len(parts)
        parts.append((len(ph), ph))
    segments: list[tuple[int, int, bytes | int]] = []
    pos = 0
    for length, what in parts:
        segments.append((pos, length, what))
        pos += length
    ph_off = segments[ph_index][0]

    fd, tmp_name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".fastsign-tmp", dir=dst.parent)
    tmp = Path(tmp_name)
    try:
        with open(src, "rb", buffering=0) as sf, os.fdopen(fd, "r+b", buffering=0) as df:
            sfd, dfd = sf.fileno(), df.fileno()
            t = time.perf_counter()
            errs: list[BaseException] = []
            copy_done: list[float] = []

            def copier() -> None:
                try:
                    for off, length, what in segments:
                        if isinstance(what, bytes):
                            os.pwrite(dfd, what, off)
                        else:
                            copy_range(sfd, dfd, what, length, off)
                    copy_done.append(time.perf_counter() - t)
                    start_writeback(dfd)
                except BaseException as exc:  # reported after join
                    errs.append(exc)

            # The kernel copies while c2pa hashes the same bytes read from the source
            # (overlap=False: copy first, then hash - better when the cores are busy).
            th = threading.Thread(target=copier)
            th.start()
            if not overlap:
                th.join()
            if merkle:
                hash_mdat_leaves(builder, sfd, mdats, leaf_kb * 1024)
                timings["merkle leaves"] = time.perf_counter() - t
            update_hash_from_stream(builder, ComposedReader(segments, sfd))
            timings["hash done"] = time.perf_counter() - t
            th.join()
            if errs:
                raise errs[0]
            timings["copy done"] = copy_done[0]
            t = time.perf_counter()
            signed = sign_embeddable(builder)
            timings["sign_embeddable"] = time.perf_counter() - t
            grow = len(signed) - len(ph)
            if mode == "front-merkle":
                if grow < 0 or grow > slack - 8:
                    raise c2pa.C2paError(f"signed box grew by {grow}, slack is {slack}")
                # the box grows into the slack; the free box after it shrinks to match
                os.pwrite(dfd, signed + struct.pack(">I4s", slack - grow, b"free"), ph_off)
            elif grow:
                if mode == "front":
                    raise c2pa.C2paError(
                        f"signed box is {len(signed)} bytes, placeholder {len(ph)}"
                    )
                os.ftruncate(dfd, ph_off)  # at the end of the file the size may change
                os.pwrite(dfd, signed, ph_off)
            else:
                os.pwrite(dfd, signed, ph_off)
            t = time.perf_counter()
            os.fsync(dfd)
            timings["fsync"] = time.perf_counter() - t
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        builder.close()
        ctx.close()
    timings["total"] = time.perf_counter() - t0
    return {
        "mode": mode,
        "placeholder_len": len(ph),
        "slack": slack,
        "manifest_box_len": len(signed),
        "manifest_offset": ph_off,
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }


def reader_state(path: Path) -> tuple[str | None, list[str]]:
    settings = {"version": 1, "trust": {"user_anchors": (TESTCA / "test-root-ca.pem").read_text()}}
    with (
        c2pa.Context(settings=c2pa.Settings.from_dict(settings)) as ctx,
        open(path, "rb") as f,
        c2pa.Reader(MIME, f, context=ctx) as r,
    ):
        res = r.get_validation_results() or {}
        fails = [c["code"] for c in (res.get("activeManifest") or {}).get("failure", [])]
        return r.get_validation_state(), fails


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    ap.add_argument(
        "--mode", choices=["front", "front-merkle", "end", "end-merkle"], default="front"
    )
    ap.add_argument("--leaf-kb", type=int, default=1024)
    ap.add_argument(
        "--xmp",
        metavar="DIGITAL_SOURCE_TYPE",
        default=None,
        help="also append provcheck's XMP uuid box (e.g. trainedAlgorithmicMedia)",
    )
    ap.add_argument(
        "--no-overlap",
        action="store_true",
        help="copy first, then hash (instead of hashing while the kernel copies)",
    )
    ap.add_argument(
        "--verify",
        action="store_true",
        help="read the result back with a trust-configured raw c2pa Reader",
    )
    a = ap.parse_args()
    xmp = xmp_box(a.xmp) if a.xmp else None
    try:
        info = fast_sign(
            a.src, a.dst, mode=a.mode, leaf_kb=a.leaf_kb, xmp=xmp, overlap=not a.no_overlap
        )
    except FastSignRefused as exc:
        print(json.dumps({"refused": str(exc)}))
        return 3
    if a.verify:
        t = time.perf_counter()
        info["reader"] = reader_state(a.dst)
        info["reader_s"] = round(time.perf_counter() - t, 3)
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
