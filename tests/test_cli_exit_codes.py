"""Every documented exit code of every command, through the real CLI (issue 12 item 8).

A missing or broken trust file, policy or prompt file is exit 5 with one line
naming the file — never 2 with a usage banner (2 stays click's usage error).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from provcheck.app import cli

from .conftest import TEST_ROOT, media, sign_argv


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _folder(tmp_path: Path, *names: str) -> Path:
    d = tmp_path / "clips"
    d.mkdir(exist_ok=True)
    for n in names:
        (d / n).write_bytes(media(n).read_bytes())
    return d


def _broken_config(tmp_path: Path) -> str:
    cfg = tmp_path / "broken-cfg"
    (cfg / "trust" / "anchors").mkdir(parents=True, exist_ok=True)
    (cfg / "trust" / "anchors" / "broken.pem").write_text("-----BEGIN CERTIFICATE-----\nnope\n")
    return str(cfg)


def _policy(tmp_path: Path) -> str:
    p = tmp_path / "policy.toml"
    p.write_text("[output]\nrequire_trusted = true\n")
    return str(p)


def _assert_one_line_failure(r: Result, code: int, *needles: str) -> None:
    assert r.exit_code == code, (r.stdout, r.stderr)
    assert "Usage:" not in r.stderr and "Traceback" not in r.stderr
    errors = [x for x in r.stderr.splitlines() if not x.startswith("provcheck: warning: ")]
    assert len(errors) == 1 and errors[0].startswith("provcheck: error: "), r.stderr
    for n in needles:
        assert n in r.stderr, r.stderr


# --- verify ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("captured.mp4", 0),
        ("untrusted.mp4", 1),
        ("unsigned.mp4", 3),
        ("tampered.mp4", 4),
        ("invalid.mp4", 4),
    ],
)
def test_verify_verdict_codes(name: str, code: int) -> None:
    assert run("verify", "--trust", str(TEST_ROOT), str(media(name))).exit_code == code


def test_verify_usage_and_load_failures(tmp_path: Path) -> None:
    clip = str(media("captured.mp4"))
    r = run("verify", "--bogus", clip)
    assert r.exit_code == 2 and "No such option '--bogus'" in r.stderr
    assert run("verify", str(tmp_path / "missing.mp4")).exit_code == 5
    missing = str(tmp_path / "missing.pem")
    _assert_one_line_failure(run("--trust", missing, clip), 5, missing)
    _assert_one_line_failure(run("verify", "--tsa-trust", missing, clip), 5, missing)
    _assert_one_line_failure(run("--config-dir", _broken_config(tmp_path), clip), 5, "broken.pem")


# --- audit -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "code"),
    [
        (("captured.mp4",), 0),
        (("captured.mp4", "untrusted.mp4"), 1),
        ((), 3),
        (("unsigned.mp4", "untrusted.mp4"), 3),
        (("tampered.mp4", "captured.mp4"), 4),
    ],
)
def test_audit_verdict_codes(tmp_path: Path, names: tuple[str, ...], code: int) -> None:
    folder = _folder(tmp_path, *names)
    r = run("audit", str(folder), "--trust", str(TEST_ROOT), "--format", "json")
    assert r.exit_code == code


def test_audit_usage_and_load_failures(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "captured.mp4")
    assert run("audit", str(folder), "--format", "yaml").exit_code == 2
    r = run("audit", str(tmp_path / "nowhere"), "--format", "json")
    assert r.exit_code == 5
    missing = str(tmp_path / "missing.pem")
    _assert_one_line_failure(run("audit", str(folder), "--trust", missing), 5, missing)
    _assert_one_line_failure(
        run("audit", str(folder), "--config-dir", _broken_config(tmp_path)), 5, "broken.pem"
    )


# --- gate --------------------------------------------------------------------


def test_gate_codes(tmp_path: Path) -> None:
    policy = _policy(tmp_path)
    base = ["gate", "--policy", policy, "--trust", str(TEST_ROOT)]
    assert run(*base, str(media("captured.mp4"))).exit_code == 0
    assert run(*base, str(media("untrusted.mp4"))).exit_code == 1
    assert run(*base).exit_code == 2  # no OUTPUT
    r = run(*base, str(media("captured.mp4")), "--prompt", "a", "--prompt-file", policy)
    assert r.exit_code == 2


def test_gate_load_failures_exit_5(tmp_path: Path) -> None:
    clip = str(media("captured.mp4"))
    policy = _policy(tmp_path)
    missing_prompt = str(tmp_path / "missing.txt")
    r = run("gate", clip, "--policy", policy, "--prompt-file", missing_prompt)
    _assert_one_line_failure(r, 5, "--prompt-file", missing_prompt, "does not exist")
    binary = tmp_path / "prompt.bin"
    binary.write_bytes(b"\xff\xfe\x00bad")
    r = run("gate", clip, "--policy", policy, "--prompt-file", str(binary))
    _assert_one_line_failure(r, 5, "not UTF-8")
    r = run("gate", clip, "--policy", policy, "--prompt-file", str(tmp_path))
    _assert_one_line_failure(r, 5, "is not a regular file")
    _assert_one_line_failure(run("gate", clip, "--policy", str(tmp_path / "no.toml")), 5, "no.toml")
    missing = str(tmp_path / "missing.pem")
    _assert_one_line_failure(run("gate", clip, "--policy", policy, "--trust", missing), 5, missing)
    _assert_one_line_failure(
        run("gate", clip, "--policy", policy, "--config-dir", _broken_config(tmp_path)),
        5,
        "broken.pem",
    )


# --- sign --------------------------------------------------------------------


def test_sign_codes(tmp_path: Path) -> None:
    out = tmp_path / "o.mp4"
    assert run(*sign_argv(media("unsigned.mp4"), out, "--ai", "no")).exit_code == 0
    assert run(*sign_argv(media("unsigned.mp4"), tmp_path / "x.mp4")).exit_code == 2  # no --ai
    assert (
        run(*sign_argv(media("unsigned.mp4"), tmp_path / "y.mp4", "--ai", "maybe")).exit_code == 2
    )
    _assert_one_line_failure(
        run(*sign_argv(media("unsigned.mp4"), out, "--ai", "no")), 5, "already exists"
    )
    r = run(*sign_argv(tmp_path / "missing.mp4", tmp_path / "z.mp4", "--ai", "no"))
    _assert_one_line_failure(r, 5, "missing.mp4")


# --- trust -------------------------------------------------------------------


def test_trust_codes(tmp_path: Path) -> None:
    cfg = str(tmp_path / "cfg")
    assert run("trust", "install", str(TEST_ROOT), "--config-dir", cfg).exit_code == 0
    assert run("trust", "install", str(TEST_ROOT), "--kind", "nope").exit_code == 2
    missing = str(tmp_path / "missing.pem")
    _assert_one_line_failure(run("trust", "install", missing, "--config-dir", cfg), 5, missing)
    assert run("trust", "list", "--config-dir", cfg).exit_code == 0
    _assert_one_line_failure(
        run("trust", "list", "--config-dir", _broken_config(tmp_path)), 5, "broken.pem"
    )
    assert run("trust", "remove", "test-root-ca", "--config-dir", cfg).exit_code == 0
    _assert_one_line_failure(
        run("trust", "remove", "test-root-ca", "--config-dir", cfg), 5, "no installed"
    )
    assert run("trust", "remove").exit_code == 2


# --- repo --------------------------------------------------------------------


def test_repo_codes(tmp_path: Path) -> None:
    db = str(tmp_path / "repo.sqlite3")
    r = run("repo", "add", str(media("unsigned.mp4")), "--repository", db)
    assert r.exit_code == 1 and "no C2PA manifest" in r.stderr
    assert run("repo", "list", "--repository", db).exit_code == 0
    assert run("repo", "lookup", str(media("captured.mp4")), "--repository", db).exit_code == 1
    _assert_one_line_failure(run("repo", "remove", "abcd", "--repository", db), 5, "no entry")
    assert run("repo", "lookup", "--repository", db).exit_code == 2
    missing = str(tmp_path / "missing.pem")
    r = run("repo", "add", str(media("captured.mp4")), "--repository", db, "--trust", missing)
    _assert_one_line_failure(r, 5, missing)


# --- keys --------------------------------------------------------------------


def test_keys_codes(tmp_path: Path) -> None:
    ca = str(tmp_path / "ca")
    assert run("keys", "create-test-ca", ca).exit_code == 0
    _assert_one_line_failure(run("keys", "create-test-ca", ca), 5, "already exist")
    assert run("keys", "create-test-ca", ca, "--alg", "md5").exit_code == 2


def test_every_command_help_lists_its_exit_codes() -> None:
    for argv in (
        ["--help"],
        ["verify", "--help"],
        ["audit", "--help"],
        ["gate", "--help"],
        ["sign", "--help"],
        ["trust", "install", "--help"],
        ["trust", "update", "--help"],
        ["trust", "list", "--help"],
        ["trust", "remove", "--help"],
        ["repo", "add", "--help"],
        ["repo", "list", "--help"],
        ["repo", "lookup", "--help"],
        ["repo", "remove", "--help"],
        ["keys", "create-test-ca", "--help"],
    ):
        r = run(*argv)
        assert r.exit_code == 0 and "Exit codes" in r.stdout, argv
        assert "2  usage error" in r.stdout, argv


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
@pytest.mark.parametrize(
    ("what", "argv"),
    [
        ("--policy", ["gate", "{clip}", "--policy", "{x}"]),
        ("--source", ["gate", "{clip}", "--policy", "{policy}", "--source", "{x}"]),
        ("--prompt-file", ["gate", "{clip}", "--policy", "{policy}", "--prompt-file", "{x}"]),
        ("--key", ["sign", "{clip}", "-o", "{out}", "--key", "{x}", "--cert", "{x}", "--ai", "no"]),
        ("trust file", ["--trust", "{x}", "{clip}"]),
        ("trust file", ["trust", "install", "{x}", "--config-dir", "{cfg}"]),
    ],
)
def test_special_files_are_refused_not_read(
    tmp_path: Path, special: str, what: str, argv: list[str]
) -> None:
    """A FIFO or a device where a file is expected would hang or read forever."""
    if special == "fifo":
        x = tmp_path / "fifo"
        os.mkfifo(x)
    else:
        x = Path(special)
    values = {
        "clip": str(media("captured.mp4")),
        "x": str(x),
        "policy": _policy(tmp_path),
        "out": str(tmp_path / "o.mp4"),
        "cfg": str(tmp_path / "cfg"),
    }
    r = run(*[a.format(**values) for a in argv])
    _assert_one_line_failure(r, 5, what, str(x))
    assert not (tmp_path / "o.mp4").exists()


def test_odd_values_get_a_clear_answer_not_an_internal_error(tmp_path: Path) -> None:
    r = run("keys", "create-test-ca", str(tmp_path / "ca"), "--org", "o" * 65)
    assert r.exit_code == 2 and "at most 44 characters" in r.stderr
    assert not (tmp_path / "ca").exists() or not any((tmp_path / "ca").iterdir())
    assert run("keys", "create-test-ca", str(tmp_path / "ca44"), "--org", "o" * 44).exit_code == 0
    named = tmp_path / "röot-ça.pem"
    named.write_bytes(TEST_ROOT.read_bytes())
    cfg = str(tmp_path / "cfg")
    r = run("trust", "install", str(named), "--config-dir", cfg)
    assert r.exit_code == 0 and "internal error" not in r.stderr
    assert run("--config-dir", cfg, str(media("captured.mp4"))).exit_code == 0
