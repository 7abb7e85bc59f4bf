#!/usr/bin/env python3
"""Does the video fingerprint find transformed copies, and only them?

    python bench/fingerprint_accuracy.py            # 20 originals, 200 unrelated, 320x240
    python bench/fingerprint_accuracy.py --quick    # 6 originals, 40 unrelated, 160x120

Generates varied synthetic clips with PyAV (tests/videogen.py: textured backgrounds,
moving shapes, pans, cuts; a quarter of them on a static background shared with some
unrelated clips), applies every transform in ``videogen.TRANSFORMS`` to each original,
and fingerprints everything. Then:

* recovery per transform: ``compare(original, copy)`` finds a match at the right
  offset; and a repository lookup (originals + unrelated clips stored) returns the
  original first;
* false matches: every original and copy against every unrelated clip, and every
  pair of unrelated clips (shared-background pairs counted separately) — any match
  is false.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from provenance.fingerprint import MIN_CORRELATION, Match, VideoFingerprint, compare, compute
from provenance.repository import SQLiteRepository
from tests.videogen import TRANSFORMS, ClipSpec, make_clip, transform

EXPECTED_OFFSET = {"trim 1 s both ends": -1.0, "trim 2 s both ends": -2.0}


def _background(index: int) -> int | None:
    """Every fourth original has a static background; some unrelated clips share it."""
    return 100 + index if index % 4 == 0 else None


def make_original(i: int, size: tuple[int, int], seconds: float, work: str) -> dict[str, bytes]:
    """An original and all its transformed copies, fingerprinted; the files are deleted."""
    folder = Path(work) / f"o{i}"
    folder.mkdir(parents=True, exist_ok=True)
    w, h = size
    spec = ClipSpec(seed=i, width=w, height=h, seconds=seconds, background_seed=_background(i))
    src = make_clip(folder / "original.mp4", spec)
    out = {"original": compute(src).to_bytes()}
    for n, name in enumerate(TRANSFORMS):
        out[name] = compute(transform(name, src, folder / f"t{n}")).to_bytes()
    shutil.rmtree(folder)
    return out


def make_unrelated(
    j: int, originals: int, size: tuple[int, int], work: str
) -> tuple[bytes, int | None]:
    """An unrelated clip: another seed, 5-12 s, 24/25/30 fps. A third are on a static
    background, shared with an original or with about five other unrelated clips."""
    w, h = size
    background: int | None = None
    if j % 3 == 0:  # a third on static backgrounds
        static_originals = [i for i in range(originals) if _background(i) is not None]
        k = j // 3
        if k % 4 == 0 and static_originals:  # an original's own background
            background = 100 + static_originals[(k // 4) % len(static_originals)]
        else:  # groups of about six unrelated clips on one background
            background = 1000 + k // 8
    spec = ClipSpec(
        seed=100_000 + j,
        width=w,
        height=h,
        seconds=5.0 + (j * 7) % 8,
        fps=(24, 25, 30)[j % 3],
        background_seed=background,
    )
    path = Path(work) / f"u{j}.mp4"
    fp = compute(make_clip(path, spec)).to_bytes()
    path.unlink()
    return fp, background


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="6 originals, 40 unrelated, 160x120")
    ap.add_argument("--originals", type=int)
    ap.add_argument("--unrelated", type=int)
    ap.add_argument("--size", help="WxH of the generated clips (default 320x240)")
    ap.add_argument("--seconds", type=float, default=8.0, help="length of the originals")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    originals = args.originals or (6 if args.quick else 20)
    unrelated = args.unrelated or (40 if args.quick else 200)
    w, h = map(int, (args.size or ("160x120" if args.quick else "320x240")).split("x"))

    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}, PyAV {av.__version__} (FFmpeg "
        f"{getattr(av, 'ffmpeg_version_info', '?')})"
    )
    print(
        f"clips: {originals} originals x {len(TRANSFORMS)} transforms, {unrelated} unrelated; "
        f"{w}x{h}, originals {args.seconds:g} s at 25 fps; {args.workers} worker processes"
    )
    started = time.monotonic()
    work = tempfile.mkdtemp(prefix="provcheck-accuracy-")
    copies: dict[int, dict[str, VideoFingerprint]] = {}
    by_index: dict[int, tuple[VideoFingerprint, int | None]] = {}
    with ProcessPoolExecutor(args.workers) as pool:
        jobs = {
            pool.submit(make_original, i, (w, h), args.seconds, work): ("o", i)
            for i in range(originals)
        }
        jobs.update(
            {
                pool.submit(make_unrelated, j, originals, (w, h), work): ("u", j)
                for j in range(unrelated)
            }
        )
        for done, job in enumerate(as_completed(jobs), 1):
            kind, n = jobs[job]
            if kind == "o":
                copies[n] = {k: VideoFingerprint.from_bytes(v) for k, v in job.result().items()}
            else:
                blob, background = job.result()
                by_index[n] = (VideoFingerprint.from_bytes(blob), background)
            if sys.stderr.isatty():
                print(f"\r  generated + fingerprinted {done}/{len(jobs)}", end="", file=sys.stderr)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)
    others = [by_index[j] for j in range(unrelated)]
    generated = time.monotonic() - started

    # Repository with every original and every unrelated clip.
    repo_dir = tempfile.mkdtemp(prefix="provcheck-accuracy-repo-")
    repo = SQLiteRepository(Path(repo_dir) / "manifests.sqlite3")
    repo.add_many(
        [(f"original {i}".encode(), copies[i]["original"], {"original": i}, None) for i in copies]
        + [
            (f"unrelated {j}".encode(), fp, {"unrelated": j}, None)
            for j, (fp, _) in enumerate(others)
        ]
    )

    print(
        f"\n{'transform':<36} {'recovered':>9} {'rate':>7} {'sim med':>8} {'corr med':>9} "
        f"{'index top-1':>12}"
    )
    total_ok = total = 0
    weakest = 1.0
    for name in TRANSFORMS:
        ok = top1 = 0
        sims: list[float] = []
        corrs: list[float] = []
        for i in range(originals):
            match: Match | None = compare(copies[i]["original"], copies[i][name])
            expected = EXPECTED_OFFSET.get(name, 0.0)
            if match is not None and abs(match.offset - expected) <= 0.25:
                ok += 1
                sims.append(match.similarity)
                corrs.append(match.correlation)
                weakest = min(weakest, match.correlation)
            found = repo.lookup(copies[i][name], limit=1)
            top1 += bool(found) and found[0][0].summary.get("original") == i
        total_ok += ok
        total += originals
        sim = f"{statistics.median(sims):.2f}" if sims else "-"
        corr = f"{statistics.median(corrs):.2f}" if corrs else "-"
        print(
            f"{name:<36} {ok:>4}/{originals:<4} {100 * ok / originals:>6.1f}% {sim:>8} {corr:>9} "
            f"{top1:>7}/{originals:<4}"
        )
    print(f"{'all transforms':<36} {total_ok:>4}/{total:<4} {100 * total_ok / total:>6.1f}%")

    # False matches. Each pair is also compared with the correlation test switched off,
    # to see how close unrelated clips come: which pairs only that test rejects.
    near: list[float] = []

    def wrong(a: VideoFingerprint, b: VideoFingerprint) -> bool:
        loose = compare(a, b, min_correlation=-1.0)
        if loose is not None:
            near.append(loose.correlation)
        return compare(a, b) is not None

    false_copy = pairs_copy = 0
    for i in range(originals):
        for fp in copies[i].values():
            for other, _ in others:
                pairs_copy += 1
                false_copy += wrong(fp, other)
    false_unrel = pairs_unrel = false_bg = pairs_bg = 0
    for (a, bga), (b, bgb) in itertools.combinations(others, 2):
        same_bg = bga is not None and bga == bgb
        hit = wrong(a, b)
        pairs_unrel += 1
        false_unrel += hit
        pairs_bg += same_bg
        false_bg += hit and same_bg
    false_orig = pairs_orig = 0
    for i, j in itertools.combinations(range(originals), 2):
        pairs_orig += 1
        false_orig += wrong(copies[i]["original"], copies[j]["original"])
    shared_with_original = sum(1 for _, bg in others if bg is not None and bg < 1000) * (
        len(TRANSFORMS) + 1
    )
    false_lookup = 0
    for j, (fp, _) in enumerate(others):
        false_lookup += any(e.summary.get("unrelated") != j for e, _ in repo.lookup(fp))
    repo.close()
    shutil.rmtree(repo_dir, ignore_errors=True)
    print("\nfalse matches (any match here is wrong):")
    print(
        f"  originals and copies vs unrelated clips: {false_copy} of {pairs_copy:,} pairs "
        f"({shared_with_original:,} of them on the original's own static background)"
    )
    print(
        f"  unrelated vs unrelated:                  {false_unrel} of {pairs_unrel:,} pairs "
        f"({false_bg} of the {pairs_bg} pairs sharing a static background)"
    )
    print(f"  originals vs originals:                  {false_orig} of {pairs_orig:,} pairs")
    print(
        "  repository lookups of unrelated clips returning another entry: "
        f"{false_lookup} of {unrelated}"
    )
    print(
        f"\nmargin: weakest true match has correlation {weakest:.2f}; {len(near)} unrelated "
        f"pairs pass every test but correlation, the highest at "
        f"{max(near) if near else float('nan'):.2f} (threshold {MIN_CORRELATION})"
    )
    print(
        f"\ntime: {generated:.0f} s generating + fingerprinting, "
        f"{time.monotonic() - started:.0f} s total"
    )


if __name__ == "__main__":
    main()
