"""One evidence pipeline from a file to its ``Report``, used by ``verify``, ``Verifier``,
``provcheck FILE``, ``audit`` and soft-binding recovery alike. Each step adds evidence;
only ``judge`` decides:

    path -> what the bytes are (media.sniff, media.check_structure)
         -> C2PA read (_c2pa)                 -> claims as data (decode)
         -> judge (one Verdict)               -> XMP label, container facts, strip traces
                                                 (inspection)
         -> [repository: fingerprint -> re-validated stored manifest] (softbinding)
         -> [thumbnail]                        -> one Report

Never prints, never exits, never touches the network unless asked
(``remote_manifests=True`` / ``ocsp=True``). The asset is handed to the C2PA library as a
stream, so a large file is never read whole into Python memory. Expensive steps are
options with the same defaults everywhere: ``inspect=True`` (MediaInfo, XMP, traces),
``thumbnails=False``; fingerprints are computed only with a ``repository``.
"""

from __future__ import annotations

import dataclasses
import io
import os
import stat
import struct
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any, BinaryIO

from . import _c2pa, media
from ._judge import judge
from ._status import TAMPER_CODES, UNTRUSTED_CODES, describe_code
from .errors import InputError
from .model import Problem, Report, Verdict
from .trust import TrustConfig

__all__ = ["verify", "verify_bytes", "Verifier", "TAMPER_CODES", "UNTRUSTED_CODES", "describe_code"]


class Verifier:
    """Verifies many files with one trust configuration (one native context).

    ``with Verifier(trust) as v: v.verify(path)`` — reuse it for batches.
    """

    def __init__(
        self,
        trust: TrustConfig | None = None,
        *,
        remote_manifests: bool = False,
        ocsp: bool = False,
        repository: Any = None,
        inspect: bool = True,
        thumbnails: bool = False,
    ) -> None:
        """``repository``: a manifest repository (``provenance.repository``) in which an
        unsigned video is looked up by fingerprint; a match makes it ``stripped``.
        ``inspect``: add container facts, the XMP label and strip traces (MediaInfo).
        ``thumbnails``: add a small JPEG of an early frame (for HTML reports)."""
        self.trust = trust if trust is not None else TrustConfig()
        self._options = _c2pa.ReadOptions(remote_manifests=remote_manifests, ocsp=ocsp)
        self._ctx: _c2pa.ReadContext | None = None
        self.repository = repository
        self.inspect = inspect
        self.thumbnails = thumbnails

    def __enter__(self) -> Verifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._ctx is not None:
            self._ctx.close()
            self._ctx = None

    def _context(self) -> _c2pa.ReadContext:
        if self._ctx is None:
            self._ctx = _c2pa.ReadContext(self.trust, self._options)
        return self._ctx

    def verify(
        self,
        source: str | os.PathLike[str] | BinaryIO,
        fragments: Sequence[str | os.PathLike[str]] = (),
    ) -> Report:
        """The one Report of one asset (a path or a seekable binary stream)."""
        name = _display_name(source)
        path = os.fspath(source) if isinstance(source, str | os.PathLike) else None
        frag_names = tuple(os.fspath(f) for f in fragments)
        table_lies: tuple[str, ...] = ()
        try:
            with ExitStack() as stack:
                stream = _open_source(source, stack)
                kind = media.sniff_stream(stream)
                if path is not None:
                    # refuse absurd structures before the native reader sees them
                    table_lies = media.check_structure(path, kind)
                frag_streams = [_open_source(f, stack) for f in fragments]
                report = self._read_and_judge(name, stream, kind, frag_streams, frag_names)
        except InputError as exc:
            return _error_report(name, str(exc), trust=self.trust, fragments=frag_names)
        if path is None:
            return report
        if self.inspect:
            from .inspection import inspect

            report = inspect(report, path, table_lies=table_lies)
        if self.repository is not None and report.verdict is Verdict.UNSIGNED:
            from .softbinding import recover

            report = recover(report, path, self.repository, self.trust, options=self._options)
        if self.thumbnails and report.verdict is not Verdict.ERROR:
            from .thumbnails import frame_thumbnail

            report = dataclasses.replace(report, thumbnail_jpeg=frame_thumbnail(path))
        return report

    def _read_and_judge(
        self,
        name: str,
        stream: BinaryIO,
        kind: media.MediaType | None,
        fragments: list[BinaryIO],
        fragment_names: tuple[str, ...],
    ) -> Report:
        mime = kind.mime if kind else None
        base: dict[str, Any] = {
            "path": name,
            "format": mime,
            "trust_configured": self.trust.has_signer_trust,
            "fragments": fragment_names,
        }
        if not fragments and mime in _BMFF and _media_segment(stream):
            return Report(
                verdict=Verdict.ERROR,
                reason="this is one fragment (a media segment, .m4s) of a fragmented MP4, "
                "without its init segment: verify the init segment and pass this file "
                "with it (provcheck INIT.mp4 --fragment THIS.m4s)",
                **base,
            )
        try:
            raw = self._context().read(mime, stream, fragments)
        except _c2pa.ReadFailure as fail:
            return _failure_report(name, fail, kind, self.trust, fragment_names)
        if raw.store is None or not raw.store.get("manifests"):
            if kind is None:
                return Report(
                    verdict=Verdict.ERROR,
                    reason="not a recognised media format "
                    "(the first bytes match no image, video or audio type)",
                    **base,
                )
            return Report(verdict=Verdict.UNSIGNED, reason="no C2PA manifest found", **base)
        report = judge(raw, self.trust, base)
        if not fragments and mime in _BMFF and _init_segment_only(stream):
            # The signed hash covers fragments that were not given: that is not tampering.
            return dataclasses.replace(
                report,
                verdict=Verdict.ERROR,
                reason="a fragmented MP4 init segment without its fragments: its media "
                "is in separate fragment files (.m4s) that the signature also covers; "
                "pass them in order with --fragment FILE (library: fragments=[...])",
                problems=tuple(p for p in report.problems if p.code not in TAMPER_CODES),
                status_codes=tuple(c for c in report.status_codes if c not in TAMPER_CODES),
            )
        return report


