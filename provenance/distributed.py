"""Audit on an existing Dask distributed cluster: one task per file.

The per-file guarantees of the local audit hold on every worker: each Dask worker
thread keeps one verifier child process (a plain subprocess, so it works under the
Dask nanny, whose worker processes may not fork multiprocessing children), and
each file is verified in that child with a time limit. A file that crashes or
hangs the native library kills (or stalls) only that child: the file becomes an
``error`` with the reason, the child is replaced, the audit goes on. The loop
inside the child is the local audit's own (``audit._worker_main``).

The client keeps a bounded number of tasks in flight and yields reports as they
complete, so a million files never become a million futures at once.

Workers need ``pip install 'provcheck[distributed]'`` and must see the files at the
same paths as the client (a shared or replicated file system).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from multiprocessing.connection import Connection
from typing import Any

from .errors import ProvenanceError
from .model import Report, Verdict
from .trust import TrustConfig, TrustSource, _parse_pem

__all__ = ["run_distributed", "worker_children"]

# How long a new verifier child may take to import and load trust before its first file.
_CHILD_START_TIMEOUT = 120.0
_CHILD_CODE = "import sys; from provenance.distributed import _child_main; _child_main(sys.argv[1])"

# Trust as plain data: certificates (cryptography objects) do not pickle, PEM does.
_Wire = tuple[tuple[str, str, str, str], ...]


def _trust_to_wire(trust: TrustConfig) -> _Wire:
    return tuple((s.label, s.kind, s.pem, s.origin) for s in trust.sources())


def _trust_from_wire(wire: _Wire) -> TrustConfig:
    found: dict[str, list[TrustSource]] = {"anchors": [], "allowed": [], "tsa": []}
    for label, kind, pem, origin in wire:
        _, certs = _parse_pem(pem.encode("ascii"), origin)
        found[kind].append(TrustSource(label, kind, pem, origin, certs))
    return TrustConfig(tuple(found["anchors"]), tuple(found["allowed"]), tuple(found["tsa"]))


# ---------------------------------------------------------------------------
# the verifier child (runs in its own process)


def _child_main(fd: str) -> None:
    """Entry of a verifier child: receive the configuration, say ready, then serve files
    with the local audit's worker loop until the parent closes the socket."""
    parent = os.getppid()

    def orphan_watch() -> None:
        # A worker killed with SIGKILL cannot stop its child: the child notices and leaves.
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=orphan_watch, daemon=True).start()
    conn = Connection(int(fd))
    wire, options = conn.recv()
    from .audit import _worker_main
    from .verification import Verifier  # noqa: F401  (imported before "ready": not billed to a file)

    trust = _trust_from_wire(wire)
    conn.send("ready")
    _worker_main(conn, trust, options)


class _Child:
    """One verifier subprocess and the socket to it (parent side, in a Dask worker)."""

    def __init__(self, wire: _Wire, options: dict[str, Any]) -> None:
        mine, theirs = socket.socketpair()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _CHILD_CODE, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
            )
        finally:
            theirs.close()
        self.conn = Connection(mine.detach())
        try:
            self.conn.send((wire, options))
            if not self.conn.poll(_CHILD_START_TIMEOUT) or self.conn.recv() != "ready":
                raise EOFError
        except (EOFError, OSError) as exc:
            self.stop(kill=True)
            raise ProvenanceError(
                f"the verifier process could not start ({self._how()}); "
                "is provcheck installed on this worker?"
            ) from exc

    def _how(self) -> str:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        code = self.proc.returncode
        if code is None:
            return "still running"
        return f"killed by signal {-code}" if code < 0 else f"exit {code}"

    def verify(self, path: str, timeout: float, trust_configured: bool) -> tuple[Report, bool]:
        """The file's report, and whether this child can take another file."""
        try:
            self.conn.send(path)
            if self.conn.poll(timeout):
                return self.conn.recv(), True
        except (EOFError, OSError):
            return _error(
                path,
                f"the verifier crashed on this file ({self._how()}); the audit went on",
                trust_configured,
            ), False
        self.stop(kill=True)
        return _error(
            path,
            f"verification did not finish within {timeout:g} s "
            "(the file was abandoned; the audit went on)",
            trust_configured,
        ), False

    def stop(self, kill: bool = False) -> None:
        if kill:
            with contextlib.suppress(OSError):
                self.proc.kill()
        else:
            with contextlib.suppress(OSError):
                self.conn.send(None)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.conn.close()


def _error(path: str, reason: str, trust_configured: bool = True) -> Report:
    return Report(
        path=path, verdict=Verdict.ERROR, reason=reason, trust_configured=trust_configured
    )


