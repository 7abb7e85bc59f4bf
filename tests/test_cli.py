"""`provcheck` driven through click's CliRunner: stdout and stderr asserted separately."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from provcheck.app import cli

from .conftest import CORPUS, TEST_ROOT, media
from .test_trust import trust_server  # noqa: F401  (fixture)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_text_output_for_a_trusted_ai_clip() -> None:
    r = run("--trust", str(TEST_ROOT), str(media("ai_generated.mp4")))
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "TRUSTED" in out
    assert "fully" in out and "trainedAlgorithmicMedia" in out
    assert "provcheck fixtures Signer (TEST ONLY)" in out
    assert "vouched for by test-root-ca" in out
    assert "photo_captured.jpg [inputTo]: valid" in out
    assert "Traceback" not in r.stderr


def test_json_stdout_is_only_json() -> None:
    r = run(
        "--format",
        "json",
        "--trust",
        str(TEST_ROOT),
        str(media("ai_generated.mp4")),
        str(media("tampered.mp4")),
    )
    doc = json.loads(r.stdout)
    results = {Path(x["path"]).name: x for x in doc["results"]}
    assert results["ai_generated.mp4"]["verdict"] == "trusted"
    assert results["ai_generated.mp4"]["ai_generated"] == "fully"
    assert results["ai_generated.mp4"]["signer"]["organization"] == "provcheck fixtures"
    assert results["tampered.mp4"]["verdict"] == "tampered"
    assert "assertion.bmffHash.mismatch" in results["tampered.mp4"]["status_codes"]
    assert doc["summary"]["verdicts"] == {"trusted": 1, "tampered": 1}
    assert r.exit_code == 4 == doc["exit_code"]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("captured.mp4", 0),
        ("untrusted.mp4", 1),
        ("unsigned.mp4", 3),
        ("stripped.mp4", 3),
        ("tampered.mp4", 4),
        ("invalid.mp4", 4),
    ],
)
def test_exit_codes(name: str, code: int) -> None:
    assert run("--trust", str(TEST_ROOT), str(media(name))).exit_code == code


def test_exit_code_for_unreadable_and_worst_wins(tmp_path: Path) -> None:
    missing = tmp_path / "missing.mp4"
    r = run("--trust", str(TEST_ROOT), str(missing))
    assert r.exit_code == 5
    assert "no such file" in r.stdout and "Traceback" not in r.stderr
    r = run(
        "--trust",
        str(TEST_ROOT),
        str(media("captured.mp4")),
        str(missing),
        str(media("tampered.mp4")),
    )
    assert r.exit_code == 4  # tampered outranks unreadable


@pytest.mark.parametrize("make", ["garbage", "truncated", "directory"])
def test_bad_input_is_one_clear_line(tmp_path: Path, make: str) -> None:
    if make == "garbage":
        p = tmp_path / "garbage.mp4"
        p.write_bytes(b"\x13\x37" * 500)
    elif make == "truncated":
        p = tmp_path / "truncated.mp4"
        p.write_bytes(media("ai_generated.mp4").read_bytes()[:100])
    else:
        p = tmp_path
    r = run("--format", "json", str(p))
    doc = json.loads(r.stdout)
    assert doc["results"][0]["verdict"] == "error"
    assert doc["results"][0]["reason"]
    assert r.exit_code == 5
    assert "Traceback" not in r.stderr


def test_no_trust_configured_says_how(tmp_path: Path) -> None:
    r = run("--config-dir", str(tmp_path), str(media("captured.mp4")))
    assert r.exit_code == 1
    assert "UNTRUSTED" in r.stdout
    assert "provcheck trust update" in r.stderr


def test_bad_trust_file_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("nope")
    r = run("--trust", str(bad), str(media("captured.mp4")))
    assert r.exit_code == 2
    assert "no PEM certificate found" in r.stderr
    assert r.stdout == ""


def test_help_documents_exit_codes() -> None:
    r = run("--help")
    assert r.exit_code == 0
    for line in (
        "every file is trusted",
        "no credentials found",
        "tampered or invalid",
        "usage error",
        "--trust",
        "--fragment",
    ):
        assert line in r.stdout
    assert "every file is trusted" in run("verify", "--help").stdout


def test_fragmented_mp4(corpus: Path) -> None:
    anchors = str(corpus / "test_cert_root_bundle.pem")
    alone = run("--format", "json", "--trust", anchors, str(corpus / "dashinit.mp4"))
    res = json.loads(alone.stdout)["results"][0]
    assert res["verdict"] == "error" and "--fragment" in res["reason"]
    r = run(
        "--format",
        "json",
        "--trust",
        anchors,
        str(corpus / "dashinit.mp4"),
        "--fragment",
        str(corpus / "dash1.m4s"),
    )
    res = json.loads(r.stdout)["results"][0]
    assert res["verdict"] == "untrusted"
    assert res["fragments"] == [str(corpus / "dash1.m4s")]
    two = run("--fragment", str(corpus / "dash1.m4s"), str(media("a.mp4")), str(media("b.mp4")))
    assert two.exit_code == 2


def test_trust_install_list_remove(tmp_path: Path) -> None:
    cfg = str(tmp_path / "cfg")
    r = run("trust", "install", str(TEST_ROOT), "--name", "fixtures", "--config-dir", cfg)
    assert r.exit_code == 0 and "installed 1 certificate(s)" in r.stderr
    assert "fixtures" in run("trust", "list", "--config-dir", cfg).stdout
    r = run("--config-dir", cfg, str(media("captured.mp4")))
    assert r.exit_code == 0 and "vouched for by fixtures" in r.stdout
    assert run("trust", "remove", "fixtures", "--config-dir", cfg).exit_code == 0
    r = run("trust", "remove", "fixtures", "--config-dir", cfg)
    assert r.exit_code == 5 and "no installed trust source" in r.stderr
    assert run("--config-dir", cfg, str(media("captured.mp4"))).exit_code == 1


def test_trust_update_from_loopback(tmp_path: Path, trust_server: str) -> None:  # noqa: F811
    cfg = str(tmp_path / "cfg")
    r = run(
        "trust",
        "update",
        "--config-dir",
        cfg,
        "--trust-list-url",
        f"{trust_server}/C2PA-TRUST-LIST.pem",
        "--tsa-list-url",
        f"{trust_server}/C2PA-TSA-TRUST-LIST.pem",
    )
    assert r.exit_code == 0, r.stderr
    assert "30 certificate(s)" in r.stderr and "22 certificate(s)" in r.stderr
    r = run(
        "trust",
        "update",
        "--config-dir",
        cfg,
        "--trust-list-url",
        f"{trust_server}/nothing-here.pem",
    )
    assert r.exit_code == 5 and "HTTP 404" in r.stderr and "Traceback" not in r.stderr


def test_corpus_dat_rename_and_python_m(tmp_path: Path, corpus: Path) -> None:
    renamed = tmp_path / "video.dat"
    renamed.write_bytes((corpus / "video1.mp4").read_bytes())
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "provcheck",
            "--format",
            "json",
            "--trust",
            str(corpus / "test_cert_root_bundle.pem"),
            str(renamed),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    res = json.loads(proc.stdout)["results"][0]
    assert res["format"] == "video/mp4" and res["verdict"] == "untrusted"
    assert proc.returncode == 1


def test_version() -> None:
    r = run("--version")
    assert r.exit_code == 0 and "provcheck, version" in r.stdout


_EXPECTED = json.loads((CORPUS / "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(_EXPECTED["files"]))
def test_corpus_file_as_expected(name: str) -> None:
    """Each real c2pa-rs asset gets the verdict a correct verifier reaches (expected.json),
    through the real CLI in a fresh interpreter, exactly as ``check-corpus`` runs it."""
    want = _EXPECTED["files"][name]
    argv = [sys.executable, "-m", "provcheck", "--format", "json"]
    argv += ["--trust", str(CORPUS / _EXPECTED["trust_anchors"]), str(CORPUS / name)]
    for frag in want.get("fragments", []):
        argv += ["--fragment", str(CORPUS / frag)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    got = next(r for r in json.loads(proc.stdout)["results"] if Path(r["path"]).name == name)
    assert (got["verdict"], got["ai_generated"]) == (want["verdict"], want["ai_generated"])
    assert set(want.get("codes", [])) <= set(got["status_codes"])
    assert "Traceback" not in proc.stderr


def test_usage_error_stays_2() -> None:
    assert run("--format", "yaml", "x.mp4").exit_code == 2
    assert run("verify").exit_code == 2