def verify(
    source: str | os.PathLike[str] | BinaryIO,
    *,
    trust: TrustConfig | None = None,
    fragments: Sequence[str | os.PathLike[str]] = (),
    remote_manifests: bool = False,
    ocsp: bool = False,
    repository: Any = None,
    inspect: bool = True,
    thumbnails: bool = False,
) -> Report:
    """Verify one asset (a path or a seekable binary stream) and return its Report.

    With a ``repository``, an unsigned video is looked up by fingerprint (``stripped``)."""
    with Verifier(
        trust,
        remote_manifests=remote_manifests,
        ocsp=ocsp,
        repository=repository,
        inspect=inspect,
        thumbnails=thumbnails,
    ) as v:
        return v.verify(source, fragments)


def verify_bytes(data: bytes, name: str = "<bytes>", **kwargs: Any) -> Report:
    """Convenience for small in-memory assets (tests, fuzzing)."""
    stream = io.BytesIO(data)
    stream.name = name
    return verify(stream, **kwargs)


_SEGMENT_STARTS = frozenset({b"styp", b"moof", b"sidx", b"emsg", b"prft"})
_BMFF = media.TIMED_BMFF_MIMES  # the fragmentable (timed) BMFF types
_MAX_CHILDREN = 4096


def _media_segment(stream: BinaryIO) -> bool:
    """A fragment of a fragmented MP4 (.m4s): it starts with styp/moof/sidx, not ftyp."""
    pos = stream.tell()
    try:
        stream.seek(0)
        return stream.read(8)[4:8] in _SEGMENT_STARTS
    finally:
        stream.seek(pos)


