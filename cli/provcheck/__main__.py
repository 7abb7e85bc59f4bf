"""`python -m provcheck` and the `provcheck` console script."""

from __future__ import annotations

from provcheck.app import main

if __name__ == "__main__":
    main()
