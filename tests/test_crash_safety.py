"""Crash safety of signing: SIGKILL at random points and a full disk leave the input intact
and nothing partial at the destination name."""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import FIXTURES, media, sign_argv

CA = FIXTURES / "testca"


def _big_clip(path: Path, mib: int) -> Path:
    """A real clip followed by a large top-level `free` box: valid MP4, slow to copy."""
    data = media("unsigned.mp4").read_bytes()
    with open(path, "wb") as f:
        f.write(data)
        size = mib * 1024 * 1024
        f.write(struct.pack(">I4s", size, b"free"))
        chunk = b"\0" * (1024 * 1024)
        for _ in range(mib):
            f.write(chunk)
        f.truncate(len(data) + size)
    return path


def _sign_cmd(src: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "provcheck", *sign_argv(src, out, "--ai", "fully")]


def _sha(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@pytest.mark.parametrize("delay", [0.3, 0.6, 0.9, 1.3])
def test_sigkill_mid_sign(tmp_path: Path, delay: float) -> None:
    src = _big_clip(tmp_path / "big.mp4", 96)
    before = _sha(src)
    out = tmp_path / "out.mp4"
    proc = subprocess.Popen(
        _sign_cmd(src, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert _sha(src) == before
    if out.exists():  # the kill came after the atomic rename: then it is whole and valid
        from provenance import TrustConfig, Verdict, verify

        trust = TrustConfig.from_files(anchors=[CA / "test-root-ca.pem"])
        assert verify(out, trust=trust).verdict is Verdict.TRUSTED


def test_full_disk_gives_a_clear_error(tmp_path: Path) -> None:
    src = _big_clip(tmp_path / "big.mp4", 8)
    before = _sha(src)
    out = tmp_path / "out.mp4"

    def limit() -> None:  # files this process writes may not grow past 2 MiB
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2 * 1024 * 1024, 2 * 1024 * 1024))

    proc = subprocess.run(
        _sign_cmd(src, out), capture_output=True, text=True, timeout=120, preexec_fn=limit
    )
    assert proc.returncode == 5, proc.stderr
    assert "provcheck: error:" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["big.mp4"]
    assert _sha(src) == before
    assert os.access(src, os.R_OK)