def _init_segment_only(stream: BinaryIO) -> bool:
    """A fragmented MP4 init segment: its moov announces fragments (mvex) and the file
    holds no moof of its own."""
    pos = stream.tell()
    try:
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        boxes = media.bmff_boxes(stream, size)
        if any(kind == b"moof" for _, _, kind, _ in boxes):
            return False
        for start, box_size, kind, header in boxes:
            if kind != b"moov":
                continue
            child = start + header
            end = start + box_size
            for _ in range(_MAX_CHILDREN):
                if child + 8 > end:
                    break
                stream.seek(child)
                csize, ckind = struct.unpack(">I4s", stream.read(8))
                if ckind == b"mvex":
                    return True
                if csize < 8:
                    break
                child += csize
        return False
    except (OSError, struct.error):
        return False
    finally:
        stream.seek(pos)


# ---------------------------------------------------------------------------
# input


def _display_name(source: object) -> str:
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    return str(getattr(source, "name", "<stream>"))


def _open_source(source: str | os.PathLike[str] | BinaryIO, stack: ExitStack) -> BinaryIO:
    if not isinstance(source, str | os.PathLike):
        if isinstance(source, io.TextIOBase) or not (
            hasattr(source, "read") and hasattr(source, "seek")
        ):
            raise InputError(f"{_display_name(source)}: not a seekable binary stream")
        return source
    path = os.fspath(source)
    try:
        st = os.stat(path)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot access: {exc.strerror or exc}") from exc
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path}: is a directory, not a media file")
    if not stat.S_ISREG(st.st_mode):
        # A FIFO or device would block or never end: refuse before opening it.
        raise InputError(f"{path}: not a regular file")
    if st.st_size == 0:
        raise InputError(f"{path}: empty file")
    try:
        # Default (8 KiB) buffering: the native reader seeks ~800 times in a short clip
        # and a seek discards the buffer, so a 1 MiB buffer read 3x the file (issue 19).
        f = stack.enter_context(open(path, "rb"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return f


def _error_report(
    name: str,
    message: str,
    *,
    trust: TrustConfig,
    kind: media.MediaType | None = None,
    fragments: tuple[str, ...] = (),
) -> Report:
    prefix = f"{name}: "
    reason = message[len(prefix) :] if message.startswith(prefix) else message
    return Report(
        path=name,
        verdict=Verdict.ERROR,
        reason=reason,
        format=kind.mime if kind else None,
        trust_configured=trust.has_signer_trust,
        fragments=fragments,
    )


def _failure_report(
    name: str,
    fail: _c2pa.ReadFailure,
    kind: media.MediaType | None,
    trust: TrustConfig,
    fragments: tuple[str, ...],
) -> Report:
    base: dict[str, Any] = {
        "path": name,
        "format": kind.mime if kind else None,
        "trust_configured": trust.has_signer_trust,
        "fragments": fragments,
    }
    if fail.kind == "remote":
        return Report(
            verdict=Verdict.UNSIGNED,
            reason="no embedded manifest; the file points to a remote manifest that "
            "was not fetched (use --remote-manifests to fetch it)",
            remote_manifest_url=fail.detail or None,
            **base,
        )
    if fail.kind == "remote-failed":
        return Report(
            verdict=Verdict.UNSIGNED,
            reason=f"no embedded manifest, and the remote manifest it points to could not be "
            f"fetched: {fail.detail}",
            **base,
        )
    if fail.kind == "unsupported" and kind is not None:
        # a real media format the C2PA library cannot carry credentials in (e.g. WebM)
        return Report(
            verdict=Verdict.UNSIGNED,
            reason=f"no C2PA manifest: the C2PA library does not read {kind.name} files, "
            "so they cannot carry embedded credentials",
            **base,
        )
    if fail.kind == "manifest" and kind is not None:
        problem = Problem(
            "manifest.unreadable", "the manifest store is broken and cannot be read", fail.detail
        )
        return Report(
            verdict=Verdict.INVALID,
            reason=f"the C2PA manifest store cannot be read: {fail.detail}",
            problems=(problem,),
            status_codes=("manifest.unreadable",),
            **base,
        )
    if kind is None:
        return Report(
            verdict=Verdict.ERROR,
            reason="not a recognised media format (the first "
            "bytes match no image, video or audio type)",
            **base,
        )
    detail = f": {fail.detail}" if fail.detail else ""
    return Report(verdict=Verdict.ERROR, reason=f"{fail.message} ({kind.name}){detail}", **base)
