"""Trust configuration: loading, installing, and `trust update` against a real loopback server."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance import NetworkError, TrustConfig, TrustConfigError, Verdict, verify
from provenance import trust as trust_mod

from .conftest import SHARED_TRUST, TEST_ROOT, media


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def trust_server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving the committed trust lists (never the internet)."""
    handler = functools.partial(_QuietHandler, directory=str(SHARED_TRUST))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_empty_config_dir_loads_empty(tmp_path: Path) -> None:
    cfg = TrustConfig.load(tmp_path)
    assert cfg.sources() == () and not cfg.has_signer_trust


def test_shared_lists_parse_despite_comments() -> None:
    cfg = TrustConfig.from_files(
        anchors=[SHARED_TRUST / "C2PA-TRUST-LIST.pem"],
        tsa=[SHARED_TRUST / "C2PA-TSA-TRUST-LIST.pem"],
    )
    assert cfg.anchors[0].count == 30
    assert cfg.tsa[0].count == 22


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "no PEM certificate found"),
        (b"hello", "no PEM certificate found"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "cannot be parsed"),
    ],
)
def test_bad_pem_is_refused(tmp_path: Path, content: bytes, match: str) -> None:
    p = tmp_path / "bad.pem"
    p.write_bytes(content)
    with pytest.raises(TrustConfigError, match=match):
        TrustConfig.from_files(anchors=[p])


def test_missing_and_directory_trust_files(tmp_path: Path) -> None:
    with pytest.raises(TrustConfigError, match="cannot read trust file"):
        TrustConfig.from_files(anchors=[tmp_path / "nope.pem"])
    with pytest.raises(TrustConfigError, match="is a directory"):
        TrustConfig.from_files(anchors=[tmp_path])


def test_install_then_load_trusts(tmp_path: Path) -> None:
    src = trust_mod.install(
        TEST_ROOT.read_bytes(),
        kind="anchors",
        label="fixtures root",
        origin=str(TEST_ROOT),
        config_dir=tmp_path,
    )
    assert src.label == "fixtures-root" and src.count == 1
    cfg = TrustConfig.load(tmp_path)
    report = verify(media("captured.mp4"), trust=cfg)
    assert report.verdict is Verdict.TRUSTED
    assert report.signer is not None and report.signer.trust_list == "fixtures-root"


def test_update_downloads_both_lists(tmp_path: Path, trust_server: str) -> None:
    sources = trust_mod.update(
        config_dir=tmp_path,
        trust_list_url=f"{trust_server}/C2PA-TRUST-LIST.pem",
        tsa_list_url=f"{trust_server}/C2PA-TSA-TRUST-LIST.pem",
    )
    assert [(s.kind, s.label, s.count) for s in sources] == [
        ("anchors", "c2pa-trust-list", 30),
        ("tsa", "c2pa-tsa-trust-list", 22),
    ]
    cfg = TrustConfig.load(tmp_path)
    assert cfg.anchors[0].count == 30 and cfg.tsa[0].count == 22
    # Test signers are not on the official list.
    assert verify(media("captured.mp4"), trust=cfg).verdict is Verdict.UNTRUSTED


def test_failed_update_keeps_previous_lists(tmp_path: Path, trust_server: str) -> None:
    trust_mod.update(
        config_dir=tmp_path,
        trust_list_url=f"{trust_server}/C2PA-TRUST-LIST.pem",
        tsa_list_url=f"{trust_server}/C2PA-TSA-TRUST-LIST.pem",
    )
    before = sorted(p.read_bytes() for p in tmp_path.rglob("*.pem"))
    with pytest.raises(NetworkError, match="HTTP 404"):
        trust_mod.update(
            config_dir=tmp_path,
            trust_list_url=f"{trust_server}/C2PA-TRUST-LIST.pem",
            tsa_list_url=f"{trust_server}/missing.pem",
        )
    with pytest.raises(TrustConfigError, match="no PEM certificate"):
        trust_mod.update(
            config_dir=tmp_path,
            trust_list_url=f"{trust_server}/LICENSE",
            tsa_list_url=f"{trust_server}/C2PA-TSA-TRUST-LIST.pem",
        )
    assert sorted(p.read_bytes() for p in tmp_path.rglob("*.pem")) == before
    assert not list(tmp_path.rglob("*.tmp"))


def test_unreachable_server_is_a_network_error(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match="download failed"):
        trust_mod.download("http://127.0.0.1:9/none.pem", timeout=2)
    with pytest.raises(NetworkError, match="only http"):
        trust_mod.download("file:///etc/passwd")
