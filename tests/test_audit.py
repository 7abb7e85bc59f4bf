"""`provcheck audit` on a mixed folder: every kind of file gets the right result in every
format; a crashing or hanging file cannot end the audit."""

from __future__ import annotations

import csv
import faulthandler
import io
import json
import os
import shutil
import signal
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from provcheck.app import cli
from provenance import TrustConfig, Verdict, discover, run_audit
from provenance.verification import Verifier

from .conftest import CORPUS, TEST_ROOT, media

EXPECTED = {
    "ai_generated.mp4": ("trusted", "fully"),
    "untrusted.mp4": ("untrusted", "no"),
    "tampered.mp4": ("tampered", "fully"),
    "stripped.mp4": ("unsigned", "unknown"),
    "stripped_keep_xmp.mp4": ("unsigned", "unknown"),
    "unsigned.mp4": ("unsigned", "unknown"),
    "invalid.mp4": ("invalid", "no"),
    "garbage.mp4": ("error", "unknown"),
    "fifo.mp4": ("error", "unknown"),
    "broken-link.mp4": ("error", "unknown"),
    "nested/photo_captured.jpg": ("trusted", "no"),
}


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    root = tmp_path / "downloads"
    (root / "nested").mkdir(parents=True)
    for name in (
        "ai_generated.mp4",
        "untrusted.mp4",
        "tampered.mp4",
        "stripped.mp4",
        "stripped_keep_xmp.mp4",
        "unsigned.mp4",
        "invalid.mp4",
    ):
        shutil.copy(media(name), root / name)
    shutil.copy(media("photo_captured.jpg"), root / "nested" / "photo_captured.jpg")
    (root / "garbage.mp4").write_bytes(os.urandom(4096))
    (root / "readme.txt").write_text("not media\n")
    os.mkfifo(root / "fifo.mp4")
    (root / "broken-link.mp4").symlink_to(root / "does-not-exist.mp4")
    (root / "nested" / "loop").symlink_to(root)  # a symlink loop back into the tree
    return root


def _by_name(results: list[dict[str, object]], root: Path) -> dict[str, dict[str, object]]:
    return {str(Path(str(r["path"])).relative_to(root)): r for r in results}


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def test_mixed_folder_json(mixed: Path) -> None:
    code, out, err = run("audit", str(mixed), "-r", "--format", "json", "--trust", str(TEST_ROOT))
    doc = json.loads(out)
    got = _by_name(doc["results"], mixed)
    assert {k: (v["verdict"], v["ai_generated"]) for k, v in got.items()} == EXPECTED
    assert doc["summary"]["skipped"] == 1
    assert doc["summary"]["skipped_files"][0]["path"].endswith("readme.txt")
    assert doc["summary"]["stripped"] == 1
    assert got["stripped_keep_xmp.mp4"]["stripped"] is True
    assert any(
        "XMP metadata says AI-generated" in n
        for n in got["stripped_keep_xmp.mp4"]["inconsistencies"]
    )
    assert got["stripped.mp4"]["stripped"] is False  # a plain remux leaves no trace
    assert "FIFO" in got["fifo.mp4"]["reason"]
    assert got["broken-link.mp4"]["reason"] == "broken symbolic link"
    assert got["ai_generated.mp4"]["container"]["container"] == "MPEG-4"
    assert got["ai_generated.mp4"]["xmp_digital_source_type"].endswith("trainedAlgorithmicMedia")
    assert code == 4  # tampered/invalid is the worst verdict here
    assert "Traceback" not in err


def test_same_result_objects_as_verify(mixed: Path) -> None:
    _, audit_out, _ = run("audit", str(mixed / "untrusted.mp4"), "--format", "json")
    _, verify_out, _ = run("--format", "json", str(mixed / "untrusted.mp4"))
    a = json.loads(audit_out)["results"][0]
    v = json.loads(verify_out)["results"][0]
    assert set(v) <= set(a)
    for key in ("path", "verdict", "ai_generated", "signer", "status_codes", "manifest"):
        assert a[key] == v[key]


