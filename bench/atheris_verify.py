#!/usr/bin/env python3
"""Coverage-guided fuzzing of `provenance.verify` with atheris (libFuzzer), seeded with the
real assets, plus a file signed with hostile strings in every field and an H.264 clip that
declares 16000x16000 frames. A native crash or a timeout ends the run with libFuzzer's
report; a Python exception, a `trusted` verdict for bytes that are not a seed, or a report
whose text rendering holds a raw control character (terminal escapes) is a finding too.

    pip install atheris
    python bench/atheris_verify.py -runs=20000 -timeout=30 -rss_limit_mb=2048
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import atheris  # noqa: E402

with atheris.instrument_imports():
    from provenance import TrustConfig, Verdict, verify_bytes

from provcheck.render import render_text  # noqa: E402
from tests.mutations import (  # noqa: E402
    PAYLOADS,
    STRING_FIELDS,
    claims_differ,
    huge_dimensions,
    seed_files,
    sign_hostile,
    unsafe_on_screen,
)

_SGR = re.compile(r"\x1b\[[0-9;]*m")


def extra_seeds(folder: Path) -> tuple[list[Path], Path]:
    """A file signed with every hostile payload in every string field (its root is trusted
    below), and a clip declaring 16000x16000 frames."""
    unsigned = ROOT / "fixtures" / "media" / "unsigned.mp4"
    signed, root = sign_hostile(
        unsigned, folder / "hostile.mp4", dict.fromkeys(STRING_FIELDS, "".join(PAYLOADS)), folder
    )
    huge = folder / "huge.mp4"
    huge.write_bytes(huge_dimensions(unsigned.read_bytes()))
    return [signed, huge], root


EXTRA_DIR = Path(tempfile.mkdtemp(prefix="provcheck-atheris-seeds-"))
EXTRA, HOSTILE_ROOT = extra_seeds(EXTRA_DIR)
TRUST = TrustConfig.from_files(
    anchors=[ROOT / "fixtures" / "testca" / "test-root-ca.pem", HOSTILE_ROOT]
)
SEEDS = [verify_bytes(p.read_bytes(), trust=TRUST).to_dict() for p in [*seed_files(), *EXTRA]]


def target(data: bytes) -> None:
    report = verify_bytes(data, trust=TRUST)  # must never raise
    # our own colours (SGR) are the only escape sequences allowed
    shown = _SGR.sub("", render_text(report, verbose=True, detailed=True))
    if unsafe_on_screen(shown):
        raise AssertionError(f"raw control characters on screen: {unsafe_on_screen(shown)!r}")
    if report.verdict in (Verdict.TRUSTED, Verdict.UNTRUSTED):
        # intact credentials after a change: only bytes nothing signs changed, so what the
        # credentials claim must be exactly what one of the seeds claims
        got = report.to_dict()
        if all(claims_differ(got, seed) for seed in SEEDS):
            raise AssertionError(f"{report.verdict.value} verdict with claims no seed makes")


def main() -> None:
    corpus = Path(tempfile.mkdtemp(prefix="provcheck-atheris-"))
    for p in [*seed_files(), *EXTRA]:
        shutil.copy(p, corpus / p.name)
    argv = [sys.argv[0], *sys.argv[1:], str(corpus)]
    if not any(a.startswith("-max_len") for a in argv):
        argv.insert(1, "-max_len=1000000")
    atheris.Setup(argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
