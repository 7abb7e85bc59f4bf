"""A real Dask cluster on loopback for the tests: one `dask scheduler` and two
`dask worker` processes (with their nannies, as operators run them), free ports,
one thread each, no dashboard; torn down after the session."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["DaskCluster", "dask_cluster", "local_cluster"]

WORKERS = 2


@dataclass(frozen=True)
class DaskCluster:
    address: str
    procs: tuple[subprocess.Popen[bytes], ...]
    logs: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dask_command() -> list[str]:
    beside = Path(sys.executable).with_name("dask")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("dask")
    if found is None:
        raise RuntimeError(
            "the dask command is not installed: pip install 'provcheck[distributed]'"
        )
    return [found]


def _stop(procs: tuple[subprocess.Popen[bytes], ...]) -> None:
    # Each process leads its own session: the group takes the nanny's worker and the
    # verifier children with it.
    for p in reversed(procs):
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 15
    for p in reversed(procs):
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()


@contextmanager
def local_cluster(
    workdir: Path, workers: int = WORKERS, nthreads: int = 1
) -> Iterator[DaskCluster]:
    """Start a scheduler and ``workers`` workers on 127.0.0.1; stop them all on exit."""
    from dask.distributed import Client

    dask = _dask_command()
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ)
    env.pop("PYTHONFAULTHANDLER", None)  # a crash in a verifier child is its exit signal
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str, args: list[str]) -> None:
        with open(workdir / f"{name}.log", "wb") as log:
            procs.append(
                subprocess.Popen(
                    dask + args,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    cwd=workdir,
                    env=env,
                    start_new_session=True,
                )
            )

    try:
        start(
            "scheduler",
            ["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        )
        for i in range(workers):
            start(
                f"worker{i}",
                [
                    "worker",
                    address,
                    "--host",
                    "127.0.0.1",
                    "--nthreads",
                    str(nthreads),
                    "--nworkers",
                    "1",
                    "--no-dashboard",
                    "--local-directory",
                    str(workdir / f"w{i}"),
                ],
            )
        with Client(address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=120)
        yield DaskCluster(address, tuple(procs), workdir)
    finally:
        _stop(tuple(procs))


@pytest.fixture(scope="session")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    pytest.importorskip("distributed")
    with local_cluster(tmp_path_factory.mktemp("dask")) as cluster:
        yield cluster
