"""Reading files named by a caller: regular files only, never more than a bound.

A FIFO blocks ``open`` until a writer appears and ``/dev/zero`` never ends, so a path
where a small regular file is expected (a key, a certificate, a trust list) is checked
with ``stat`` before it is opened, opened without blocking, checked again on the open
descriptor (the name may have been swapped in between) and read up to a limit.
"""

from __future__ import annotations

import os
import stat

from .errors import InputError, ProvenanceError

__all__: list[str] = []  # private helpers of sign and trust


def regular_file_stat(
    path: str | os.PathLike[str],
    *,
    error: type[ProvenanceError] = InputError,
    what: str = "",
) -> os.stat_result:
    """``stat`` of an existing regular file (symbolic links followed), else ``error``."""
    name = os.fspath(path)
    prefix = f"cannot read {what}: " if what else ""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise error(f"{name}: {prefix}no such file") from None
    except OSError as exc:
        raise error(f"{name}: {prefix}{exc.strerror or exc}") from None
    _require_regular(path, st, error)
    return st


def _require_regular(
    path: str | os.PathLike[str], st: os.stat_result, error: type[ProvenanceError]
) -> None:
    if stat.S_ISREG(st.st_mode):
        return
    what = (
        "a directory"
        if stat.S_ISDIR(st.st_mode)
        else "a named pipe (FIFO)"
        if stat.S_ISFIFO(st.st_mode)
        else "a device"
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
        else "a socket"
        if stat.S_ISSOCK(st.st_mode)
        else "not a regular file"
    )
    raise error(f"{os.fspath(path)}: is {what}, expected a regular file")


def read_regular_file(
    path: str | os.PathLike[str],
    *,
    limit: int,
    error: type[ProvenanceError] = InputError,
    what: str = "",
) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, else ``error`` naming it."""
    regular_file_stat(path, error=error, what=what)
    name = os.fspath(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise error(f"{name}: cannot read {what or 'it'}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as f:
        _require_regular(path, os.fstat(f.fileno()), error)
        try:
            data = f.read(limit + 1)
        except OSError as exc:
            raise error(f"{name}: cannot read {what or 'it'}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise error(f"{name}: larger than {limit:,} bytes; refused")
    return data
