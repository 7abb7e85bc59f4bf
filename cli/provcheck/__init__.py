"""The `provcheck` command line: a thin click wrapper over the `provenance` library.

Where things live (flags -> library calls -> rendering; no C2PA logic here):

  app.py           root group: `provcheck FILE` = verify, "did you mean", one-line errors
  options.py       option blocks shared by commands (trust, repository, verbose), exit-code help
  output.py        what every renderer shares: verdict palette, JSON envelope, summary
  render.py        verify text/JSON, gate, repo and trust output
  audit_render.py  audit table, JSON, JSON Lines, CSV and the HTML page (templates/)
  commands/        one module per command group: verify, sign, keys, audit, gate, trust, repo

Every string from a file or a file name passes through `provenance.textsafe` before it
reaches a terminal (escaped, never markup) or a CSV cell (never a formula).
"""

from __future__ import annotations

__all__ = ["main"]


def main() -> None:
    from .__main__ import main as _main  # the console script's entry (its GC setting)

    _main()
