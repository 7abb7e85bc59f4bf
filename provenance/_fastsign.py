"""Fast signing of MP4/MOV through the C2PA library's embeddable-manifest calls.

``Builder.sign`` of c2pa-python 0.38 copies the asset through 8 KiB Python callbacks
into a native temporary file and copies it again (about 4x the file in I/O). The
native library also exports the embeddable workflow (public C API, declared in
``c2pa.h``; c2pa-python does not wrap it yet), which we call with ctypes on the same
loaded library:

    c2pa_builder_set_fixed_size_merkle   1 MiB Merkle leaves, as the normal path
    c2pa_builder_placeholder             the C2PA ``uuid`` box, before the leaves
    c2pa_builder_hash_mdat_bytes         each mdat's payload, leaf by leaf
    c2pa_builder_update_hash_from_stream the rest of the finished file (BmffHash)
    c2pa_builder_sign_embeddable         the signed box

We write the file ourselves: ``ftyp``, the C2PA box, a ``free`` box of slack, then the
other boxes with every ``stco``/``co64`` chunk offset shifted by the two inserted
boxes; the bulk is copied by the kernel (``copy_file_range``). The signed box carries
the Merkle leaves, so it is larger than the placeholder: it grows into the slack and
the ``free`` box shrinks by as much (``free`` boxes are outside the BMFF hash), so no
offset moves after hashing. The output is the same kind of file the normal path
writes (manifest after ``ftyp``, XMP label box at the end, 1 MiB leaves).

Anything outside that shape raises ``Refused`` before the destination is touched
beyond truncation, and the caller signs the normal way.
"""

from __future__ import annotations

import ctypes
import io
import os
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from . import _c2pa
from ._c2pa import NativeIngredient, NativeSignerSpec, _detail
from .errors import SigningError

__all__ = ["Refused", "available", "eligible", "sign_bmff", "ENABLED"]

# On by default where the native library has the calls; PROVCHECK_FAST_SIGN=0 (or
# ENABLED = False) signs every file the normal way.
ENABLED = True

C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
LEAF_KB = 1024
_LEAF = LEAF_KB * 1024
_MIMES = frozenset({"video/mp4", "video/quicktime"})
# Boxes kept in memory (moov, small boxes): bounded so a hostile file cannot eat memory.
_MAX_SMALL_BOX = 64 * 1024 * 1024
_CONTAINERS = frozenset(
    {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"udta", b"mvex", b"dinf"}
)
# Boxes holding absolute file offsets other than stco/co64: refuse rather than patch.
_OFFSET_BOXES = frozenset({b"saio", b"tfhd", b"iloc", b"mvex", b"moof", b"sidx", b"mfra"})
_SYMBOLS = (
    "c2pa_builder_placeholder",
    "c2pa_builder_sign_embeddable",
    "c2pa_builder_update_hash_from_stream",
    "c2pa_builder_set_fixed_size_merkle",
    "c2pa_builder_hash_mdat_bytes",
    "c2pa_free",
)


class Refused(Exception):
    """The asset or the request is outside the fast path: sign the normal way."""


_bound: bool | None = None


def eligible(mime: str) -> bool:
    """Whether a file of this type goes to the fast path first."""
    return ENABLED and mime in _MIMES and available()


def available() -> bool:
    """True when the loaded native library exports the embeddable calls (checked by
    symbol at run time; bound once). PROVCHECK_FAST_SIGN=0 turns the fast path off."""
    global _bound
    if os.environ.get("PROVCHECK_FAST_SIGN", "1") == "0":
        return False
    if _bound is None:
        lib = _c2pa.native_library()
        _bound = lib is not None and all(hasattr(lib, s) for s in _SYMBOLS)
        if _bound:
            _bind(lib)
    return _bound


