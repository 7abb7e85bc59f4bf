#!/usr/bin/env python3
"""Coverage-guided fuzzing of `provenance.verify` with atheris (libFuzzer), seeded with the
real assets. A native crash or a timeout ends the run with libFuzzer's report; a Python
exception or a `trusted` verdict for bytes that are not a seed is a finding too.

    pip install atheris
    python bench/atheris_verify.py -runs=20000 -timeout=30 -rss_limit_mb=2048
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import atheris  # noqa: E402

with atheris.instrument_imports():
    from provenance import TrustConfig, Verdict, verify_bytes

from tests.mutations import claims_differ, seed_files  # noqa: E402

TRUST = TrustConfig.from_files(anchors=[ROOT / "fixtures" / "testca" / "test-root-ca.pem"])
SEEDS = [verify_bytes(p.read_bytes(), trust=TRUST).to_dict() for p in seed_files()]


def target(data: bytes) -> None:
    report = verify_bytes(data, trust=TRUST)  # must never raise
    if report.verdict in (Verdict.TRUSTED, Verdict.UNTRUSTED):
        # intact credentials after a change: only bytes nothing signs changed, so what the
        # credentials claim must be exactly what one of the seeds claims
        got = report.to_dict()
        if all(claims_differ(got, seed) for seed in SEEDS):
            raise AssertionError(f"{report.verdict.value} verdict with claims no seed makes")


def main() -> None:
    corpus = Path(tempfile.mkdtemp(prefix="provcheck-atheris-"))
    for p in seed_files():
        shutil.copy(p, corpus / p.name)
    argv = [sys.argv[0], *sys.argv[1:], str(corpus)]
    if not any(a.startswith("-max_len") for a in argv):
        argv.insert(1, "-max_len=1000000")
    atheris.Setup(argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
