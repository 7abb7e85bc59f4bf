"""Check that MediaInfo's quick parse (parse_speed=0) reports every field provcheck
uses exactly as the full parse does, on all fixture media, and time both.

    python bench/parse_speed_check.py [FILES...]
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from provenance import inspection  # noqa: E402


def files(argv: list[str]) -> list[Path]:
    if argv:
        return [Path(a) for a in argv]
    roots = [REPO / "fixtures" / "media", REPO / "fixtures" / "third_party" / "c2pa-rs"]
    return sorted(p for r in roots for p in r.rglob("*") if p.is_file() and p.suffix != ".json")


def main() -> int:
    diffs = 0
    quick_t: list[float] = []
    full_t: list[float] = []
    checked = 0
    for p in files(sys.argv[1:]):
        t = time.perf_counter()
        full = inspection.container_facts(p, parse_speed=None)
        full_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        quick = inspection.container_facts(p, parse_speed=0)
        quick_t.append(time.perf_counter() - t)
        checked += 1
        if full != quick:
            diffs += 1
            a = dataclasses.asdict(full) if full else {}
            b = dataclasses.asdict(quick) if quick else {}
            for k in sorted(set(a) | set(b)):
                if a.get(k) != b.get(k):
                    print(f"DIFF {p.name}: {k}: full={a.get(k)!r} quick={b.get(k)!r}")
    print(
        f"{checked} files, {diffs} differ; median full {statistics.median(full_t) * 1e3:.2f} ms, "
        f"quick {statistics.median(quick_t) * 1e3:.2f} ms"
    )
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
