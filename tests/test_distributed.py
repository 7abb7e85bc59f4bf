"""`provcheck audit --scheduler`: one task per file on a real Dask cluster (a scheduler and
two workers on loopback, tests/dask_cluster.py). The per-file guarantees hold there: a
verifier child that crashes or hangs on a file costs that file only."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from provcheck.app import cli
from provenance import ProvenanceError, TrustConfig, Verdict, discover, run_audit
from provenance.distributed import run_distributed, worker_children

from .conftest import TEST_ROOT, media
from .dask_cluster import DaskCluster, dask_cluster  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow

EXPECTED = {
    "ai_generated.mp4": ("trusted", "fully"),
    "untrusted.mp4": ("untrusted", "no"),
    "tampered.mp4": ("tampered", "fully"),
    "unsigned.mp4": ("unsigned", "unknown"),
    "invalid.mp4": ("invalid", "no"),
    "garbage.mp4": ("error", "unknown"),
    "broken-link.mp4": ("error", "unknown"),
    "nested/photo_captured.jpg": ("trusted", "no"),
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "downloads"
    (root / "nested").mkdir(parents=True)
    for name in ("ai_generated.mp4", "untrusted.mp4", "tampered.mp4", "unsigned.mp4"):
        shutil.copy(media(name), root / name)
    shutil.copy(media("invalid.mp4"), root / "invalid.mp4")
    shutil.copy(media("photo_captured.jpg"), root / "nested" / "photo_captured.jpg")
    (root / "garbage.mp4").write_bytes(os.urandom(4096))
    (root / "readme.txt").write_text("not media\n")
    (root / "broken-link.mp4").symlink_to(root / "does-not-exist.mp4")
    return root


@pytest.fixture
def client(dask_cluster: DaskCluster) -> Iterator[Any]:  # noqa: F811
    from dask.distributed import Client

    with Client(dask_cluster.address, timeout=30, set_as_default=False) as c:
        yield c


def _trust() -> TrustConfig:
    return TrustConfig.from_files(anchors=[TEST_ROOT])


def _rel(path: str, root: Path) -> str:
    return str(Path(path).relative_to(root))


def test_cluster_gives_the_same_results_as_local(tree: Path, dask_cluster: DaskCluster) -> None:  # noqa: F811
    candidates, _ = discover([tree], recursive=True)
    local = sorted(
        (_rel(r.path, tree), r.verdict.value, r.ai_generated.value, r.reason)
        for r in run_audit(candidates, _trust(), jobs=2)
    )
    seen: list[str] = []
    remote = sorted(
        (_rel(r.path, tree), r.verdict.value, r.ai_generated.value, r.reason)
        for r in run_audit(
            candidates,
            _trust(),
            scheduler=dask_cluster.address,
            progress=lambda r: seen.append(r.path),
        )
    )
    assert remote == local
    assert {k: (v, a) for k, v, a, _ in remote} == EXPECTED
    assert len(seen) == len(EXPECTED)

    args = ["audit", str(tree), "--scheduler", dask_cluster.address, "--format", "json"]
    result = CliRunner().invoke(cli, [*args, "--trust", str(TEST_ROOT)], catch_exceptions=False)
    doc = json.loads(result.stdout)
    got = {_rel(r["path"], tree): (r["verdict"], r["ai_generated"]) for r in doc["results"]}
    assert got == EXPECTED
    assert doc["summary"]["skipped"] == 1
    assert result.exit_code == 4
    assert "Traceback" not in result.stderr


def _children_by_worker(client: Any) -> dict[str, dict[str, list[int]]]:
    return dict(client.run(worker_children))


def test_a_crashing_or_hanging_child_costs_only_its_file(
    tree: Path,
    dask_cluster: DaskCluster,  # noqa: F811
    client: Any,
) -> None:
    trust = _trust()
    candidates, _ = discover([tree], recursive=True)
    # Warm up until each worker keeps one idle verifier child for this configuration.
    for _ in range(10):
        list(run_audit(candidates, trust, scheduler=dask_cluster.address))
        idle = {w: c["idle"] for w, c in _children_by_worker(client).items()}
        if len(idle) == 2 and all(len(pids) == 1 for pids in idle.values()):
            break
    else:
        pytest.fail(f"the workers did not keep one verifier child each: {idle}")
    crash_pid, hang_pid = (pids[0] for pids in idle.values())
    # Both children stop dead, as a native hang looks from outside. Once the first has
    # been handed a file it gets SIGSEGV (a native crash); the other stays hung.
    os.kill(crash_pid, signal.SIGSTOP)
    os.kill(hang_pid, signal.SIGSTOP)

    def crash_when_busy() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            busy = {p for c in _children_by_worker(client).values() for p in c["busy"]}
            if crash_pid in busy:
                break
            time.sleep(0.1)
        os.kill(crash_pid, signal.SIGSEGV)
        os.kill(crash_pid, signal.SIGCONT)

    killer = threading.Thread(target=crash_when_busy)
    killer.start()
    start = time.monotonic()
    try:
        reports = list(run_audit(candidates, trust, scheduler=dask_cluster.address, timeout=6))
    finally:
        killer.join()
        for pid in (crash_pid, hang_pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    assert time.monotonic() - start < 90
    assert len(reports) == len(EXPECTED)
    crashed = [r for r in reports if "crashed" in r.reason]
    hung = [r for r in reports if "did not finish within 6 s" in r.reason]
    assert len(crashed) == 1 and "killed by signal 11" in crashed[0].reason
    assert len(hung) == 1 and hung[0].verdict is Verdict.ERROR
    assert crashed[0].verdict is Verdict.ERROR
    for r in reports:
        if r not in crashed and r not in hung:
            assert (r.verdict.value, r.ai_generated.value) == EXPECTED[_rel(r.path, tree)]
    # The workers replaced their children and go on.
    again = {
        _rel(r.path, tree): r.verdict.value
        for r in run_audit(candidates, trust, scheduler=dask_cluster.address)
    }
    assert again == {k: v for k, (v, _) in EXPECTED.items()}


def test_resume_on_the_cluster(tree: Path, tmp_path: Path, dask_cluster: DaskCluster) -> None:  # noqa: F811
    report = tmp_path / "report.jsonl"
    args = ["audit", str(tree), "--format", "jsonl", "-o", str(report), "--resume"]
    args += ["--trust", str(TEST_ROOT)]
    first = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert first.exit_code == 4
    lines = report.read_text().splitlines()
    assert len(lines) == len(EXPECTED) + 1
    # as if killed after three results, mid-way through writing the fourth
    report.write_text("\n".join(lines[:3]) + "\n" + lines[3][:25])
    second = CliRunner().invoke(
        cli, [*args, "--scheduler", dask_cluster.address], catch_exceptions=False
    )
    assert second.exit_code == 4, second.stderr
    assert f"3 of {len(EXPECTED)} file(s) already reported" in second.stderr
    records = [json.loads(x) for x in report.read_text().splitlines()]
    results = [r for r in records if "path" in r]
    assert sorted(_rel(r["path"], tree) for r in results) == sorted(EXPECTED)
    assert records[-1]["summary"]["files"] == len(EXPECTED)
    assert records[-1]["exit_code"] == 4


def test_an_unreachable_scheduler_is_a_clear_error(tree: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(ProvenanceError, match=r"cannot reach the Dask scheduler at tcp://127"):
        list(
            run_distributed(
                [str(tree / "unsigned.mp4")],
                _trust(),
                f"tcp://127.0.0.1:{port}",
                timeout=10,
                options={},
                connect_timeout=2,
            )
        )
    assert time.monotonic() - start < 30
