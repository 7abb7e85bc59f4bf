"""Shared paths and helpers. Fixtures are real files: see fixtures/README.md."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization

from provenance import PemSigner, TrustConfig, keys

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
MEDIA = FIXTURES / "media"
TEST_ROOT = FIXTURES / "testca" / "test-root-ca.pem"
UNTRUSTED_ROOT = FIXTURES / "testca-untrusted" / "test-root-ca.pem"
# Third-party assets live in the repository (fixtures/third_party, with licences and
# sources), so a clone with nothing beside it runs every test.
THIRD_PARTY = FIXTURES / "third_party"
CORPUS = THIRD_PARTY / "c2pa-rs"
SHARED_TRUST = THIRD_PARTY / "c2pa-trust-lists"
RUBRICS = THIRD_PARTY / "c2pa-signal-rubrics"


# The TEST-ONLY signers every test signs with, and the trust that vouches for the first.
CA = FIXTURES / "testca"
OTHER_CA = FIXTURES / "testca-untrusted"
SIGNER = PemSigner.from_files(CA / "test-signer.key", CA / "test-signer-chain.pem")
STRANGER = PemSigner.from_files(OTHER_CA / "test-signer.key", OTHER_CA / "test-signer-chain.pem")
TRUST = TrustConfig.from_files(anchors=[TEST_ROOT])


def require_tool(name: str, package: str) -> str:
    """The path of an external tool a test needs. Missing, it skips the test, unless
    PROVCHECK_REQUIRE_TOOLS=1 (set by .ci/run), where a missing tool is a failure."""
    exe = shutil.which(name)
    if exe is None:
        if os.environ.get("PROVCHECK_REQUIRE_TOOLS") == "1":
            pytest.fail(
                f"{name} is required (PROVCHECK_REQUIRE_TOOLS=1): apt-get install {package}"
            )
        pytest.skip(f"{name} not installed (apt-get install {package})")
    return exe


def media(name: str) -> Path:
    return MEDIA / name


@pytest.fixture
def test_trust() -> TrustConfig:
    return TrustConfig.from_files(anchors=[TEST_ROOT])


@pytest.fixture
def corpus() -> Path:
    return CORPUS


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty provcheck config dir, so the user's installed trust never leaks in."""
    d = tmp_path / "config"
    monkeypatch.setenv("PROVCHECK_CONFIG_DIR", str(d))
    return d


@pytest.fixture(autouse=True)
def _isolated_config(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVCHECK_CONFIG_DIR", str(tmp_path_factory.mktemp("noconfig")))


def copy_media(name: str, dest: Path) -> Path:
    shutil.copy(media(name), dest)
    return dest


def short_lived_signer(tmp_path: Path, seconds: float) -> tuple[PemSigner, Path]:
    """A TEST-ONLY root and a signer whose certificate expires in ``seconds``."""
    rk = keys.generate_key()
    root = keys.issue_certificate(
        subject_key=rk,
        issuer_key=rk,
        issuer_cert=None,
        cn="short root (TEST ONLY)",
        org="t",
        ca=True,
    )
    sk = keys.generate_key()
    now = dt.datetime.now(dt.UTC)
    leaf = keys.issue_certificate(
        subject_key=sk,
        issuer_key=rk,
        issuer_cert=root,
        cn="short signer (TEST ONLY)",
        org="t",
        not_before=now - dt.timedelta(days=1),
        not_after=now + dt.timedelta(seconds=seconds),
    )
    (tmp_path / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "chain.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        sk.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return PemSigner.from_files(tmp_path / "key.pem", tmp_path / "chain.pem"), tmp_path / "root.pem"


def find_box(data: bytes, kind: bytes, usertype: bytes | None = None) -> tuple[int, int]:
    """Offset and size of a top-level BMFF box (a ``uuid`` box also by its user type)."""
    from provenance.media import bmff_boxes

    for pos, size, box, header in bmff_boxes(io.BytesIO(data), len(data)):
        if box == kind and (usertype is None or data[pos + header : pos + header + 16] == usertype):
            return pos, size
    raise AssertionError(f"no top-level {kind!r} box")


@pytest.fixture(scope="session")
def signer() -> PemSigner:
    """The TEST-ONLY fixtures signer (``SIGNER``, chains to ``TEST_ROOT``)."""
    return SIGNER


def run_cli(*args: str) -> Result:
    """``provcheck ARGS`` in-process; exceptions propagate (a traceback is a failure)."""
    from provcheck.app import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def sign_argv(source: Path, output: Path, *extra: str) -> list[str]:
    """`provcheck sign SOURCE -o OUTPUT` with the TEST-ONLY fixtures signer, plus ``extra``."""
    ca = FIXTURES / "testca"
    return [
        "sign",
        str(source),
        "-o",
        str(output),
        "--key",
        str(ca / "test-signer.key"),
        "--cert",
        str(ca / "test-signer-chain.pem"),
        *extra,
    ]