# Idle verifier children of this Dask worker process, by configuration token. A worker
# thread takes one for a file and puts it back; a new configuration retires the others.
_idle: dict[str, list[_Child]] = {}
_busy: dict[int, str] = {}
_lock = threading.Lock()


def worker_children() -> dict[str, list[int]]:
    """Process ids of this worker's verifier children, idle and busy (for operators and
    tests: ``client.run(worker_children)``)."""
    with _lock:
        out = {"idle": [c.proc.pid for cs in _idle.values() for c in cs]}
        out["busy"] = list(_busy)
        return out


def _audit_task(
    path: str, wire: _Wire, options: dict[str, Any], timeout: float, token: str
) -> Report:
    """One Dask task: verify one file in an isolated child of this worker."""
    retired: list[_Child] = []
    with _lock:
        for other in [t for t in _idle if t != token]:
            retired.extend(_idle.pop(other))
        pool = _idle.setdefault(token, [])
        child = pool.pop() if pool else None
    for old in retired:
        old.stop()
    trust_configured = any(kind != "tsa" for _, kind, _, _ in wire)
    if child is None:
        try:
            child = _Child(wire, options)
        except ProvenanceError as exc:
            return _error(path, str(exc), trust_configured)
    with _lock:
        _busy[child.proc.pid] = path
    try:
        report, healthy = child.verify(path, timeout, trust_configured)
    finally:
        with _lock:
            _busy.pop(child.proc.pid, None)
    if healthy:
        with _lock:
            _idle.setdefault(token, []).append(child)
    return report


def _worker_ready() -> str:
    """Preflight on a worker: provcheck imports there."""
    from . import __version__

    return str(__version__)


# ---------------------------------------------------------------------------
# the client side


def run_distributed(
    paths: Iterable[str],
    trust: TrustConfig,
    scheduler: str,
    *,
    timeout: float,
    options: dict[str, Any],
    progress: Callable[[Report], None] | None = None,
    in_flight: int | None = None,
    connect_timeout: float = 30.0,
) -> Iterator[Report]:
    """Verify ``paths`` on the Dask cluster at ``scheduler`` (``tcp://host:8786``); yields
    reports in order of completion. At most ``in_flight`` tasks are submitted at once
    (default: four per worker thread)."""
    try:
        # untyped library: kept behind Any
        dd: Any = importlib.import_module("dask.distributed")
    except ImportError as exc:
        raise ProvenanceError(
            "auditing on a Dask cluster needs Dask: pip install 'provcheck[distributed]'"
        ) from exc
    try:
        client = dd.Client(
            scheduler, timeout=connect_timeout, set_as_default=False, asynchronous=False
        )
    except (OSError, TimeoutError, ValueError) as exc:
        raise ProvenanceError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
    futures: dict[Any, str] = {}
    try:
        try:
            client.wait_for_workers(1, timeout=connect_timeout)
            client.submit(_worker_ready, pure=False).result(timeout=connect_timeout)
        except Exception as exc:
            raise ProvenanceError(
                f"the Dask cluster at {scheduler} cannot run provcheck ({type(exc).__name__}: "
                f"{exc}); install it on every worker: pip install 'provcheck[distributed]'"
            ) from exc
        wire = _trust_to_wire(trust)
        token = hashlib.sha256(
            json.dumps([wire, options], sort_keys=True, default=str).encode()
        ).hexdigest()[:16]
        [wire_future] = client.scatter([wire], broadcast=True)
        threads = sum(client.nthreads().values()) or 1
        limit = max(1, in_flight or 4 * threads)
        run_id = uuid.uuid4().hex[:8]
        todo = iter(paths)
        counter = itertools.count()
        done = dd.as_completed(loop=client.loop)

        def submit(batch: Sequence[str]) -> None:
            for p in batch:
                fut = client.submit(
                    _audit_task,
                    p,
                    wire_future,
                    options,
                    timeout,
                    token,
                    key=f"provcheck-verify-{run_id}-{next(counter)}",
                )
                futures[fut] = p
                done.add(fut)

        submit(list(itertools.islice(todo, limit)))
        for fut in done:
            path = futures.pop(fut)
            try:
                report = fut.result()
            except Exception as exc:  # a worker lost or a task failed: that file's error
                report = _error(
                    path,
                    f"the Dask task failed ({type(exc).__name__}: {exc}); the audit went on",
                    trust.has_signer_trust,
                )
            if progress:
                progress(report)
            yield report
            submit(list(itertools.islice(todo, 1)))
    finally:
        if futures:
            with contextlib.suppress(Exception):
                client.cancel(list(futures))
        with contextlib.suppress(Exception):
            client.close()
