"""`python -m provcheck` and the `provcheck` console script."""

from __future__ import annotations

import gc

# A start-up creates ~45,000 objects that live as long as the process (modules, classes,
# compiled patterns): at the default threshold (700) the cyclic GC makes ~60 collections
# over them, 15-20 ms of a `provcheck FILE` (issue 19). One collection per 50,000
# allocations makes none during start-up and still collects cycles in a long run (an
# audit, a server), at a bounded cost in memory. Set before anything is imported; the
# command line owns its process (the library never touches the GC).
GC_THRESHOLD = 50_000


def main() -> None:
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    from provcheck.app import main as run

    run()


if __name__ == "__main__":
    main()
