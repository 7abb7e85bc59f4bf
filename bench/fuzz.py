#!/usr/bin/env python3
"""Long fuzz run over real assets: thousands of structure-aware mutations through the
isolated audit workers. Prints the figures quoted in the README's security section.

    python bench/fuzz.py --cases 5000 --jobs 2 --seed 1
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from provenance import Candidate, TrustConfig, Verdict, inspect_report, run_audit, verify  # noqa: E402
from tests.mutations import apply, claims_differ, random_mutation, seed_files  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cases", type=int, default=5000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--keep", type=Path, help="copy every failing input into this folder")
    args = ap.parse_args()

    trust = TrustConfig.from_files(anchors=[ROOT / "fixtures" / "testca" / "test-root-ca.pem"])
    seeds = seed_files()
    original = {p: inspect_report(verify(p, trust=trust)).to_dict() for p in seeds}
    rng = random.Random(args.seed)
    verdicts: Counter[str] = Counter()
    per_seed: Counter[str] = Counter()
    crashes = hangs = internal = false_claims = 0
    examples: list[str] = []
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="provcheck-fuzz-") as tmp:
        done = 0
        while done < args.cases:
            n = min(args.batch, args.cases - done)
            origin: dict[str, Path] = {}
            for i in range(n):
                seed = rng.choice(seeds)
                data = seed.read_bytes()
                for m in random_mutation(rng):
                    data = apply(data, m)
                path = Path(tmp) / f"c{done + i}{seed.suffix}"
                path.write_bytes(data)
                origin[str(path)] = seed
                per_seed[seed.name] += 1
            for r in run_audit(
                [Candidate(p) for p in origin], trust, jobs=args.jobs, timeout=args.timeout
            ):
                verdicts[r.verdict.value] += 1
                if r.verdict is Verdict.ERROR:
                    if "crashed" in r.reason:
                        crashes += 1
                        examples.append(f"crash: {r.reason}")
                    elif "did not finish" in r.reason:
                        hangs += 1
                        examples.append(f"hang: {r.path}")
                    elif r.reason.startswith("internal error"):
                        internal += 1
                        examples.append(f"internal: {r.reason}")
                if r.verdict in (Verdict.TRUSTED, Verdict.UNTRUSTED):
                    differs = claims_differ(r.to_dict(), original[origin[r.path]])
                    if differs:
                        false_claims += 1
                        examples.append(
                            f"false {r.verdict.value}: {r.path} (from "
                            f"{origin[r.path].name}; differs in {differs})"
                        )
                        if args.keep:
                            args.keep.mkdir(parents=True, exist_ok=True)
                            shutil.copy(r.path, args.keep / Path(r.path).name)
                Path(r.path).unlink(missing_ok=True)
            done += n
            print(f"  {done}/{args.cases} inputs", file=sys.stderr)
    seconds = time.monotonic() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"command: python bench/fuzz.py --cases {args.cases} --jobs {args.jobs} --seed {args.seed}"
    )
    print(
        f"inputs tried:            {args.cases} ({len(seeds)} seed files: "
        + ", ".join(f"{k} {v}" for k, v in sorted(per_seed.items()))
        + ")"
    )
    print("verdicts:                " + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))
    print(f"crashes:                 {crashes}")
    print(f"hangs (> {args.timeout:g} s):          {hangs}")
    print(f"internal errors:         {internal}")
    print(f"false trusted/untrusted: {false_claims}")
    print(f"peak worker RSS:         {peak:.0f} MiB")
    print(f"time:                    {seconds:.1f} s ({args.cases / seconds:.0f} inputs/s)")
    for e in examples[:20]:
        print("  " + e)
    return 1 if crashes or hangs or internal or false_claims else 0


if __name__ == "__main__":
    sys.exit(main())
