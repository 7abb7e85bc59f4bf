"""Resumable audits: a JSON Lines report that is also the audit's journal.

Each result is appended as one line the moment it arrives, with the file's size and
modification time (``"file": {"size": ..., "mtime_ns": ...}``) taken before it was
verified. Opening the journal again skips every file already reported with the same
path, size and mtime, so an audit killed at any point (SIGKILL included) resumes where
it stopped and ends with exactly one result per file:

- a torn last line (the process died mid-write) is dropped and redone;
- a result whose file changed since (size or mtime) is dropped and redone;
- a path reported twice keeps its last result;
- the summary line of an earlier finished run is replaced by the new one.

Only a line in the middle that is not JSON stops the resume (someone else wrote into
the file): the error names the file and the line, and nothing is changed.
Memory is one small entry per reported file (path, stamp, verdict), never the reports.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .audit import AuditSummary, Skipped
from .errors import ProvenanceError
from .model import EXIT_CODES, AIGeneration, Report, Verdict, exit_code_for

__all__ = ["Stamp", "Journal", "stamp_of", "stamps"]


@dataclass(frozen=True)
class Stamp:
    """What says a file is unchanged since it was reported."""

    size: int
    mtime_ns: int

    def to_dict(self) -> dict[str, int]:
        return {"size": self.size, "mtime_ns": self.mtime_ns}


def stamp_of(path: str) -> Stamp | None:
    """The file's stamp, or None when it cannot be stat'ed (a broken link ...)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return Stamp(st.st_size, st.st_mtime_ns)


def _stamp_from(value: Any) -> Stamp | None:
    if isinstance(value, dict):
        size, mtime = value.get("size"), value.get("mtime_ns")
        if isinstance(size, int) and isinstance(mtime, int):
            return Stamp(size, mtime)
    return None


@dataclass(frozen=True)
class _Entry:
    stamp: Stamp | None
    verdict: Verdict
    ai: AIGeneration
    stripped: bool
    start: int
    end: int