# glibc mallopt parameters
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def _keep_leaf_buffers_in_heap() -> None:
    """Let the native hasher reuse its per-leaf buffers instead of mapping fresh pages.

    For every 1 MiB leaf the C2PA library allocates two 1 MiB buffers. Under glibc's
    defaults each comes from a new mmap (or from heap that was just trimmed), so every
    page of the media is faulted in twice: 253,000 page faults per 512 MiB hashed, about
    half of the hashing CPU (measured: 465 -> 850 MB/s per CPU second with these two
    settings, 7,600 faults). Allocations under 4 MiB then come from the heap, and up to
    16 MiB of free heap is kept instead of returned at once: process-wide, small, and
    only set once the fast path is used. Not glibc (no mallopt): nothing happens. A host
    process that manages its own allocator sets PROVCHECK_MALLOC_TUNING=0 to keep it."""
    if os.environ.get("PROVCHECK_MALLOC_TUNING", "1") == "0":
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    mallopt(_M_MMAP_THRESHOLD, 4 << 20)
    mallopt(_M_TRIM_THRESHOLD, 16 << 20)


def _bind(lib: Any) -> None:
    _keep_leaf_buffers_in_heap()
    u8pp = ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte))
    for name in ("c2pa_builder_placeholder", "c2pa_builder_sign_embeddable"):
        fn = getattr(lib, name)
        fn.argtypes = [ctypes.c_void_p, ctypes.c_char_p, u8pp]
        fn.restype = ctypes.c_int64
    fn = lib.c2pa_builder_update_hash_from_stream
    fn.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    fn.restype = ctypes.c_int
    fn = lib.c2pa_builder_set_fixed_size_merkle
    fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    fn.restype = ctypes.c_int
    fn = lib.c2pa_builder_hash_mdat_bytes
    fn.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_bool,
    ]
    fn.restype = ctypes.c_int


def _check(ret: int, what: str) -> int:
    if ret < 0:
        err = _c2pa.native_error() or f"{what} failed"
        # worded as the normal path words it (signing.py reads timestamp failures from it)
        raise SigningError(f"the C2PA library could not sign: {_detail(Exception(err))}")
    return ret


def _handle(builder: Any) -> int:
    return _c2pa.builder_handle(builder)


def _bytes_out(name: str, builder: Any, mime: str) -> bytes:
    ptr = ctypes.POINTER(ctypes.c_ubyte)()
    lib = _c2pa.native_library()
    fn = getattr(lib, name)
    n = _check(fn(_handle(builder), mime.encode(), ctypes.byref(ptr)), name)
    try:
        return ctypes.string_at(ptr, n)
    finally:
        lib.c2pa_free(ptr)


# ---------------------------------------------------------------------------
# the source as the normal path would sign it: the file with XMP patches and suffix


@dataclass(frozen=True)
class Box:
    kind: bytes
    offset: int
    size: int
    header: int

    @property
    def end(self) -> int:
        return self.offset + self.size


def _walk(read_at: Any, end: int) -> list[Box]:
    boxes: list[Box] = []
    pos = 0
    while pos < end:
        head = read_at(pos, 16)
        if len(head) < 8:
            raise Refused("truncated box header")
        size, kind = struct.unpack(">I4s", head[:8])
        header = 8
        if size == 1:
            if len(head) < 16:
                raise Refused("truncated box header")
            size = struct.unpack(">Q", head[8:16])[0]
            header = 16
        elif size == 0:
            raise Refused("a box that runs to the end of the file")
        if size < header or pos + size > end:
            raise Refused(f"malformed box {kind!r} at {pos}")
        boxes.append(Box(kind, pos, size, header))
        pos += size
    return boxes


