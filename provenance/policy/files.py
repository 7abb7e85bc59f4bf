"""Reading the gate's text inputs (a policy file, a prompt file) with bounded effort.

A special file (FIFO, ``/dev/zero``, a directory) is refused before a byte is read, a
file larger than the limit is refused without reading it whole, and bytes that are not
UTF-8 get an error naming the file and the offset.
"""

from __future__ import annotations

import os

from .._hashing import open_regular_file
from ..errors import InputError
from .core import PolicyError

__all__ = ["MAX_POLICY_BYTES", "MAX_PROMPT_BYTES", "read_prompt_file", "read_text_file"]

MAX_POLICY_BYTES = 1 << 20
MAX_PROMPT_BYTES = 1 << 20


def read_text_file(path: str | os.PathLike[str], *, what: str, limit: int) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes, or ``PolicyError``."""
    name = os.fspath(path)
    try:
        fd = open_regular_file(name)
    except InputError as exc:
        raise PolicyError(f"cannot read {what}: {exc}") from None
    try:
        with os.fdopen(fd, "rb") as f:
            data = f.read(limit + 1)  # never more than the limit, whatever the size says
    except OSError as exc:
        raise PolicyError(f"{name}: cannot read {what}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise PolicyError(f"{name}: {what} is larger than {limit} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(
            f"{name}: {what} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None


def read_prompt_file(path: str | os.PathLike[str], *, limit: int = MAX_PROMPT_BYTES) -> str:
    """A prompt stored in a file: UTF-8 text from a regular file of bounded size."""
    return read_text_file(path, what="prompt file", limit=limit)
