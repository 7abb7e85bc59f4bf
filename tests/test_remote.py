"""A file whose manifest is only referenced remotely: reported, fetched only when asked."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from provcheck.app import cli
from provenance import TrustConfig, Verdict, verify
from provenance.signing import PemSigner, sign

from .conftest import FIXTURES, TEST_ROOT, media


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    root = tmp_path / "www"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _remote_clip(tmp_path: Path, www: Path, base: str, publish: bool = True) -> Path:
    signer = PemSigner.from_files(
        FIXTURES / "testca" / "test-signer.key", FIXTURES / "testca" / "test-signer-chain.pem"
    )
    out = tmp_path / "remote.mp4"
    sidecar = tmp_path / "clip.c2pa"
    sign(
        media("unsigned.mp4"),
        out,
        signer=signer,
        ai="fully",
        remote_manifest_url=f"{base}/clip.c2pa",
        sidecar=sidecar,
    )
    if publish:
        (www / "clip.c2pa").write_bytes(sidecar.read_bytes())
    return out


def test_remote_reference_is_reported_not_fetched(tmp_path: Path, served: tuple[Path, str]) -> None:
    www, base = served
    clip = _remote_clip(tmp_path, www, base)
    report = verify(clip, trust=TrustConfig.from_files(anchors=[TEST_ROOT]))
    assert report.verdict is Verdict.UNSIGNED
    assert report.remote_manifest_url == f"{base}/clip.c2pa"
    assert "--remote-manifests" in report.reason


def test_remote_manifest_fetched_when_asked(tmp_path: Path, served: tuple[Path, str]) -> None:
    www, base = served
    clip = _remote_clip(tmp_path, www, base)
    report = verify(clip, trust=TrustConfig.from_files(anchors=[TEST_ROOT]), remote_manifests=True)
    assert report.verdict is Verdict.TRUSTED, report.reason
    assert report.ai_generated.value == "fully"
    r = CliRunner().invoke(cli, ["--remote-manifests", "--trust", str(TEST_ROOT), str(clip)])
    assert r.exit_code == 0, r.stdout
    r = CliRunner().invoke(cli, ["--trust", str(TEST_ROOT), str(clip)])
    assert r.exit_code == 3 and f"{base}/clip.c2pa" in r.stdout


def test_unpublished_remote_manifest(tmp_path: Path, served: tuple[Path, str]) -> None:
    www, base = served
    clip = _remote_clip(tmp_path, www, base, publish=False)
    report = verify(clip, trust=TrustConfig.from_files(anchors=[TEST_ROOT]), remote_manifests=True)
    assert report.verdict is Verdict.UNSIGNED
    assert "could not be fetched" in report.reason and "404" in report.reason