def _patch_offsets(moov: bytes, delta: int) -> bytes:
    """Shift every stco/co64 entry by ``delta``; refuse boxes with other offsets."""
    buf = bytearray(moov)

    def rec(start: int, end: int) -> None:
        pos = start
        while pos + 8 <= end:
            size, kind = struct.unpack(">I4s", buf[pos : pos + 8])
            header = 8
            if size == 1:
                if pos + 16 > end:
                    raise Refused("truncated box in moov")
                size = struct.unpack(">Q", buf[pos + 8 : pos + 16])[0]
                header = 16
            elif size == 0:
                size = end - pos
            if size < header or pos + size > end:
                raise Refused(f"malformed box {kind!r} in moov")
            if kind in _OFFSET_BOXES or (kind == b"meta" and b"iloc" in buf[pos : pos + size]):
                # (an iTunes-style udta/meta holds tags only: kept as it is)
                raise Refused(f"{kind.decode('latin-1')} box: offsets we do not patch")
            if kind in (b"stco", b"co64"):
                p = pos + header + 4
                if p + 4 > pos + size:
                    raise Refused(f"truncated {kind.decode()} box")
                (count,) = struct.unpack(">I", buf[p : p + 4])
                width = 4 if kind == b"stco" else 8
                p += 4
                if p + width * count > pos + size:
                    raise Refused(f"{kind.decode()} box shorter than its entry count")
                fmt = f">{count}{'I' if width == 4 else 'Q'}"
                vals = struct.unpack(fmt, buf[p : p + width * count])
                limit = 0xFFFFFFFF if width == 4 else 0xFFFFFFFFFFFFFFFF
                if vals and max(vals) + delta > limit:
                    raise Refused("chunk offsets would overflow")
                buf[p : p + width * count] = struct.pack(fmt, *(v + delta for v in vals))
            elif kind in _CONTAINERS:
                rec(pos + header, pos + size)
            pos += size
        if pos != end and end - pos >= 8:
            raise Refused("trailing bytes in moov")

    header = 16 if struct.unpack(">I", buf[:4])[0] == 1 else 8
    rec(header, len(buf))
    return bytes(buf)


# ---------------------------------------------------------------------------
# writing


# Copied in pieces of this size, each handed to the disk as soon as it is written.
_WRITEBACK_PIECE = 32 << 20


def _writeback_starter() -> Any:
    """``sync_file_range(fd, off, n, SYNC_FILE_RANGE_WRITE)`` from libc, or None.

    Without it the kernel keeps the copy as dirty pages until the final fdatasync, so
    the disk only starts writing once the copy is done: copy and write back one after
    the other (measured 1 GiB: 3.1 s copy + 3.0 s fdatasync). Starting the write-back of
    each piece as it is copied overlaps the disk with the copy and the hashing."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):  # not Linux
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_SYNC_FILE_RANGE_WRITE = 2
_start_writeback = _writeback_starter()


def _copy_range(src_fd: int, dst_fd: int, src_off: int, length: int, dst_off: int) -> None:
    """Kernel-side copy (copy_file_range), else pread/pwrite in 8 MiB pieces; each
    32 MiB piece's write-back starts when it is copied (a hint: fdatasync still decides)."""
    done = 0
    try:
        while done < length:
            want = min(_WRITEBACK_PIECE, length - done)
            got = 0
            while got < want:
                n = os.copy_file_range(
                    src_fd, dst_fd, want - got, src_off + done + got, dst_off + done + got
                )
                if n == 0:
                    raise OSError(5, "unexpected end of the source file")
                got += n
            if _start_writeback is not None:
                _start_writeback(dst_fd, dst_off + done, got, _SYNC_FILE_RANGE_WRITE)
            done += got
        return
    except OSError as exc:
        if exc.errno not in (18, 22, 38, 95, 1):  # EXDEV EINVAL ENOSYS EOPNOTSUPP EPERM
            raise
    except AttributeError:  # no os.copy_file_range on this platform
        pass
    buf = bytearray(8 << 20)
    view = memoryview(buf)
    while done < length:
        n = os.preadv(src_fd, [view[: min(len(buf), length - done)]], src_off + done)
        if n <= 0:
            raise OSError(5, "unexpected end of the source file")
        written = 0
        while written < n:
            written += os.pwrite(dst_fd, view[written:n], dst_off + done + written)
        done += n


def _pwrite_all(fd: int, data: bytes, off: int) -> None:
    view = memoryview(data)
    done = 0
    while done < len(data):
        done += os.pwrite(fd, view[done:], off + done)


def _hash_mdats(builder: Any, src_fd: int, mdats: Sequence[Box]) -> None:
    """Each mdat payload to the Merkle hasher in leaf-aligned pieces (8 MiB buffer)."""
    chunk = 8 * _LEAF
    buf = bytearray(chunk + 8)
    cbuf = (ctypes.c_ubyte * len(buf)).from_buffer(buf)
    view = memoryview(buf)
    handle = _handle(builder)
    lib = _c2pa.native_library()
    try:
        for mdat_id, box in enumerate(mdats):
            large = box.header == 16
            pos = box.offset + box.header
            left = box.end - pos
            first = True
            while left > 0:
                # the hasher skips the first 8 payload bytes of a standard-size mdat (the
                # fixed 16-byte mdat exclusion): leaves stay aligned after that skip
                want = min(left, chunk + (8 if first and not large else 0))
                got = 0
                while got < want:
                    n = os.preadv(src_fd, [view[got:want]], pos + got)
                    if n <= 0:
                        raise OSError(5, "unexpected end of the source file")
                    got += n
                _check(
                    lib.c2pa_builder_hash_mdat_bytes(
                        handle, mdat_id, ctypes.addressof(cbuf), want, large
                    ),
                    "hash_mdat_bytes",
                )
                pos += want
                left -= want
                first = False
    finally:
        del cbuf
        view.release()


