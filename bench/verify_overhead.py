#!/usr/bin/env python3
"""Where a ``Verifier`` spends its time beyond a raw c2pa-python ``Reader`` (issue 19).

    .venv/bin/python bench/verify_overhead.py [--rounds 5] [--n 40] FILE_OR_DIR...

Each step adds one thing the report needs to the raw loop of bench/platform_bench.py,
run over the same files in one process, A/B interleaved over --rounds rounds; CPU time
(user + system of this process) per file, median of the rounds, and the ratio to the raw
loop. The files must verify ``Trusted`` under fixtures/testca (e.g. the platform
benchmark's signed clips, /tmp/perfbench/platform-signed).

* raw Reader, validation state: the platform benchmark's comparator
* + provcheck's settings: the trust anchors as one named list, the signer EKUs, TSA trust
* + json(): the manifest store as JSON (manifests, assertions, validation results)
* + crjson(): per-manifest signer certificate details, timestamps, validation results
* + the JUMBF of the store: the signatures' certificate chains (the C2PA claim-signer
  profile provcheck enforces itself)
* ReadContext.read: all of that as provcheck does it (plus the CAWG identity check,
  which reads a second time only when a manifest has identity assertions)
* Verifier(inspect=False).verify: the whole pipeline without container inspection
  (sniffing, structure checks, the judge, the Report)

Below the table, the Python-only steps timed on their own, without the native read.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CA = REPO / "fixtures" / "testca"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--n", type=int, default=40, help="at most this many files")
    a = ap.parse_args()
    files: list[Path] = []
    for p in a.paths:
        files += sorted(p.glob("*.mp4")) if p.is_dir() else [p]
    files = files[: a.n]
    if not files:
        raise SystemExit("no files")

    import c2pa

    from provenance import TrustConfig, Verifier, _c2pa, media, verification
    from provenance._judge import judge

    trust = TrustConfig.from_files(anchors=[CA / "test-root-ca.pem"])
    raw_ctx = c2pa.Context.from_dict(
        {"version": 1, "trust": {"user_anchors": (CA / "test-root-ca.pem").read_text()}}
    )
    our_ctx = c2pa.Context.from_dict(_c2pa.settings_for(trust, _c2pa.ReadOptions()))
    verifier = Verifier(trust, inspect=False)
    read_ctx = verifier._context()

    def raw(
        ctx: Any, js: bool = False, cr: bool = False, jumbf: bool = False
    ) -> Callable[[Path], None]:
        def run(f: Path) -> None:
            with open(f, "rb") as fh, c2pa.Reader("video/mp4", fh, context=ctx) as r:
                if r.get_validation_state() != "Trusted":
                    raise SystemExit(f"{f}: {r.get_validation_state()}")
                store = json.loads(r.json()) if js else None
                if cr:
                    json.loads(r.crjson())
                if jumbf:
                    r.resource_to_stream(
                        f"self#jumbf=/c2pa/{store['active_manifest']}/c2pa.signature",  # type: ignore[index]
                        io.BytesIO(),
                    )

        return run

    def provcheck_read(f: Path) -> None:
        with open(f, "rb") as fh:
            read_ctx.read("video/mp4", fh)

    def provcheck_verify(f: Path) -> None:
        if verifier.verify(f).verdict.value != "trusted":
            raise SystemExit(f"{f}: not trusted")

    steps: dict[str, Callable[[Path], None]] = {
        "raw Reader, validation state": raw(raw_ctx),
        "+ provcheck's settings": raw(our_ctx),
        "+ json()": raw(our_ctx, js=True),
        "+ crjson()": raw(our_ctx, js=True, cr=True),
        "+ the store's JUMBF (certificate chains)": raw(our_ctx, js=True, cr=True, jumbf=True),
        "provcheck ReadContext.read": provcheck_read,
        "Verifier(inspect=False).verify": provcheck_verify,
    }
    res = _ab(steps, files, a.rounds)
    base = statistics.median(res["raw Reader, validation state"])
    load = os.getloadavg()[0]
    sizes = sorted(f.stat().st_size for f in files)
    print(
        f"{len(files)} files ({sizes[0] / 1e6:.1f}-{sizes[-1] / 1e6:.1f} MB), {a.rounds} rounds, "
        f"interleaved; load average {load:.1f}; nproc {os.cpu_count()}\n"
    )
    print("| step | CPU ms per file, median (min-max) | / raw |")
    print("|---|---:|---:|")
    for name, v in res.items():
        m = statistics.median(v)
        print(f"| {name} | {m:.2f} ({min(v):.2f}-{max(v):.2f}) | {m / base:.3f}x |")

    # the Python-only steps, on reads made once
    reads = []
    for f in files:
        with open(f, "rb") as fh:
            reads.append(read_ctx.read("video/mp4", fh))
    base_fields: dict[str, Any] = {
        "path": "x",
        "format": "video/mp4",
        "trust_configured": True,
        "fragments": (),
    }
    index = {f: i for i, f in enumerate(files)}

    def sniff(f: Path) -> None:
        with open(f, "rb") as fh:
            media.sniff_stream(fh)

    def segments(f: Path) -> None:
        with open(f, "rb") as fh:
            verification._media_segment(fh)
            verification._init_segment_only(fh)

    py: dict[str, Callable[[Path], Any]] = {
        "open + sniff": sniff,
        "media.check_structure (box tables)": lambda f: media.check_structure(
            str(f), media.sniff_path(str(f))
        ),
        "fragment checks (segment / init segment)": segments,
        "judge (decode, certificate profile, verdict)": lambda f: judge(
            reads[index[f]], trust, base_fields
        ),
    }
    pres = _ab(py, files, a.rounds)
    print("\n| Python-only step | CPU ms per file, median |")
    print("|---|---:|")
    for name, v in pres.items():
        print(f"| {name} | {statistics.median(v):.3f} |")
    verifier.close()
    return 0


def _ab(
    steps: dict[str, Callable[[Path], Any]], files: list[Path], rounds: int
) -> dict[str, list[float]]:
    """Per step, its CPU ms per file in each round. Interleaved file by file (each file
    goes through every step, in an order that rotates each round), so that the machine's
    drift over a pass falls on all steps alike."""
    for fn in steps.values():  # warm-up (caches, lazy imports)
        fn(files[0])
    names = list(steps)
    res: dict[str, list[float]] = {k: [] for k in names}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        spent = dict.fromkeys(names, 0.0)
        for f in files:
            for name in order:
                t = time.process_time()
                steps[name](f)
                spent[name] += time.process_time() - t
        for name in names:
            res[name].append(spent[name] / len(files) * 1000)
    return res


if __name__ == "__main__":
    sys.exit(main())