def test_jsonl_csv_and_table(mixed: Path) -> None:
    code, out, _ = run("audit", str(mixed), "-r", "--format", "jsonl", "--trust", str(TEST_ROOT))
    lines = [json.loads(x) for x in out.splitlines()]
    assert "summary" in lines[-1] and lines[-1]["exit_code"] == code == 4
    assert len(lines) - 1 == len(EXPECTED)
    code, out, _ = run("audit", str(mixed), "-r", "--format", "csv", "--trust", str(TEST_ROOT))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {"path", "verdict", "ai_generated", "signer"} <= set(rows[0])
    got = {str(Path(r["path"]).relative_to(mixed)): (r["verdict"], r["ai_generated"]) for r in rows}
    assert got == EXPECTED
    code, out, err = run("audit", str(mixed), "-r", "--trust", str(TEST_ROOT))
    assert "ai_generated.mp4" in out and "summary" in out and "skipped (not media)" in out
    assert "verifying" not in err  # no progress bar when not on a terminal


def test_output_file_is_written_atomically(mixed: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    _, out, err = run("audit", str(mixed), "-r", "--format", "json", "-o", str(target))
    assert out == "" and "report written to" in err
    assert json.loads(target.read_text())["summary"]["files"] == len(EXPECTED)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report.json")]


def test_non_recursive_and_empty(tmp_path: Path, mixed: Path) -> None:
    _, out, err = run("audit", str(mixed), "--no-recursive", "--format", "json")
    names = {Path(r["path"]).name for r in json.loads(out)["results"]}
    assert "photo_captured.jpg" not in names and "sub-folder(s) not entered" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = run("audit", str(empty), "--format", "json")
    assert code == 3 and json.loads(out)["results"] == [] and "no media files" in err


def test_two_jobs_give_the_same_results(mixed: Path) -> None:
    trust = TrustConfig.from_files(anchors=[TEST_ROOT])
    candidates, _ = discover([mixed], recursive=True)
    one = sorted((r.path, r.verdict) for r in run_audit(candidates, trust, jobs=1))
    two = sorted((r.path, r.verdict) for r in run_audit(candidates, trust, jobs=2))
    assert one == two and len(one) == len(EXPECTED)


def test_a_crashing_or_hanging_file_does_not_end_the_audit(
    mixed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = Verifier.verify

    def hostile(self: Verifier, source: object, fragments: object = ()) -> object:
        name = str(source)
        if name.endswith("untrusted.mp4"):
            faulthandler.disable()  # keep pytest's crash dump of the child out of the log
            os.kill(os.getpid(), signal.SIGSEGV)  # what a native crash looks like
        if name.endswith("invalid.mp4"):
            time.sleep(600)  # what a native hang looks like
        return original(self, source, fragments)  # type: ignore[arg-type]

    # Workers are forked, so they inherit the patched method.
    monkeypatch.setattr(Verifier, "verify", hostile)
    trust = TrustConfig.from_files(anchors=[TEST_ROOT])
    candidates, _ = discover([mixed], recursive=True)
    start = time.monotonic()
    reports = {Path(r.path).name: r for r in run_audit(candidates, trust, jobs=2, timeout=3)}
    assert time.monotonic() - start < 60
    assert reports["untrusted.mp4"].verdict is Verdict.ERROR
    assert "crashed" in reports["untrusted.mp4"].reason
    assert "signal 11" in reports["untrusted.mp4"].reason
    assert reports["invalid.mp4"].verdict is Verdict.ERROR
    assert "did not finish within 3 s" in reports["invalid.mp4"].reason
    assert reports["ai_generated.mp4"].verdict is Verdict.TRUSTED
    assert reports["tampered.mp4"].verdict is Verdict.TAMPERED
    assert len(reports) == len(EXPECTED)


def test_corpus_folder(corpus: Path) -> None:
    _, out, _ = run(
        "audit",
        str(CORPUS),
        "--format",
        "json",
        "--no-default-trust",
        "--trust",
        str(CORPUS / "test_cert_root_bundle.pem"),
    )
    got = {Path(r["path"]).name: r["verdict"] for r in json.loads(out)["results"]}
    assert got["CA.jpg"] == "trusted" and got["XCA.jpg"] == "tampered"
    assert got["E-sig-CA.jpg"] == "invalid" and got["no_manifest.jpg"] == "unsigned"
