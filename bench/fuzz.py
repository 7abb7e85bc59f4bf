#!/usr/bin/env python3
"""Long fuzz run over real assets. Prints the figures quoted in the README's security
section. Three parts:

1. mutations: thousands of structure-aware mutations of real assets through the isolated
   audit workers, each worker's data segment limited (RLIMIT_DATA, ``--rss-limit``);
2. denial-of-service shapes: many top-level and nested boxes, deep nesting, and huge
   declared dimensions (track header, sample entry and SPS of a real H.264 MP4), verified
   with fingerprinting and thumbnails on, in a fresh process (its peak RSS is theirs);
3. hostile strings: real files signed with escape sequences, bidi and invisible
   characters, OSC 8 links, rich markup and CSV formulas in every string field of the
   manifest and the certificates, under hostile file names, through every renderer.

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
from tests.mutations import (  # noqa: E402
    STRING_FIELDS,
    apply,
    audit_in_child,
    claims_differ,
    deep_boxes,
    dos_problem,
    hostile_file_name,
    hostile_text,
    huge_dimensions,
    many_boxes,
    random_mutation,
    render_violations,
    seed_files,
    sign_hostile,
)

MEDIA = ROOT / "fixtures" / "media"


def dos_shapes(folder: Path) -> list[tuple[str, Path]]:
    """The denial-of-service shapes of issue 13, each a real MP4 around the seed's media."""
    unsigned = (MEDIA / "unsigned.mp4").read_bytes()
    signed = (MEDIA / "captured.mp4").read_bytes()
    shapes = {
        "1,000,000 top-level boxes (8 MB)": many_boxes(unsigned, 1_000_000),
        "30,000 top-level boxes": many_boxes(unsigned, 30_000),
        "19,990 top-level boxes (under the limit)": many_boxes(unsigned, 19_990),
        "19,990 top-level boxes after a signed clip": many_boxes(signed, 19_990),
        "12,000 boxes in one moov/udta": many_boxes(unsigned, 12_000, where="nested"),
        "9,900 boxes in one moov/udta (under the limit)": many_boxes(
            unsigned, 9_900, where="nested"
        ),
        "500,000 boxes 3 levels down": many_boxes(unsigned, 500_000, where="nested", depth=3),
        "boxes nested 40 deep": deep_boxes(unsigned, 40),
        "boxes nested 10,000 deep": deep_boxes(unsigned, 10_000),
        "16000x16000 declared (H.264)": huge_dimensions(unsigned, 16000, 16000),
        "8192x8192 declared": huge_dimensions(unsigned, 8192, 8192),
        "65520x16 declared": huge_dimensions(unsigned, 65520, 16),
        "16x65520 declared": huge_dimensions(unsigned, 16, 65520),
        "3840x2160 declared (4K, allowed)": huge_dimensions(unsigned, 3840, 2160),
    }
    out = []
    for i, (name, data) in enumerate(shapes.items()):
        path = folder / f"shape{i}.mp4"
        path.write_bytes(data)
        out.append((name, path))
    return out


def run_dos(folder: Path, rss_limit: int, timeout: float, jobs: int) -> tuple[list[str], float]:
    shapes = dos_shapes(folder)
    got = audit_in_child(
        [p for _, p in shapes], folder, timeout=timeout, rss_limit_mib=rss_limit, jobs=jobs
    )
    by_path = {r["path"]: r for r in got["reports"]}
    lines = []
    for name, path in shapes:
        r = by_path.get(str(path), {"verdict": "missing", "reason": "no report"})
        bad = dos_problem(r)
        mark = f"  <-- {bad}" if bad else ""
        lines.append(f"  {name:<48} {r['verdict']:<9} {r['reason'][:90]}{mark}")
    lines.append(
        f"  ({len(shapes)} shapes in {got['seconds']:.1f} s, fingerprints and thumbnails on, "
        f"peak worker RSS {got['peak_worker_rss_mib']:.0f} MiB under a {rss_limit} MiB limit)"
    )
    failures = [ln for ln in lines if "<--" in ln]
    return [*lines, f"DOS FAILURES: {len(failures)}"], got["peak_worker_rss_mib"]


def run_strings(folder: Path, cases: int, rng: random.Random) -> tuple[int, list[str]]:
    """``cases`` signed files in batches of 10, every renderer over each batch."""
    problems: list[str] = []
    done = 0
    while done < cases:
        batch = folder / f"strings{done}"
        files = batch / "in"
        files.mkdir(parents=True)
        signed: dict[Path, dict[str, str]] = {}
        root = None
        for _ in range(min(10, cases - done)):
            strings = {k: hostile_text(rng) for k in STRING_FIELDS}
            dest = files / hostile_file_name(rng)
            if dest.exists():
                continue
            # one trusted root per batch: every file but the first is signed by another
            # hostile chain, so the batch holds trusted and untrusted rows
            path, pem = sign_hostile(MEDIA / "unsigned.mp4", dest, strings, batch)
            root = root or pem.rename(batch / "anchor.pem")
            signed[path] = strings
        if root is not None:
            problems.extend(render_violations(signed, files, root))
        shutil.rmtree(batch, ignore_errors=True)
        done += 10
    return cases, problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cases", type=int, default=5000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--keep", type=Path, help="copy every failing input into this folder")
    ap.add_argument("--rss-limit", type=int, default=1536, help="MiB of data per worker")
    ap.add_argument("--string-cases", type=int, default=100)
    args = ap.parse_args()
    # Every audit worker inherits this at fork: a memory blow-up fails an allocation
    # (an error verdict, a crash) instead of taking the machine.
    hard = resource.getrlimit(resource.RLIMIT_DATA)[1]
    resource.setrlimit(resource.RLIMIT_DATA, (args.rss_limit << 20, hard))

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
        report_mutations(
            args,
            seeds,
            per_seed,
            verdicts,
            seconds,
            peak,
            examples,
            crashes,
            hangs,
            internal,
            false_claims,
        )
        t_dos = time.monotonic()
        dos_lines, _ = run_dos(Path(tmp), args.rss_limit, args.timeout, args.jobs)
        t_dos = time.monotonic() - t_dos
        print(f"denial-of-service shapes ({t_dos:.0f} s):")
        print("\n".join(dos_lines), flush=True)
        t_str = time.monotonic()
        n_strings, string_problems = run_strings(Path(tmp), args.string_cases, rng)
        t_str = time.monotonic() - t_str
    print(
        f"hostile strings: {n_strings} signed files, every string field and the file name, "
        f"through text, table, CSV, JSON, JSON Lines and HTML ({t_str:.0f} s): "
        f"{len(string_problems)} violations"
    )
    for p in sorted(set(string_problems))[:30]:
        print("  " + p)
    dos_failed = any("<--" in ln for ln in dos_lines)
    bad = crashes or hangs or internal or false_claims or dos_failed or string_problems
    return 1 if bad else 0


def report_mutations(
    args: argparse.Namespace,
    seeds: list[Path],
    per_seed: Counter[str],
    verdicts: Counter[str],
    seconds: float,
    peak: float,
    examples: list[str],
    crashes: int,
    hangs: int,
    internal: int,
    false_claims: int,
) -> None:
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"command: python bench/fuzz.py --cases {args.cases} --jobs {args.jobs} --seed {args.seed}"
        f" --string-cases {args.string_cases} --rss-limit {args.rss_limit}"
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
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
