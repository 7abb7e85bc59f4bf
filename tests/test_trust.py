"""Trust configuration: loading, installing, and `trust update` against a real loopback server."""

from __future__ import annotations

import hashlib
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from provcheck.app import cli
from provenance import (
    InsecureDownloadWarning,
    NetworkError,
    PemSigner,
    TrustConfig,
    TrustConfigError,
    Verdict,
    create_test_ca,
    sign,
    verify,
)
from provenance import trust as trust_mod

from .conftest import SHARED_TRUST, TEST_ROOT, media
from .https_server import FileServer, TLSFiles, mint_tls
from .tsa_server import TSAServer, make_tsa


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    return mint_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def trust_server(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A real HTTPS server on 127.0.0.1 serving the committed trust lists (never the
    internet), with a test CA that OpenSSL's default (SSL_CERT_FILE) trusts for the test.
    Self-contained, so other test modules can import it (tests/test_cli.py does)."""
    tls = mint_tls(tmp_path_factory.mktemp("tls"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca_file))
    with FileServer(SHARED_TRUST, tls) as url:
        yield url


@pytest.fixture
def plain_http_server() -> Iterator[str]:
    with FileServer(SHARED_TRUST) as url:
        yield url


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
    with pytest.raises(NetworkError, match="only https"):
        trust_mod.download("file:///etc/passwd")
    with pytest.raises(NetworkError, match="download failed"):
        trust_mod.download("https://127.0.0.1:9/none.pem", timeout=2)


# --- transport security (issue 13): HTTPS with verification, opt-in HTTP, SHA-256 pins ---


def test_https_download_verifies_against_the_given_ca(tls: TLSFiles) -> None:
    with FileServer(SHARED_TRUST, tls) as url:
        data = trust_mod.download(f"{url}/C2PA-TRUST-LIST.pem", cafile=tls.ca_file)
    assert data == (SHARED_TRUST / "C2PA-TRUST-LIST.pem").read_bytes()


def test_https_server_with_an_unknown_ca_is_refused(tls: TLSFiles, tmp_path: Path) -> None:
    other = mint_tls(tmp_path / "other")  # a CA that did not issue the server's certificate
    with FileServer(SHARED_TRUST, tls) as url, pytest.raises(NetworkError) as info:
        trust_mod.download(f"{url}/C2PA-TRUST-LIST.pem", cafile=other.ca_file)
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value) and url in str(info.value)


def test_plain_http_is_refused_without_the_opt_in(tmp_path: Path, plain_http_server: str) -> None:
    with pytest.raises(NetworkError, match="refused: trust material over plain HTTP"):
        trust_mod.download(f"{plain_http_server}/C2PA-TRUST-LIST.pem")
    with pytest.raises(NetworkError, match="plain HTTP"):
        trust_mod.update(
            config_dir=tmp_path,
            trust_list_url=f"{plain_http_server}/C2PA-TRUST-LIST.pem",
            tsa_list_url=f"{plain_http_server}/C2PA-TSA-TRUST-LIST.pem",
        )
    assert not list(tmp_path.rglob("*.pem"))


def test_plain_http_opt_in_warns_every_time(plain_http_server: str) -> None:
    url = f"{plain_http_server}/C2PA-TRUST-LIST.pem"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # Python's default shows one per URL per process
        for _ in range(2):
            trust_mod.download(url, allow_insecure_http=True)
    insecure = [w for w in caught if issubclass(w.category, InsecureDownloadWarning)]
    assert len(insecure) == 2  # issued on every download
    assert url in str(insecure[0].message) and "without transport security" in str(
        insecure[0].message
    )


def test_redirect_to_plain_http_is_refused(tls: TLSFiles, plain_http_server: str) -> None:
    target = f"{plain_http_server}/C2PA-TRUST-LIST.pem"
    with FileServer(SHARED_TRUST, tls) as url, pytest.raises(NetworkError) as info:
        trust_mod.download(f"{url}/redirect-to/{target}", cafile=tls.ca_file)
    assert "refused a redirect" in str(info.value) and "not https" in str(info.value)


def test_sha256_pin(tls: TLSFiles, tmp_path: Path) -> None:
    body = (SHARED_TRUST / "C2PA-TSA-TRUST-LIST.pem").read_bytes()
    good = hashlib.sha256(body).hexdigest()
    with FileServer(SHARED_TRUST, tls) as url:
        tsa_url = f"{url}/C2PA-TSA-TRUST-LIST.pem"
        assert trust_mod.download(tsa_url, cafile=tls.ca_file, sha256=good.upper()) == body
        with pytest.raises(NetworkError, match=f"not the pinned {'0' * 64}; refused"):
            trust_mod.download(tsa_url, cafile=tls.ca_file, sha256="0" * 64)
        with pytest.raises(TrustConfigError, match="not a SHA-256 digest"):
            trust_mod.download(tsa_url, cafile=tls.ca_file, sha256="abc")
        with pytest.raises(NetworkError, match="not the pinned"):
            trust_mod.update(
                config_dir=tmp_path,
                trust_list_url=f"{url}/C2PA-TRUST-LIST.pem",
                tsa_list_url=tsa_url,
                pins={tsa_url: "f" * 64},
                cafile=tls.ca_file,
            )
    assert not list(tmp_path.rglob("*.pem"))  # a mismatch installs nothing


# --- odd names and special files (issue 13, Low) ---


@pytest.mark.parametrize("name", ["racines-éèà.pem", "信任根.pem", "Ωmega roots.pem"])
def test_non_ascii_trust_file_names(tmp_path: Path, name: str) -> None:
    pem = tmp_path / name
    pem.write_bytes(TEST_ROOT.read_bytes())
    assert TrustConfig.from_files(anchors=[pem]).anchors[0].label == Path(name).stem
    cfg_dir = tmp_path / "cfg"
    src = trust_mod.install(
        pem.read_bytes(), kind="anchors", label=pem.stem, origin=str(pem), config_dir=cfg_dir
    )
    assert src.count == 1
    cfg = TrustConfig.load(cfg_dir)
    assert verify(media("captured.mp4"), trust=cfg).verdict is Verdict.TRUSTED
    r = CliRunner().invoke(
        cli, ["trust", "install", str(pem), "--kind", "anchors", "--config-dir", str(cfg_dir)]
    )
    assert r.exit_code == 0, r.stderr


def test_a_very_long_non_ascii_label_is_shortened_to_a_valid_file_name(tmp_path: Path) -> None:
    src = trust_mod.install(
        TEST_ROOT.read_bytes(), kind="anchors", label="信" * 300, origin="t", config_dir=tmp_path
    )
    assert len(f"{src.label}.pem".encode()) <= 255 and src.label.startswith("信")
    assert TrustConfig.load(tmp_path).anchors[0].count == 1


def test_control_characters_in_a_label_stay_in_one_header_line(tmp_path: Path) -> None:
    label = "evil\n-----BEGIN CERTIFICATE-----\x1b[2J"
    src = trust_mod.install(
        TEST_ROOT.read_bytes(), kind="anchors", label=label, origin="x\ny", config_dir=tmp_path
    )
    text = next((tmp_path / "trust" / "anchors").glob("*.pem")).read_text()
    lines = text.splitlines()
    assert lines[0].startswith("# provcheck trust source: evil\\u000a") and "\x1b" not in text
    assert lines[1] == "# origin: x\\u000ay" and lines[2] == "-----BEGIN CERTIFICATE-----"
    assert src.count == 1 and TrustConfig.load(tmp_path).anchors[0].count == 1


@pytest.mark.timeout(20)
@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_special_files_are_refused_without_hanging(tmp_path: Path, special: str) -> None:
    if special == "fifo":
        path = tmp_path / "roots.pem"
        os.mkfifo(path)
    else:
        path = Path(special)
    with pytest.raises(TrustConfigError, match="expected a regular file"):
        TrustConfig.from_files(anchors=[path])


# --- an installed TSA list is used by verification (issue 20) ---


def test_installed_tsa_list_is_used(tmp_path: Path) -> None:
    tsa = make_tsa()
    ca = create_test_ca(tmp_path / "ca")
    signer = PemSigner.from_files(ca.signer_key, ca.signer_cert)
    out = tmp_path / "stamped.mp4"
    with TSAServer(tsa):
        sign(media("unsigned.mp4"), out, signer=signer, ai="fully", tsa_url=tsa.url)
    cfg_dir = tmp_path / "cfg"
    trust_mod.install(
        ca.root_cert.read_bytes(), kind="anchors", label="ca", origin="t", config_dir=cfg_dir
    )
    before = verify(out, trust=TrustConfig.load(cfg_dir))
    assert before.manifest is not None and before.manifest.timestamp is not None
    assert before.manifest.timestamp.trusted is not True
    trust_mod.install(
        tsa.root_pem(tmp_path / "tsa.pem").read_bytes(),
        kind="tsa",
        label="c2pa-tsa-trust-list",
        origin="t",
        config_dir=cfg_dir,
    )
    after = verify(out, trust=TrustConfig.load(cfg_dir))
    assert after.verdict is Verdict.TRUSTED
    assert after.manifest is not None and after.manifest.timestamp is not None
    assert after.manifest.timestamp.trusted is True


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG shortcut is Linux's")
@pytest.mark.parametrize("xdg", [None, "", "/tmp/xdg-config"])
def test_default_config_dir_is_platformdirs_own(
    xdg: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from platformdirs import user_config_dir

    from provenance.trust import default_config_dir

    monkeypatch.delenv("PROVCHECK_CONFIG_DIR", raising=False)
    if xdg is None:
        monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CONFIG_HOME", xdg)
    assert default_config_dir() == Path(user_config_dir("provcheck"))
