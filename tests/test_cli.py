"""`provcheck` driven through click's CliRunner: stdout and stderr asserted separately."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from provcheck.app import cli

from .conftest import CORPUS, FIXTURES, TEST_ROOT, media, sign_argv
from .test_trust import trust_server  # noqa: F401  (fixture)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_text_output_for_a_trusted_ai_clip() -> None:
    path = str(media("ai_generated.mp4"))
    r = run("--trust", str(TEST_ROOT), path)
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == f"{path}  TRUSTED"
    assert (
        "  AI          fully — the active manifest records c2pa.created with digitalSourceType "
        "trainedAlgorithmicMedia"
    ) in lines
    assert (
        "  signed by   provcheck fixtures Signer (TEST ONLY), provcheck fixtures (issued by "
        "provcheck fixtures Root CA (TEST ONLY)) — vouched for by test-root-ca"
    ) in lines
    assert "      - photo_captured.jpg [inputTo]: valid" in lines
    assert "claimed, not verified" not in r.stdout
    assert r.stderr == ""


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
    assert r.stdout.splitlines()[0] == f"{missing}  ERROR"
    assert "no such file" in r.stdout and r.stderr == ""
    r = run(
        "--trust",
        str(TEST_ROOT),
        str(media("captured.mp4")),
        str(missing),
        str(media("tampered.mp4")),
    )
    assert r.exit_code == 4  # tampered outranks unreadable


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        ("garbage", "not a recognised media format"),
        ("truncated", "could not be parsed"),
        ("directory", "is a directory"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, make: str, reason: str) -> None:
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
    assert reason in doc["results"][0]["reason"]
    assert r.exit_code == 5 == doc["exit_code"]
    assert "Traceback" not in r.stderr


def test_no_trust_configured_says_how(tmp_path: Path) -> None:
    r = run("--config-dir", str(tmp_path), str(media("captured.mp4")), str(media("untrusted.mp4")))
    assert r.exit_code == 1
    assert r.stdout.count("UNTRUSTED") == 2
    # said once per run, on stderr, not once per file and again at the end
    assert (r.stdout + r.stderr).count("trust update") == 1
    assert "provcheck trust update" in r.stderr


def test_bad_trust_file_exits_5(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("nope")
    r = run("--trust", str(bad), str(media("captured.mp4")))
    assert r.exit_code == 5
    assert "Usage:" not in r.stderr
    assert r.stderr.startswith("provcheck: error: trust configuration:")
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
    assert r.exit_code == 0 and r.stderr == "installed 1 certificate(s) as anchors 'fixtures'\n"
    listing = run("trust", "list", "--config-dir", cfg).stdout.splitlines()
    assert listing[0] == f"config directory: {cfg}"
    assert listing[1].split()[:3] == ["anchors", "fixtures", "1"]
    r = run("--config-dir", cfg, str(media("captured.mp4")))
    assert r.exit_code == 0 and "vouched for by fixtures" in r.stdout
    r = run("trust", "remove", "fixtures", "--config-dir", cfg)
    assert r.exit_code == 0 and r.stderr == "removed fixtures (anchors)\n"
    assert not (tmp_path / "cfg" / "trust" / "anchors" / "fixtures.pem").exists()
    r = run("trust", "remove", "fixtures", "--config-dir", cfg)
    assert r.exit_code == 5 and "no installed trust source named 'fixtures'" in r.stderr
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
    import provenance

    r = run("--version")
    assert r.exit_code == 0 and r.stdout == f"provcheck, version {provenance.__version__}\n"


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
    r = run("--format", "yaml", "x.mp4")
    assert r.exit_code == 2 and "Usage:" in r.stderr and "'yaml' is not one of" in r.stderr
    assert r.stdout == ""
    r = run("verify")
    assert r.exit_code == 2 and "Missing argument 'FILES...'" in r.stderr


# ---------------------------------------------------------------------------
# claims of a broken manifest (issue 12 item 2)


@pytest.mark.parametrize("name", ["invalid.mp4", "tampered.mp4"])
def test_claims_of_a_broken_manifest_are_marked_claimed(name: str) -> None:
    r = CliRunner(env={"FORCE_COLOR": "1"}).invoke(
        cli, ["--trust", str(TEST_ROOT), str(media(name))], color=True
    )
    assert r.exit_code == 4
    plain = click.unstyle(r.stdout)
    lines = plain.splitlines()
    assert any(x.startswith("  claims      claimed, not verified") for x in lines)
    ai = next(x for x in lines if x.startswith("  AI  "))
    assert "(claimed, not verified)" in ai
    signed = next(x for x in lines if x.startswith("  signed by"))
    assert signed.endswith("— claimed, not verified") and "vouched for" not in signed
    assert any(x.startswith("  title") and x.endswith("(claimed, not verified)") for x in lines)
    # no reassuring colour on any claim: green is used nowhere in the output
    assert "\x1b[32m" not in r.stdout
    ai_raw = next(x for x in r.stdout.splitlines() if click.unstyle(x).startswith("  AI  "))
    assert "\x1b[31m" not in ai_raw and "\x1b[33m" not in ai_raw


def test_verified_claims_keep_their_colour() -> None:
    r = CliRunner().invoke(cli, ["--trust", str(TEST_ROOT), str(media("captured.mp4"))], color=True)
    assert r.exit_code == 0
    ai_raw = next(x for x in r.stdout.splitlines() if click.unstyle(x).startswith("  AI  "))
    assert "\x1b[32m" in ai_raw and "claimed" not in r.stdout


# ---------------------------------------------------------------------------
# --detailed (issue 20)


def test_detailed_lists_every_assertion(tmp_path: Path) -> None:
    extra = tmp_path / "extra.json"
    extra.write_text(
        json.dumps(
            [
                {"label": "com.example.model-info", "data": {"model": "M-2", "seed": 42}},
                {"label": "com.example.big", "data": {"text": "x " * 5000}},
            ]
        )
    )
    out = tmp_path / "signed.mp4"
    r = run(*sign_argv(media("unsigned.mp4"), out, "--ai", "fully", "--manifest", str(extra)))
    assert r.exit_code == 0, r.stderr
    plain = run("--trust", str(TEST_ROOT), str(out))
    assert "com.example.model-info" not in plain.stdout
    detailed = run("--trust", str(TEST_ROOT), "--detailed", str(out))
    assert detailed.exit_code == 0
    doc = json.loads(run("--format", "json", "--trust", str(TEST_ROOT), str(out)).stdout)
    if "assertions" not in (doc["results"][0]["manifest"] or {}):
        # the library does not report assertions yet: the flag says so, never crashes
        assert "none reported by the library" in detailed.stdout
        return
    lines = detailed.stdout.splitlines()
    i = lines.index("      - com.example.model-info")
    assert json.loads(lines[i + 1].strip()) == {"model": "M-2", "seed": 42}
    i = next(n for n, x in enumerate(lines) if x.startswith("      - com.example.big"))
    big = lines[i + 1]
    assert len(big) < 2100 and big.endswith("more characters)")  # bounded, and says so
    assert "      - c2pa.actions.v2" in lines


# ---------------------------------------------------------------------------
# sign (issue 12 item 7, issue 20 messages)


def test_sign_requires_an_explicit_ai_answer(tmp_path: Path) -> None:
    out = tmp_path / "o.mp4"
    r = run(*sign_argv(media("unsigned.mp4"), out))
    assert r.exit_code == 2 and "--ai is required" in r.stderr and "--ai no" in r.stderr
    assert not out.exists()
    r = run(*sign_argv(media("unsigned.mp4"), out, "--ai", "no"))
    assert r.exit_code == 0, r.stderr
    doc = json.loads(run("--format", "json", "--trust", str(TEST_ROOT), str(out)).stdout)
    assert doc["results"][0]["ai_generated"] == "no"


def test_sign_messages_speak_to_people(tmp_path: Path) -> None:
    out = tmp_path / "o.mp4"
    out.write_bytes(b"exists")
    r = run(*sign_argv(media("unsigned.mp4"), out, "--ai", "no"))
    assert r.exit_code == 5
    assert "already exists; use --force to replace it" in r.stderr
    assert "force=True" not in r.stderr
    help_text = run("sign", "--help").stdout
    assert "Exit codes:" in help_text and "--ai missing" in help_text


def test_failing_tsa_names_the_url_and_the_cause(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/tsa"
    out = tmp_path / "o.mp4"
    r = run(*sign_argv(media("unsigned.mp4"), out, "--ai", "no", "--tsa", url))
    assert r.exit_code == 5
    assert f"the timestamp authority {url} could not timestamp" in r.stderr
    assert "Connection refused" in r.stderr and "internal error" not in r.stderr
    assert not out.exists()


# ---------------------------------------------------------------------------
# mistyped commands (issue 20)


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["trsut", "list"], "did you mean `trust`?"),
        (["audti", "x"], "did you mean `audit`?"),
        (["sing", "x.mp4"], "did you mean `sign`?"),
        (["help"], "did you mean `provcheck --help`?"),
    ],
)
def test_mistyped_command_gets_a_suggestion(argv: list[str], hint: str) -> None:
    r = run(*argv)
    assert r.exit_code == 2 and hint in r.stderr and r.stdout == ""


def test_an_existing_file_named_like_a_command_is_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("trsut").write_bytes(media("captured.mp4").read_bytes())
    r = run("--trust", str(TEST_ROOT), "trsut")
    assert r.exit_code == 0 and r.stdout.startswith("trsut  TRUSTED")
    r = run("clip.mp4")  # a missing file that is no command: reported as a file
    assert r.exit_code == 5 and "did you mean" not in r.stderr


# ---------------------------------------------------------------------------
# audit (issue 20)


def _audit_tree(tmp_path: Path) -> Path:
    root = tmp_path / "downloads"
    (root / "a" / "b").mkdir(parents=True)
    (root / "top.mp4").write_bytes(media("captured.mp4").read_bytes())
    (root / "a" / "mid.mp4").write_bytes(media("untrusted.mp4").read_bytes())
    (root / "a" / "b" / "deep.mp4").write_bytes(media("tampered.mp4").read_bytes())
    return root


def test_audit_recurses_by_default(tmp_path: Path) -> None:
    root = _audit_tree(tmp_path)
    for extra in ([], ["-r"], ["--recursive"]):
        r = run("audit", str(root), *extra, "--trust", str(TEST_ROOT), "--format", "json")
        names = sorted(Path(x["path"]).name for x in json.loads(r.stdout)["results"])
        assert names == ["deep.mp4", "mid.mp4", "top.mp4"], extra
        assert r.exit_code == 4
    r = run("audit", str(root), "--no-recursive", "--trust", str(TEST_ROOT), "--format", "json")
    assert [Path(x["path"]).name for x in json.loads(r.stdout)["results"]] == ["top.mp4"]
    assert r.exit_code == 0
    assert "1 sub-folder(s) not entered (--no-recursive)" in r.stderr
    assert str(root / "a") in r.stderr


def _stripped_world(tmp_path: Path) -> dict[str, Path]:
    from provenance import PemSigner, SQLiteRepository, sign

    from . import videogen as vg

    ca = FIXTURES / "testca"
    signer = PemSigner.from_files(ca / "test-signer.key", ca / "test-signer-chain.pem")
    clip = vg.make_clip(tmp_path / "gen.mp4", vg.ClipSpec(seed=21, seconds=4))
    db = tmp_path / "repo.sqlite3"
    folder = tmp_path / "found"
    folder.mkdir()
    with SQLiteRepository(db) as repo:
        sign(clip, tmp_path / "signed.mp4", signer=signer, ai="fully", repository=repo)
    copy = vg.remux(tmp_path / "signed.mp4", folder / "copy.mp4")
    (folder / "stripped.mp4").write_bytes(media("stripped.mp4").read_bytes())
    return {"db": db, "folder": folder, "copy": copy}


def test_audit_summary_and_stripped_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    world = _stripped_world(tmp_path)
    monkeypatch.chdir(tmp_path)  # short paths: table rows are not folded
    args = ["audit", "found", "--trust", str(TEST_ROOT)]
    args += ["--repository", str(world["db"])]
    doc = json.loads(run(*args, "--format", "json").stdout)
    verdicts = {Path(x["path"]).name: x for x in doc["results"]}
    assert verdicts["copy.mkv"]["verdict"] == "stripped"
    stripped_any = sum(1 for x in doc["results"] if x["stripped"] or x["verdict"] == "stripped")
    assert doc["summary"]["stripped"] == stripped_any >= doc["summary"]["verdicts"]["stripped"]
    r = run(*args, "--no-progress")
    assert r.exit_code == 3
    row = next(x for x in r.stdout.splitlines() if "copy.mkv" in x)
    assert "stripped" in row
    assert "provcheck fixtures Signer (TEST ONLY), provcheck fixtures (recovered)" in r.stdout
    summary = {
        " ".join(cells[0].split()): cells[1].strip()
        for cells in (x.strip("│ ").split("│") for x in r.stdout.splitlines() if x.count("│") == 3)
    }
    assert int(summary["credentials stripped (any)"]) >= int(summary["verdict stripped"])


# ---------------------------------------------------------------------------
# repo remove by a unique prefix (issue 20)


def test_repo_remove_accepts_a_unique_prefix(tmp_path: Path) -> None:
    world = _stripped_world(tmp_path)
    db = str(world["db"])
    entries = json.loads(run("repo", "list", "--repository", db, "--format", "json").stdout)
    full = entries[0]["id"]
    r = run("repo", "remove", "zzzz", "--repository", db)
    assert r.exit_code == 5 and "no entry 'zzzz'" in r.stderr
    r = run("repo", "remove", full[:14], "--repository", db)
    assert r.exit_code == 0 and r.stderr == f"removed {full}\n"
    assert json.loads(run("repo", "list", "--repository", db, "--format", "json").stdout) == []


# ---------------------------------------------------------------------------
# --verbose comes from the click context, wherever it is on the command line


def test_verbose_shows_a_traceback_only_when_asked(tmp_path: Path) -> None:
    missing = str(tmp_path / "no.toml")
    quiet = run("gate", str(media("captured.mp4")), "--policy", missing)
    assert quiet.exit_code == 5 and "Traceback" not in quiet.stderr
    loud = run("gate", "-v", str(media("captured.mp4")), "--policy", missing)
    assert loud.exit_code == 5 and "Traceback" in loud.stderr
    # a file named "-v"-like text elsewhere does not switch it on
    named = tmp_path / "--verbose"
    quiet = run("gate", "--policy", missing, "--", str(named))
    assert quiet.exit_code == 5 and "Traceback" not in quiet.stderr