class Journal:
    """An open JSON Lines audit report, repaired and ready for appending.

    Use :meth:`open`; then :meth:`done` to skip files, :meth:`append` for each new
    report, and :meth:`finish` to write the summary line and close."""

    def __init__(
        self, path: Path, fd: int, entries: dict[str, _Entry], current: Mapping[str, Stamp | None]
    ) -> None:
        self.path = path
        self._fd = fd
        self._entries = entries
        self._current = current
        self.previous = len(entries)

    @classmethod
    def open(cls, path: str | os.PathLike[str], current: Mapping[str, Stamp | None]) -> Journal:
        """Open (or start) the journal at ``path``; ``current`` maps each file about to
        be audited to its stamp now (see :func:`stamp_of`)."""
        target = Path(path)
        try:
            fd = os.open(target, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise ProvenanceError(
                f"{target}: cannot open the report: {exc.strerror or exc}"
            ) from exc
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ProvenanceError(f"{target}: the report must be a regular file")
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                raise ProvenanceError(
                    f"{target}: another audit is writing this report (it is locked)"
                ) from exc
            entries, keep_until, rewrite = _scan(target, fd, current)
            if rewrite:
                fd = _rewrite(target, fd, entries)
            elif keep_until < os.fstat(fd).st_size:
                os.ftruncate(fd, keep_until)  # torn tail or an old summary line
        except BaseException:
            os.close(fd)
            raise
        return cls(target, fd, entries, current)

    def done(self, path: str) -> bool:
        """True when ``path`` is already reported for its current stamp."""
        return path in self._entries  # stale results were dropped when opening

    def append(self, report: Report) -> None:
        """Write one report as one line, now (a kill loses at most this line)."""
        stamp = self._current.get(report.path)
        record = report.to_dict()
        record["file"] = stamp.to_dict() if stamp else None
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        _write_all(self._fd, line)
        self._entries[report.path] = _Entry(
            stamp, report.verdict, report.ai_generated, report.stripped, 0, 0
        )

    def summary(self, skipped: Sequence[Skipped], seconds: float) -> AuditSummary:
        """The summary of every result in the report, old and new."""
        values = self._entries.values()
        return AuditSummary(
            files=len(self._entries),
            verdicts=dict(Counter(e.verdict.value for e in values)),
            ai_generated=dict(Counter(e.ai.value for e in values)),
            skipped=len(skipped),
            stripped=sum(1 for e in values if e.stripped or e.verdict is Verdict.STRIPPED),
            seconds=seconds,
            skipped_files=tuple(skipped),
        )

    def exit_code(self) -> int:
        verdicts = list({e.verdict for e in self._entries.values()})
        return exit_code_for(verdicts) if verdicts else EXIT_CODES[Verdict.UNSIGNED]

    def finish(self, summary: AuditSummary, exit_code: int) -> None:
        """Append the summary line (the JSON Lines renderer's shape), sync and close."""
        line = json.dumps({"summary": summary.to_dict(), "exit_code": exit_code}) + "\n"
        _write_all(self._fd, line.encode("utf-8"))
        os.fsync(self._fd)
        self.close()

    def close(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _scan(
    target: Path, fd: int, current: Mapping[str, Stamp | None]
) -> tuple[dict[str, _Entry], int, bool]:
    """Read the journal: its live entries, where the good part ends, and whether lines
    in the middle must go (stale or repeated results, old summaries)."""
    entries: dict[str, _Entry] = {}
    dropped_inside = False
    keep_until = 0  # end of the last line that is kept
    offset = 0
    with os.fdopen(os.dup(fd), "rb") as f:
        f.seek(0)
        for number, raw in enumerate(f, 1):
            start, offset = offset, offset + len(raw)
            complete = raw.endswith(b"\n")
            try:
                record = json.loads(raw)
            except ValueError:
                record = None
            if complete and not raw.strip():
                continue  # a blank line: left out of the rewritten file
            if not complete:  # torn by a kill mid-write: dropped, the file is redone
                break
            if not isinstance(record, dict):
                raise ProvenanceError(
                    f"{target}: line {number} is not a JSON object; not resuming into it"
                )
            if "summary" in record and "path" not in record:
                continue  # an earlier run's summary: replaced at the end
            entry = _entry_from(record, start, offset)
            if entry is None:
                raise ProvenanceError(
                    f"{target}: line {number} is not an audit result; not resuming into it"
                )
            path = str(record["path"])
            old = entries.get(path)
            if old is not None:
                dropped_inside = True  # reported twice: the last one stands
            entries[path] = entry
            if start != keep_until:
                dropped_inside = True  # a summary line sat between results
            keep_until = offset
    for path, entry in list(entries.items()):
        if path in current and current[path] != entry.stamp:
            del entries[path]  # the file changed since: redo it
            dropped_inside = True
    return entries, keep_until, dropped_inside


def _entry_from(record: dict[str, Any], start: int, end: int) -> _Entry | None:
    try:
        verdict = Verdict(record["verdict"])
        ai = AIGeneration(record.get("ai_generated", "unknown"))
    except (KeyError, ValueError):
        return None
    if not isinstance(record.get("path"), str):
        return None
    return _Entry(
        _stamp_from(record.get("file")), verdict, ai, bool(record.get("stripped")), start, end
    )


def _rewrite(target: Path, fd: int, entries: dict[str, _Entry]) -> int:
    """Keep only the live lines (in their order), atomically; returns the new fd."""
    tmp = target.with_name(f".{target.name}.resume-{os.getpid()}")
    spans = sorted((e.start, e.end) for e in entries.values())
    out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for start, end in spans:
            _write_all(out, os.pread(fd, end - start, start))
        os.fsync(out)
        os.replace(tmp, target)
    except BaseException:
        os.close(out)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.close(fd)
    os.close(out)
    new = os.open(target, os.O_RDWR | os.O_APPEND)
    fcntl.flock(new, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return new


def stamps(paths: Iterable[str]) -> dict[str, Stamp | None]:
    """The current stamp of each path."""
    return {p: stamp_of(p) for p in paths}
