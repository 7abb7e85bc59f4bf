"""One module per command group; each exposes the click command(s) the app registers."""

from __future__ import annotations

__all__: list[str] = []
