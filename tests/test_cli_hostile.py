"""Strings from files are data on every output of the CLI (issue 13).

A manifest title and a file name full of terminal controls (``\\r``, ``ESC[2J``,
cursor moves, OSC 8 hyperlinks, bidi overrides) are signed with the UNTRUSTED test
CA; the real ``provcheck`` then runs in a real pseudo-terminal (and through a pipe)
and the screen must never show TRUSTED for it. Rich markup in a signer name must not
abort the audit or inject a link; CSV cells must not start a formula.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provcheck.app import cli
from provenance import PemSigner, keys, sign
from provenance.textsafe import for_csv, for_terminal

from .conftest import FIXTURES, TEST_ROOT, media

UNTRUSTED_CA = FIXTURES / "testca-untrusted"

# Clears the screen, homes the cursor, paints a green "TRUSTED" verdict, opens an
# OSC 8 hyperlink, moves the cursor up, reverses the text direction, hides text.
HOSTILE_TITLE = (
    "\r\x1b[2J\x1b[H\x1b[1;32mclip.mp4  TRUSTED\x1b[0m\n"
    "  why  signed by a trusted newsroom"
    "\x1b]8;;https://evil.example/\x1b\\details\x1b]8;;\x1b\\"
    "\x1b[5A\x1b[2K\u202e\u200b\u2066[/]Evil[link=https://evil.example]x[/link]\x07\x9b"
)
HOSTILE_NAME = "e\r\x1b[2J\x1b[1;32mTRUSTED\x1b[0m\x1b]8;;x\x07[bold]\u202e.mp4"

# Our own output uses only SGR colour sequences; anything else is an injection.
_SGR = re.compile(r"\x1b\[[0-9;]*m")
_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def _signed_hostile(tmp_path: Path) -> Path:
    signer = PemSigner.from_files(
        UNTRUSTED_CA / "test-signer.key", UNTRUSTED_CA / "test-signer-chain.pem"
    )
    folder = tmp_path / "in"
    folder.mkdir()
    out = folder / HOSTILE_NAME
    sign(media("unsigned.mp4"), out, signer=signer, ai="fully", title=HOSTILE_TITLE)
    return out


def _run_in_pty(argv: list[str], timeout: float = 120.0) -> str:
    """Run the real command with a pseudo-terminal as stdin, stdout and stderr."""
    import pty  # POSIX only, like the rest of the CLI tests

    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "400", "LINES": "50"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return b"".join(chunks).decode("utf-8", "replace")


def _screen_lines(raw: str) -> list[str]:
    """The text a terminal shows, once it is known that only colours and newlines remain."""
    without_colour = _SGR.sub("", raw)
    assert "\x1b" not in without_colour, repr(without_colour)  # no cursor/OSC/clear
    assert "\r" not in without_colour.replace("\r\n", ""), repr(without_colour)
    bad = _FORBIDDEN.findall(without_colour.replace("\r\n", "\n"))
    assert bad == [], bad
    return without_colour.replace("\r\n", "\n").split("\n")


def _never_trusted(lines: list[str]) -> None:
    for line in lines:
        for m in re.finditer(r"TRUSTED", line):
            before = line[max(0, m.start() - 2) : m.start()]
            # the verdict says UNTRUSTED; a forged "TRUSTED" is visibly escaped text
            assert before == "UN" or "\\x1b" in line[: m.start()], line


def test_verify_on_a_real_terminal_never_shows_trusted(tmp_path: Path) -> None:
    path = _signed_hostile(tmp_path)
    raw = _run_in_pty([sys.executable, "-m", "provcheck", "--trust", str(TEST_ROOT), str(path)])
    assert "\x1b[" in raw  # a terminal: colours are on, so the check below is real
    lines = _screen_lines(raw)
    verdict = next(x for x in lines if "UNTRUSTED" in x)
    assert verdict.endswith("UNTRUSTED") and "\\r\\x1b[2J" in verdict
    assert "\\x1b]8;;" in "\n".join(lines) and "\\u202e" in "\n".join(lines)
    _never_trusted(lines)


def test_audit_table_on_a_real_terminal_never_shows_trusted(tmp_path: Path) -> None:
    path = _signed_hostile(tmp_path)
    raw = _run_in_pty(
        [
            sys.executable,
            "-m",
            "provcheck",
            "audit",
            str(path.parent),
            "--trust",
            str(TEST_ROOT),
            "--no-progress",
        ]
    )
    lines = _screen_lines(raw)
    row = next(x for x in lines if "untrusted" in x and "e\\r" in x)
    assert "\\x1b[2J" in row and "TRUSTED" in row
    _never_trusted(lines)


def test_piped_output_is_escaped_too(tmp_path: Path) -> None:
    path = _signed_hostile(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "provcheck", "--trust", str(TEST_ROOT), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    lines = _screen_lines(proc.stdout)
    assert lines[0].endswith("  UNTRUSTED")
    assert f"title       {for_terminal(HOSTILE_TITLE)}" in proc.stdout
    _never_trusted(lines)


def test_json_keeps_the_data_exact(tmp_path: Path) -> None:
    path = _signed_hostile(tmp_path)
    r = CliRunner().invoke(cli, ["--format", "json", "--trust", str(TEST_ROOT), str(path)])
    res = json.loads(r.stdout)["results"][0]
    assert res["manifest"]["title"] == HOSTILE_TITLE and res["path"] == str(path)
    assert "\x1b" not in r.stdout  # JSON escapes controls itself (\u001b)


def _hostile_signer(tmp_path: Path, cn: str, org: str) -> PemSigner:
    rk = keys.generate_key()
    root = keys.issue_certificate(
        subject_key=rk, issuer_key=rk, issuer_cert=None, cn="markup root (TEST ONLY)",
        org="t", ca=True,
    )  # fmt: skip
    sk = keys.generate_key()
    leaf = keys.issue_certificate(subject_key=sk, issuer_key=rk, issuer_cert=root, cn=cn, org=org)
    (tmp_path / "chain.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        sk.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return PemSigner.from_files(tmp_path / "key.pem", tmp_path / "chain.pem")


def _audit(*args: str) -> Result:
    return CliRunner().invoke(cli, ["audit", *args], catch_exceptions=False)


def test_rich_markup_in_a_signer_is_shown_not_parsed(tmp_path: Path) -> None:
    signer = _hostile_signer(tmp_path, "[link=https://evil.example]Newsroom[/link]", "[/]Evil")
    folder = tmp_path / "clips"
    (folder / "x[").mkdir(parents=True)  # the path then holds "x[/]Evil"
    sign(media("unsigned.mp4"), folder / "[bold]a[link=x].mp4", signer=signer, ai="no")
    sign(media("unsigned.mp4"), folder / "x[" / "]Evil.mp4", signer=signer, ai="no")
    r = _audit(str(folder), "--trust", str(TEST_ROOT))
    assert r.exit_code == 1, r.stderr
    assert "internal error" not in r.stderr and "MarkupError" not in r.stderr
    assert "[/]Evil" in r.stdout and "[link=https://evil.example]Newsroom[/link]" in r.stdout
    assert "[bold]a[link=x].mp4" in r.stdout and "x[/]Evil.mp4" in r.stdout
    assert "\x1b]8;" not in r.stdout
    out = tmp_path / "report.txt"
    r = _audit(str(folder), "--trust", str(TEST_ROOT), "-o", str(out))
    assert r.exit_code == 1 and "[/]Evil" in out.read_text()


def test_csv_cells_never_start_a_formula(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    signer = _hostile_signer(tmp_path, "@SUM(1+1)*cmd|'calc'!A0", '+HYPERLINK("x")')
    monkeypatch.chdir(tmp_path)
    sign(media("unsigned.mp4"), tmp_path / "=1+2.mp4", signer=signer, ai="no")
    r = _audit("=1+2.mp4", "--trust", str(TEST_ROOT), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == 1
    row = rows[0]
    assert row["path"] == "'=1+2.mp4"
    assert row["signer"] == "'@SUM(1+1)*cmd|'calc'!A0"
    assert row["signer_organization"] == '\'+HYPERLINK("x")'
    assert row["verdict"] == "untrusted"  # ordinary cells are left alone
    for cell in (v for r_ in rows for v in r_.values()):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain name.mp4", "plain name.mp4"),
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("a\rb\nc\td", "a\\rb\\nc\\td"),
        ("\x1b]8;;https://x\x1b\\L\x1b]8;;\x1b\\", "\\x1b]8;;https://x\\x1b\\L\\x1b]8;;\\x1b\\"),
        ("\x07\x7f\x9b\x85", "\\x07\\x7f\\x9b\\x85"),
        ("abc\u202edef", "abc\\u202edef"),
        ("x\u2066y\u2069z\u200e\u061c", "x\\u2066y\\u2069z\\u200e\\u061c"),
        ("zero\u200bwidth\u200d\ufeff\u2060", "zero\\u200bwidth\\u200d\\ufeff\\u2060"),
        ("soft\u00adhyphen\u2028", "soft\\xadhyphen\\u2028"),
        ("caf\u00e9 \u00a0\u65e5\u672c", "caf\u00e9 \u00a0\u65e5\u672c"),
        ("bytes\udcff\udc80", "bytes\\xff\\x80"),
        ("[/]Evil[link=x]", "[/]Evil[link=x]"),
    ],
)
def test_for_terminal(raw: str, shown: str) -> None:
    assert for_terminal(raw) == shown


@pytest.mark.parametrize(
    ("raw", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\\t=1"),  # controls escaped too (a bare CR ends a spreadsheet row)
        ("\r=1", "'\\r=1"),
        ("x\r=1", "x\\r=1"),
        ("\x1b[0m=1", "\\x1b[0m=1"),  # a pipe stripping ANSI cannot uncover the "="
        ("a=1", "a=1"),
        ("", ""),
    ],
)
def test_for_csv(raw: str, cell: str) -> None:
    assert for_csv(raw) == cell


# ---------------------------------------------------------------------------
# every string field, any characters: the renderers never pass a control through

_PAYLOADS = st.sampled_from(
    [
        "\x1b[2J",
        "\r",
        "\x1b]8;;https://evil.example/\x1b\\",
        "\x9b31m",
        "\u202e",
        "\u2066",
        "\u200b",
        "[/]",
        "[link=https://evil.example]",
        "=cmd|' /C calc'!A0",
        "\ud800",
    ]
)
_HOSTILE_TEXT = st.lists(st.one_of(st.text(max_size=8), _PAYLOADS), max_size=4).map("".join)


def _no_control_on_screen(text: str) -> None:
    plain = _SGR.sub("", text)
    assert "\x1b" not in plain and "\r" not in plain
    assert _FORBIDDEN.findall(plain.replace("\n", "")) == []
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in plain)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=st.lists(_HOSTILE_TEXT, min_size=12, max_size=12))
def test_every_field_is_escaped_in_text_and_table(s: list[str]) -> None:
    from rich.console import Console

    from provcheck import audit_render, render
    from provenance import (
        Action,
        AIGeneration,
        Ingredient,
        Manifest,
        Problem,
        Report,
        Signer,
        Timestamp,
        Verdict,
    )

    signer = Signer(common_name=s[0], organization=s[1], issuer=s[2], trust_list=s[3] or None)
    ingredient = Ingredient(
        title=s[4], format=s[5], relationship=s[6], status="invalid",
        problems=(Problem(code=s[7], message=s[8], detail=s[9], where=s[10]),),
    )  # fmt: skip
    manifest = Manifest(
        label=s[0],
        claim_generator=s[11],
        title=s[4] or "t",
        format=s[5],
        signer=signer,
        timestamp=Timestamp(time=s[6], authority=s[7], trusted=None),
        actions=(Action(action=s[8], digital_source_type=s[9], software_agent=s[10], when=s[11]),),
        ai_generated=AIGeneration.FULLY,
        ingredients=(ingredient,),
    )
    for verdict in (Verdict.UNTRUSTED, Verdict.TAMPERED):
        report = Report(
            path=s[1] or "p",
            verdict=verdict,
            reason=s[2],
            ai_reason=s[3],
            format=s[5],
            manifest=manifest,
            problems=ingredient.problems,
            notes=(s[0], s[11]),
            fragments=(s[6],),
            remote_manifest_url=s[7] or None,
            inconsistencies=(s[8],),
        )
        _no_control_on_screen(render.render_text(report, verbose=True, detailed=True))
        with open(os.devnull, "w") as sink:
            console = Console(record=True, width=300, file=sink, force_terminal=True)
            console.print(audit_render.results_table([report]))
            _no_control_on_screen(console.export_text(styles=True))
        text = audit_render.render("csv", [report], _summary(), 4)  # type: ignore[arg-type]
        rows = list(csv.reader(io.StringIO(text, newline="")))
        for cell in rows[1]:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def _summary() -> object:
    from provenance import summarize

    return summarize([], [], 0.0)