class _ReadOnly(io.RawIOBase):
    """The written file, read through a duplicate descriptor (c2pa.Stream wants write)."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._f = io.FileIO(os.dup(fd), "r")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        return self._f.readinto(b) or 0

    def seek(self, off: int, whence: int = 0) -> int:
        return self._f.seek(off, whence)

    def tell(self) -> int:
        return self._f.tell()

    def write(self, b: Any) -> int:
        raise OSError("read-only")

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self._f.close()
        super().close()


def sign_bmff(
    *,
    manifest: dict[str, Any],
    signer: NativeSignerSpec,
    mime: str,
    source: str | os.PathLike[str],
    patches: dict[int, bytes],
    suffix: bytes,
    dest: BinaryIO,
    ingredients: Sequence[NativeIngredient] = (),
) -> bytes:
    """Sign ``source`` (with the XMP ``patches`` and ``suffix`` applied, as the normal
    path signs it) into the empty, writable ``dest``; returns the manifest store bytes.
    Raises ``Refused`` (``dest`` left empty) when the file is outside the fast path."""
    if mime not in _MIMES or not available():
        raise Refused(f"{mime}: no fast path")
    with open(source, "rb", buffering=0) as sf:
        src_fd = sf.fileno()
        src_size = os.fstat(src_fd).st_size
        total = src_size + len(suffix)

        def read_at(pos: int, n: int) -> bytes:
            out = bytearray()
            if pos < src_size:
                out += os.pread(src_fd, min(n, src_size - pos), pos)
            if pos + len(out) >= src_size and len(out) < n:
                s = pos + len(out) - src_size
                out += suffix[s : s + n - len(out)]
            for off, data in patches.items():
                for k, byte in enumerate(data):
                    if pos <= off + k < pos + len(out):
                        out[off + k - pos] = byte
            return bytes(out)

        boxes = _walk(read_at, total)
        if not boxes or boxes[0].kind != b"ftyp":
            raise Refused("no leading ftyp box")
        kinds = [b.kind for b in boxes]
        if any(k in _OFFSET_BOXES or k == b"meta" for k in kinds):
            raise Refused("fragmented, indexed or HEIF-style asset")
        if kinds.count(b"moov") != 1:
            raise Refused("expected exactly one moov box")
        for b in boxes:
            if b.kind == b"uuid" and read_at(b.offset + b.header, 16) == C2PA_UUID:
                raise Refused("the asset already carries a C2PA manifest")

        def patched(b: Box) -> bool:
            return b.end > src_size or any(
                b.offset <= off < b.end or b.offset < off + len(d) <= b.end
                for off, d in patches.items()
            )

        mdats = [b for b in boxes if b.kind == b"mdat"]
        if len(mdats) != 1:
            # c2pa 0.91 validates some multi-mdat Merkle files as mismatched, whichever
            # way they are signed: leave those to the normal path, as before
            raise Refused("expected exactly one mdat box")
        if any(patched(b) for b in mdats):
            raise Refused("a patch inside media data")
        for b in boxes:
            if (b.kind == b"moov" or patched(b)) and b.size > _MAX_SMALL_BOX:
                raise Refused(f"{b.kind!r} box too large to rewrite in memory")

        with _c2pa.embeddable_builder(manifest, signer, mime, ingredients) as builder:
            return _write(builder, mime, boxes, mdats, read_at, patched, src_fd, dest)


def _write(
    builder: Any,
    mime: str,
    boxes: list[Box],
    mdats: list[Box],
    read_at: Any,
    patched: Any,
    src_fd: int,
    dest: BinaryIO,
) -> bytes:
    lib = _c2pa.native_library()
    _check(
        lib.c2pa_builder_set_fixed_size_merkle(_handle(builder), LEAF_KB),
        "set_fixed_size_merkle",
    )
    placeholder = _bytes_out("c2pa_builder_placeholder", builder, mime)
    leaves = sum(-(-max(0, b.size - 16) // _LEAF) for b in mdats)
    # room for the leaves the placeholder leaves out: a 32-byte hash in a CBOR bstr
    # (35 bytes) per leaf, plus per-mdat map fields and a margin
    slack = 8 + 35 * leaves + 64 * len(mdats) + 512
    delta = len(placeholder) + slack
    moov = next(b for b in boxes if b.kind == b"moov")
    new_moov = _patch_offsets(read_at(moov.offset, moov.size), delta)

    # the output: (dst offset, length, bytes or source offset)
    segments: list[tuple[int, int, bytes | int]] = []
    pos = 0

    def add(length: int, what: bytes | int) -> None:
        nonlocal pos
        segments.append((pos, length, what))
        pos += length

    ftyp = boxes[0]
    add(ftyp.size, read_at(ftyp.offset, ftyp.size))
    ph_off = pos
    add(len(placeholder), placeholder)
    add(slack, struct.pack(">I4s", slack, b"free") + bytes(slack - 8))
    for b in boxes[1:]:
        if b is moov:
            add(b.size, new_moov)
        elif patched(b):
            add(b.size, read_at(b.offset, b.size))
        else:
            add(b.size, b.offset)

    dest.flush()
    dst_fd = dest.fileno()
    if os.fstat(dst_fd).st_size != 0:
        raise Refused("destination is not empty")
    errors: list[BaseException] = []

    def copy() -> None:
        try:
            for off, length, what in segments:
                if isinstance(what, bytes):
                    _pwrite_all(dst_fd, what, off)
                else:
                    _copy_range(src_fd, dst_fd, what, length, off)
            if _start_writeback is None:
                # flush the bulk to disk while hashing goes on: the caller's final fsync
                # then writes little more than the signed box. With sync_file_range the
                # write-back of every piece is already under way, and waiting for it
                # here would hold up signing (~3 ms of a 40 ms short clip): the caller's
                # fsync, before the rename, is the one that makes the file durable.
                os.fdatasync(dst_fd)
        except BaseException as exc:  # re-raised in the signing thread below
            errors.append(exc)

    # the kernel copies while the native hasher reads the same bytes from the source
    # (ctypes releases the GIL during both calls)
    copier = threading.Thread(target=copy, name="provcheck-fastsign-copy")
    copier.start()
    try:
        _hash_mdats(builder, src_fd, mdats)
    finally:
        copier.join()
    if errors:
        raise errors[0]
    with _c2pa.libc_stream(dst_fd) as fast:
        if fast is not None:  # the boxes around the mdat read with no Python callbacks
            stream = ctypes.cast(fast, ctypes.c_void_p).value
            _check(
                lib.c2pa_builder_update_hash_from_stream(_handle(builder), mime.encode(), stream),
                "update_hash_from_stream",
            )
        else:
            with _ReadOnly(dst_fd) as view, _c2pa.native_stream(view) as stream:
                _check(
                    lib.c2pa_builder_update_hash_from_stream(
                        _handle(builder), mime.encode(), stream
                    ),
                    "update_hash_from_stream",
                )
    signed = _bytes_out("c2pa_builder_sign_embeddable", builder, mime)
    grow = len(signed) - len(placeholder)
    if grow > slack - 8:
        # the caller truncates and signs the normal way
        raise Refused(f"signed manifest grew by {grow} bytes, more than the {slack} reserved")
    # the box grows into the slack; the free box after it shrinks to match
    _pwrite_all(dst_fd, signed + struct.pack(">I4s", slack - grow, b"free"), ph_off)
    return _manifest_store(signed)


def _manifest_store(box: bytes) -> bytes:
    """The JUMBF manifest store inside the C2PA ``uuid`` box (what ``Builder.sign``
    returns): after size, type, usertype, version/flags and the purpose string."""
    p = 8 + 16 + 4
    end = box.index(b"\0", p)
    p = end + 1 + 8  # NUL, then the 64-bit merkle offset
    return box[p:]
