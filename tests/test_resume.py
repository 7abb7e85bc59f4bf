"""`provcheck audit --resume`: the JSON Lines report is the journal. A real audit killed
with SIGKILL partway resumes and ends with exactly one result per file."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from provcheck.app import cli
from provenance import ProvenanceError, Report, Verdict
from provenance.resume import Journal, stamps

from .conftest import TEST_ROOT, media

FILES = 60
SOURCES = ("ai_generated.mp4", "unsigned.mp4", "untrusted.mp4", "photo_captured.jpg")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "clips"
    for i in range(FILES):
        name = SOURCES[i % len(SOURCES)]
        sub = root / f"d{i % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        shutil.copy(media(name), sub / f"{i:03d}{Path(name).suffix}")
    return root


def _records(report: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in report.read_text().splitlines()]


@pytest.mark.slow
def test_a_killed_audit_resumes_with_one_result_per_file(tree: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.jsonl"
    command = [sys.executable, "-m", "provcheck", "audit", str(tree), "--resume"]
    command += ["--format", "jsonl", "-o", str(report), "--jobs", "2", "--no-progress"]
    command += ["--trust", str(TEST_ROOT)]
    # Its own session: the kill takes the audit and its worker processes at once.
    proc = subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if report.exists() and report.read_bytes().count(b"\n") >= 12:
                break
            time.sleep(0.02)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    partial = report.read_bytes()
    done_before = partial.count(b"\n")
    assert 12 <= done_before < FILES
    assert b'"summary"' not in partial
    # and as if the kill had landed in the middle of writing the next line
    torn = b'{"path": "' + str(tree).encode() + b'/d0/000.mp4", "verdict": "trus'
    report.write_bytes(partial + torn)

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 3, resumed.stderr  # untrusted is the worst verdict here
    assert f"{done_before} of {FILES} file(s) already reported" in resumed.stderr
    assert "Traceback" not in resumed.stderr
    data = report.read_bytes()
    assert data.startswith(partial)  # what was reported stays, byte for byte
    records = _records(report)
    results = [r for r in records if "path" in r]
    paths = [str(r["path"]) for r in results]
    assert len(paths) == len(set(paths)) == FILES
    assert set(paths) == {str(p) for p in tree.rglob("*") if p.is_file()}
    assert records[-1] == {
        "summary": records[-1]["summary"],
        "exit_code": 3,
    }
    summary = records[-1]["summary"]
    assert isinstance(summary, dict) and summary["files"] == FILES
    assert summary["verdicts"] == {"trusted": 30, "unsigned": 15, "untrusted": 15}
    assert all(isinstance(r["file"], dict) and r["file"]["size"] > 0 for r in results)

    # Resuming a finished report does nothing but rewrite its summary line.
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 3
    assert f"{FILES} of {FILES} file(s) already reported, 0 to go" in again.stderr
    assert _records(report)[:-1] == records[:-1]
    assert len(_records(report)) == FILES + 1


def _report(path: Path, verdict: Verdict = Verdict.UNSIGNED) -> Report:
    return Report(path=str(path), verdict=verdict, reason="test")


def test_changed_files_and_repeated_lines_are_redone(tmp_path: Path) -> None:
    files = [tmp_path / f"{i}.mp4" for i in range(3)]
    for f in files:
        f.write_bytes(b"x" * 10)
    journal_path = tmp_path / "r.jsonl"
    with Journal.open(journal_path, stamps(map(str, files))) as j:
        for f in files:
            j.append(_report(f))
        j.append(_report(files[0], Verdict.TRUSTED))  # reported twice: the last stands
    files[1].write_bytes(b"y" * 11)  # changed since it was reported
    with Journal.open(journal_path, stamps(map(str, files))) as j:
        assert [j.done(str(f)) for f in files] == [True, False, True]
        assert j.summary((), 0).verdicts == {"trusted": 1, "unsigned": 1}
        j.append(_report(files[1]))
        j.finish(j.summary((), 0), j.exit_code())
    records = _records(journal_path)
    assert [r.get("path") for r in records] == [str(files[2]), str(files[0]), str(files[1]), None]
    assert records[-1]["summary"]["files"] == 3  # type: ignore[index]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".r.jsonl")]


def test_a_foreign_line_stops_the_resume_and_a_locked_report_is_refused(
    tmp_path: Path,
) -> None:
    journal_path = tmp_path / "r.jsonl"
    journal_path.write_text('{"path": "a.mp4", "verdict": "unsigned"}\nnot json\n{}\n')
    with pytest.raises(ProvenanceError, match=r"r\.jsonl: line 2 is not a JSON object"):
        Journal.open(journal_path, {})
    assert journal_path.read_text().count("\n") == 3  # left as it was
    journal_path.unlink()
    with (
        Journal.open(journal_path, {}),
        pytest.raises(ProvenanceError, match="another audit is writing this report"),
    ):
        Journal.open(journal_path, {})


def test_resume_needs_a_jsonl_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["audit", str(tmp_path), "--resume", "--format", "json"])
    assert result.exit_code == 2
    assert "--resume needs --format jsonl and -o FILE" in result.stderr
