"""The `provcheck` command line: a thin click wrapper over the `provenance` library."""

from __future__ import annotations

__all__ = ["main"]


def main() -> None:
    from .app import main as _main

    _main()
