"""The HTML audit report, rendered in a real headless Chromium: every file is shown and no
string from a file ever runs as script."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from provcheck.app import cli
from provenance import PemSigner, sign

from .conftest import FIXTURES, TEST_ROOT, media, require_tool

EVIL = '<script>document.title="pwned"</script><img src=x onerror="document.title=1">'
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    return shutil.which("chromium-browser") or require_tool("chromium", "chromium")


@pytest.fixture
def report(tmp_path: Path) -> tuple[Path, list[str]]:
    folder = tmp_path / "in"
    folder.mkdir()
    names = [
        "ai_generated.mp4",
        "tampered.mp4",
        "stripped_keep_xmp.mp4",
        "untrusted.mp4",
        "photo_captured.jpg",
        "synthetic_voice.wav",
    ]
    for n in names:
        shutil.copy(media(n), folder / n)
    signer = PemSigner.from_files(
        FIXTURES / "testca" / "test-signer.key", FIXTURES / "testca" / "test-signer-chain.pem"
    )
    sign(media("unsigned.mp4"), folder / "evil.mp4", signer=signer, ai="fully", title=EVIL)
    out = tmp_path / "report.html"
    r = CliRunner().invoke(
        cli, ["audit", str(folder), "--format", "html", "-o", str(out), "--trust", str(TEST_ROOT)]
    )
    assert r.exit_code == 4, r.stderr
    return out, [*names, "evil.mp4"]


def test_html_is_escaped_and_self_contained(report: tuple[Path, list[str]]) -> None:
    out, names = report
    html = out.read_text()
    assert EVIL not in html
    assert "&lt;script&gt;document.title=&#34;pwned&#34;&lt;/script&gt;" in html
    assert "http://" not in html.split("<body>")[1].replace(
        "http://cv.iptc.org/newscodes/digitalsourcetype/", ""
    )  # nothing to fetch
    assert html.count("data:image/jpeg;base64,") >= 5  # thumbnails are inline
    for n in names:
        assert n in html


def test_html_renders_in_chromium_without_running_injected_script(
    report: tuple[Path, list[str]], tmp_path: Path
) -> None:
    exe = _chromium()
    out, names = report
    dom = subprocess.run(
        [exe, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", out.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "<title>provcheck audit report</title>" in dom  # the injected script never ran
    assert 'onerror="document.title=1"' not in dom.replace("&quot;", '"').split("</title>")[0]
    assert '<img src="x"' not in dom
    assert dom.count('class="file"') == len(names)
    for n in names:
        assert n in dom
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            exe,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile2'}",
            "--window-size=1200,1600",
            f"--screenshot={shot}",
            out.as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    assert shot.exists() and shot.stat().st_size > 10_000
