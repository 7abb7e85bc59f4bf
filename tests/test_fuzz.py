"""Hostile input: structure-aware mutations of real assets, run through the isolated audit
workers. Properties: never a crash, a hang, an internal error, unbounded memory, or a
`trusted`/`untrusted` verdict for a file whose credentials say something different.

This is the fast part (a few hundred inputs); `python bench/fuzz.py` runs thousands."""

from __future__ import annotations

import resource
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance import Candidate, TrustConfig, Verdict, inspect_report, run_audit, verify

from .conftest import TEST_ROOT
from .mutations import KINDS, Mutation, apply, claims_differ, seed_files

TRUST = TrustConfig.from_files(anchors=[TEST_ROOT])
SEEDS = seed_files()
ORIGINAL = {p: inspect_report(verify(p, trust=TRUST)).to_dict() for p in SEEDS}

mutation = st.builds(
    Mutation, st.sampled_from(KINDS), st.integers(0, 1 << 30), st.integers(0, 1 << 16)
)
case = st.tuples(st.integers(0, len(SEEDS) - 1), st.lists(mutation, min_size=1, max_size=3))


def run_batch(cases: list[tuple[int, list[Mutation]]], folder: Path) -> list[str]:
    """Verify every mutated file; return the violations found."""
    folder.mkdir(parents=True, exist_ok=True)
    origin: dict[str, Path] = {}
    for i, (seed_index, muts) in enumerate(cases):
        seed = SEEDS[seed_index]
        data = seed.read_bytes()
        for m in muts:
            data = apply(data, m)
        path = folder / f"case{i}{seed.suffix}"
        path.write_bytes(data)
        origin[str(path)] = seed
    problems = []
    reports = list(run_audit([Candidate(p) for p in origin], TRUST, jobs=2, timeout=30))
    assert len(reports) == len(origin)
    for r in reports:
        if r.verdict is Verdict.ERROR and (
            "crashed" in r.reason
            or "did not finish" in r.reason
            or r.reason.startswith("internal error")
        ):
            problems.append(f"{r.path}: {r.reason}")
        if r.verdict in (Verdict.TRUSTED, Verdict.UNTRUSTED):
            differs = claims_differ(r.to_dict(), ORIGINAL[origin[r.path]])
            if differs:
                problems.append(
                    f"{r.path}: {r.verdict.value} but the credentials differ from "
                    f"{origin[r.path].name}"
                )
    return problems


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(case, min_size=40, max_size=40))
def test_mutated_assets(tmp_path_factory: object, batch: list[tuple[int, list[Mutation]]]) -> None:
    folder = tmp_path_factory.mktemp("fuzz")  # type: ignore[attr-defined]
    assert run_batch(batch, folder) == []


def test_worker_memory_stays_bounded() -> None:
    # ru_maxrss of the largest worker that has been reaped, in KiB on Linux
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert peak_mib < 1024, f"a verification worker peaked at {peak_mib:.0f} MiB"


def test_every_mutation_kind_applies_to_every_seed() -> None:
    for seed in SEEDS:
        data = seed.read_bytes()
        for kind in KINDS:
            for a, b in ((0, 0), (12345, 7), (1 << 29, 65535)):
                out = apply(data, Mutation(kind, a, b))
                assert isinstance(out, bytes)
