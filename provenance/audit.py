"""Audit many files: discovery, isolated parallel verification, a summary.

Each file is verified in a worker process with a time limit. A file that makes the
native library crash or hang kills (or stalls) only its worker: it is reported as
``error`` with the reason, the worker is replaced, and the audit goes on.

Discovery never opens a special file: a FIFO named ``x.mp4`` is reported, not read.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import stat
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from . import media
from .model import Report, Verdict
from .trust import TrustConfig

__all__ = ["Candidate", "Skipped", "AuditSummary", "discover", "run_audit", "summarize"]

DEFAULT_TIMEOUT = 120.0
_MEDIA_SUFFIXES = {
    ".mp4",
    ".m4v",
    ".mov",
    ".m4a",
    ".3gp",
    ".heic",
    ".heif",
    ".avif",
    ".jpg",
    ".jpeg",
    ".png",
    ".webp",
    ".gif",
    ".tif",
    ".tiff",
    ".wav",
    ".mp3",
    ".flac",
    ".avi",
    ".mkv",
    ".webm",
    ".m4s",
    ".dng",
}


@dataclass(frozen=True)
class Candidate:
    """A file to verify, or a problem found while looking (reported as an error)."""

    path: str
    problem: str | None = None


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass(frozen=True)
class AuditSummary:
    files: int
    verdicts: dict[str, int]
    ai_generated: dict[str, int]
    skipped: int
    stripped: int
    seconds: float
    skipped_files: tuple[Skipped, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "verdicts": self.verdicts,
            "ai_generated": self.ai_generated,
            "skipped": self.skipped,
            "skipped_files": [{"path": s.path, "reason": s.reason} for s in self.skipped_files],
            "stripped": self.stripped,
            "seconds": round(self.seconds, 3),
        }


def _classify(path: Path, explicit: bool) -> Candidate | Skipped | None:
    """One directory entry: a media candidate, a problem to report, or a skip."""
    name = os.fspath(path)
    try:
        lst = os.lstat(path)
    except OSError as exc:
        return Candidate(name, f"cannot access: {exc.strerror or exc}")
    if stat.S_ISLNK(lst.st_mode):
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return Candidate(name, "broken symbolic link")
        except OSError as exc:
            if exc.errno == 40:  # ELOOP
                return Candidate(name, "symbolic link loop")
            return Candidate(name, f"cannot follow symbolic link: {exc.strerror or exc}")
    else:
        st = lst
    if stat.S_ISDIR(st.st_mode):
        return None
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a FIFO"
            if stat.S_ISFIFO(st.st_mode)
            else "a socket"
            if stat.S_ISSOCK(st.st_mode)
            else "a device or special file"
        )
        return Candidate(name, f"not a regular file ({kind}); not read")
    if not os.access(path, os.R_OK):
        return Candidate(name, "permission denied")
    try:
        kind_ = media.sniff_path(path)
    except Exception as exc:  # unreadable despite access(): report, never crash discovery
        return Candidate(name, str(exc))
    if kind_ is None:
        if explicit or path.suffix.lower() in _MEDIA_SUFFIXES:
            # named on the command line, or its name claims media: verify and report it
            return Candidate(name)
        return Skipped(name, "not a recognised media format")
    return Candidate(name)


def discover(
    paths: Sequence[str | os.PathLike[str]],
    *,
    recursive: bool = False,
) -> tuple[list[Candidate], list[Skipped]]:
    """Files to verify (in a stable order) and files skipped as non-media."""
    found: list[Candidate] = []
    skipped: list[Skipped] = []
    seen_dirs: set[tuple[int, int]] = set()

    def take(entry: Candidate | Skipped | None) -> None:
        if isinstance(entry, Candidate):
            found.append(entry)
        elif isinstance(entry, Skipped):
            skipped.append(entry)

    def walk(directory: Path, depth: int) -> None:
        try:
            st = os.stat(directory)
        except OSError as exc:
            found.append(Candidate(os.fspath(directory), f"cannot access: {exc.strerror}"))
            return
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:  # a symlink back into the tree: do not loop
            return
        seen_dirs.add(key)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            found.append(Candidate(os.fspath(directory), f"cannot list: {exc.strerror}"))
            return
        for entry in entries:
            p = Path(entry.path)
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError:
                is_dir = False
            if is_dir:
                if recursive:
                    walk(p, depth + 1)
                continue
            take(_classify(p, explicit=False))

    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            walk(p, 0)
        else:
            entry = _classify(p, explicit=True)
            if entry is None:
                walk(p, 0)
            else:
                take(entry)
    return found, skipped


# ---------------------------------------------------------------------------
# isolated workers


def _worker_main(conn: Connection, trust: TrustConfig, options: dict[str, Any]) -> None:
    # The very pipeline `verify` runs (provenance.verification.Verifier), in an isolated
    # process; the repository is opened there from its spec (a path or any store URL).
    from .verification import Verifier

    repository = None
    if options.get("repository") is not None:
        from .repository import default_repository, open_repository

        spec = options["repository"]
        repository = open_repository(spec) if spec else default_repository()
    with Verifier(
        trust,
        remote_manifests=options.get("remote_manifests", False),
        ocsp=options.get("ocsp", False),
        repository=repository,
        inspect=options.get("inspect", True),
        thumbnails=options.get("thumbnails", False),
    ) as verifier:
        while True:
            try:
                path = conn.recv()
            except EOFError:
                return
            if path is None:
                return
            try:
                report = verifier.verify(path)
            except Exception as exc:  # one file must never end the worker
                report = Report(
                    path=path,
                    verdict=Verdict.ERROR,
                    reason=f"internal error: {type(exc).__name__}: {exc}",
                    trust_configured=trust.has_signer_trust,
                )
            conn.send(report)


class _Worker:
    def __init__(self, ctx: Any, trust: TrustConfig, options: dict[str, Any]) -> None:
        parent, child = ctx.Pipe()
        self.conn: Connection = parent
        self.proc = ctx.Process(target=_worker_main, args=(child, trust, options), daemon=True)
        self.proc.start()
        child.close()
        self.path: str | None = None
        self.started = 0.0

    def give(self, path: str) -> None:
        self.path = path
        self.started = time.monotonic()
        self.conn.send(path)

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.proc.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                pass
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(timeout=5)
        self.conn.close()


def _mp_context() -> Any:
    # fork is fast and the parent holds no native C2PA state; elsewhere, spawn.
    methods = mp.get_all_start_methods()
    return mp.get_context("fork" if "fork" in methods else "spawn")


def run_audit(
    candidates: Sequence[Candidate],
    trust: TrustConfig,
    *,
    jobs: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    remote_manifests: bool = False,
    ocsp: bool = False,
    inspect: bool = True,
    thumbnails: bool = False,
    repository: str | None = None,
    progress: Callable[[Report], None] | None = None,
    scheduler: str | None = None,
) -> Iterator[Report]:
    """Verify candidates in ``jobs`` isolated worker processes; yields reports as they
    finish (order of completion). Problems found in discovery become error reports.
    With ``scheduler`` (``tcp://host:8786``), one task per file on that Dask cluster."""
    options = {
        "remote_manifests": remote_manifests,
        "ocsp": ocsp,
        "inspect": inspect,
        "thumbnails": thumbnails,
        "repository": repository,
    }
    todo: list[str] = []
    for c in candidates:
        if c.problem is not None:
            found = Report(
                path=c.path,
                verdict=Verdict.ERROR,
                reason=c.problem,
                trust_configured=trust.has_signer_trust,
            )
            if progress:
                progress(found)
            yield found
        else:
            todo.append(c.path)
    if not todo:
        return
    # --- Dask distributed (provenance.distributed) ---
    if scheduler is not None:
        from .distributed import run_distributed

        yield from run_distributed(
            todo, trust, scheduler, timeout=timeout, options=options, progress=progress
        )
        return
    # --- end Dask distributed ---
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    ctx = _mp_context()
    queue = list(reversed(todo))
    workers = [_Worker(ctx, trust, options) for _ in range(jobs)]
    try:
        for w in workers:
            if queue:
                w.give(queue.pop())
        while any(w.path is not None for w in workers):
            busy = [w for w in workers if w.path is not None]
            now = time.monotonic()
            wait_for = max(0.0, min(w.started + timeout - now for w in busy))
            ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=wait_for)
            for i, w in enumerate(workers):
                if w.path is None:
                    continue
                report: Report | None = None
                replace = False
                if w.conn in ready:
                    try:
                        report = w.conn.recv()
                    except (EOFError, OSError):
                        report = _crash_report(w)
                        replace = True
                elif w.proc.sentinel in ready and not w.proc.is_alive():
                    report = _crash_report(w)
                    replace = True
                elif time.monotonic() - w.started >= timeout:
                    report = Report(
                        path=w.path,
                        verdict=Verdict.ERROR,
                        reason=f"verification did not finish within {timeout:g} s "
                        "(the file was abandoned; the audit went on)",
                        trust_configured=trust.has_signer_trust,
                    )
                    w.stop(kill=True)
                    replace = True
                if report is None:
                    continue
                if replace:
                    if w.proc.is_alive():
                        w.stop(kill=True)
                    workers[i] = w = _Worker(ctx, trust, options)
                w.path = None
                if progress:
                    progress(report)
                yield report
                if queue:
                    w.give(queue.pop())
    finally:
        for w in workers:
            w.stop(kill=w.path is not None)


def _crash_report(w: _Worker) -> Report:
    w.proc.join(timeout=5)
    code = w.proc.exitcode
    how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit {code}"
    return Report(
        path=w.path or "?",
        verdict=Verdict.ERROR,
        reason=f"the verifier crashed on this file ({how}); the audit went on",
    )


def summarize(
    reports: Iterable[Report], skipped: Sequence[Skipped], seconds: float
) -> AuditSummary:
    reports = list(reports)
    return AuditSummary(
        files=len(reports),
        verdicts=dict(Counter(r.verdict.value for r in reports)),
        ai_generated=dict(Counter(r.ai_generated.value for r in reports)),
        skipped=len(skipped),
        stripped=sum(1 for r in reports if r.stripped),
        seconds=seconds,
        skipped_files=tuple(skipped),
    )
