"""File hashing shared by signing (ingredient hashes) and the gate (source links).

Only regular files are hashed: a FIFO or a device would block or never end, so the file
is opened without blocking and checked with ``fstat`` before a byte is read.
"""

from __future__ import annotations

import hashlib
import os
import stat

from .errors import InputError

__all__ = ["open_regular_file", "sha256_file"]


def open_regular_file(path: str | os.PathLike[str]) -> int:
    """Open ``path`` for reading and return the descriptor, or raise ``InputError`` when
    it is not a regular file. ``O_NONBLOCK`` keeps a FIFO from blocking the open itself;
    ``fstat`` on the open descriptor leaves no window for a swap after the check."""
    name = os.fspath(path)
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputError(f"{name}: cannot open: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
    except OSError as exc:
        os.close(fd)
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise InputError(f"{name}: not a regular file ({_kind(mode)})")
    return fd


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a regular file, streamed in 1 MiB blocks."""
    h = hashlib.sha256()
    with os.fdopen(open_regular_file(path), "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a plain file"
