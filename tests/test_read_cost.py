"""What the verdict read asks of the native library (issue 19): the second read for CAWG
identities runs only for a manifest that has identity assertions, and a file is read
through libc with no Python callbacks, to the same reports."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance import Report, TrustConfig, Verifier, _c2pa

from .conftest import CORPUS, FIXTURES, MEDIA, ROOT, copy_media, media


def test_no_identity_read_without_identity_assertions(test_trust: TrustConfig) -> None:
    with Verifier(test_trust) as v:
        assert v.verify(media("captured.mp4")).verdict.value == "trusted"
        assert v._ctx is not None and v._ctx._identity_ctx is None


def test_identity_read_for_a_manifest_with_identities() -> None:
    trust = TrustConfig.from_files(anchors=[CORPUS / "test_cert_root_bundle.pem"])
    with Verifier(trust) as v:
        report = v.verify(CORPUS / "C_with_CAWG_data.jpg")
        assert report.manifest is not None and report.manifest.identities
        assert v._ctx is not None and v._ctx._identity_ctx is not None


# -- the native file stream (provenance/_c2pa.py): libc reads the file, no Python callbacks

NATIVE = sys.platform.startswith("linux") and os.uname().machine in ("x86_64", "aarch64")
needs_native = pytest.mark.skipif(not NATIVE, reason="the native file stream is Linux-only")


def _reads(trust: TrustConfig, files: list[Path], native: bool) -> list[Report]:
    _c2pa._NATIVE_READ = native
    try:
        with Verifier(trust) as v:
            return [v.verify(f) for f in files]
    finally:
        _c2pa._NATIVE_READ = None


def _assets() -> list[Path]:
    corpus = [p for p in sorted(CORPUS.iterdir()) if p.suffix.lower() in _MEDIA_SUFFIXES]
    return sorted(MEDIA.iterdir()) + corpus


_MEDIA_SUFFIXES = {".jpg", ".jpeg", ".png", ".mp4", ".mov", ".webp", ".wav", ".avi", ".heic"}


@needs_native
def test_native_stream_is_used_for_files_only(tmp_path: Path) -> None:
    with open(media("captured.mp4"), "rb") as f:
        fd = _c2pa._fresh_fd(f)
        assert isinstance(fd, int)
        os.close(fd)
    assert _c2pa._fresh_fd(io.BytesIO(b"\0" * 64)) is None
    gz = tmp_path / "x.gz"
    with gzip.open(gz, "wb") as g:
        g.write(media("captured.mp4").read_bytes())
    with gzip.open(gz, "rb") as g:  # has a fileno(), but of the compressed file
        assert _c2pa._fresh_fd(g) is None
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    with open(fd, "rb") as f:  # opening a FIFO again would wait for a writer
        assert _c2pa._fresh_fd(f) is None


@needs_native
def test_native_and_python_streams_give_the_same_reports(tmp_path: Path) -> None:
    # every verdict kind, the corpus of other makers' files, and broken copies
    cut = tmp_path / "truncated.mp4"
    cut.write_bytes(media("ai_generated.mp4").read_bytes()[:3000])
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(4000))
    files = [*_assets(), cut, junk]
    trust = TrustConfig.from_files(
        anchors=[FIXTURES / "testca" / "test-root-ca.pem", CORPUS / "test_cert_root_bundle.pem"]
    )
    native, python = _reads(trust, files, True), _reads(trust, files, False)
    assert {r.verdict.value for r in native} >= {"trusted", "untrusted", "tampered", "invalid"}
    for f, a, b in zip(files, native, python, strict=True):
        assert a == b, f


@needs_native
def test_native_stream_leaves_the_callers_stream_alone(test_trust: TrustConfig) -> None:
    ctx = _c2pa.ReadContext(test_trust, _c2pa.ReadOptions())
    try:
        data = media("captured.mp4").read_bytes()
        with open(media("captured.mp4"), "rb") as f:
            assert f.read(100) == data[:100]
            raw = ctx.read("video/mp4", f)
            assert raw.store is not None and raw.store_bytes
            assert f.tell() == 100 and f.read(100) == data[100:200]
    finally:
        ctx.close()


@needs_native
def test_native_stream_reads_the_open_file_not_the_path(
    tmp_path: Path, test_trust: TrustConfig
) -> None:
    path = copy_media("captured.mp4", tmp_path / "clip.mp4")
    ctx = _c2pa.ReadContext(test_trust, _c2pa.ReadOptions())
    try:
        with open(path, "rb") as f:
            other = copy_media("tampered.mp4", tmp_path / "other.mp4")
            os.replace(other, path)  # the path now names a tampered file
            store = ctx.read("video/mp4", f).store
        assert store is not None and store.get("validation_state") == "Trusted"
    finally:
        ctx.close()


@needs_native
def test_native_stream_leaks_no_descriptor(tmp_path: Path, test_trust: TrustConfig) -> None:
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(media("ai_generated.mp4").read_bytes()[:3000])
    files = [*sorted(MEDIA.iterdir()), cut] * 3
    before = len(os.listdir("/proc/self/fd"))
    _reads(test_trust, files, True)
    assert len(os.listdir("/proc/self/fd")) == before


def test_native_stream_can_be_turned_off() -> None:
    code = (
        "from provenance import _c2pa; "
        "f = open('fixtures/media/captured.mp4', 'rb'); "
        "print(_c2pa._fresh_fd(f))"
    )
    env = dict(os.environ, PROVCHECK_NATIVE_READ="0")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert out.stdout.strip() == "None", out.stderr


@needs_native
@pytest.mark.parametrize("ingredient", ["photo_captured.jpg", "captured.mp4"])
def test_signing_reads_ingredient_and_output_through_libc_to_the_same_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ingredient: str, test_trust: TrustConfig
) -> None:
    """Signing hands the native library the ingredient and (fast path) the written file
    as libc-read streams: the manifest says what the Python-callback streams made it say."""
    import json

    import c2pa

    from provenance import PemSigner, sign, verify

    signer = PemSigner.from_files(
        FIXTURES / "testca" / "test-signer.key", FIXTURES / "testca" / "test-signer-chain.pem"
    )
    made_streams: list[object] = []
    real = _c2pa.libc_stream

    @contextlib.contextmanager
    def counted(fd: int) -> Iterator[object]:
        with real(fd) as stream:
            if stream is not None:
                made_streams.append(stream)
            yield stream

    monkeypatch.setattr(_c2pa, "libc_stream", counted)

    def ingredients_of(out: Path) -> list[dict[str, object]]:
        assert verify(out, trust=test_trust).verdict.value == "trusted"
        with open(out, "rb") as f, c2pa.Reader("video/mp4", f) as r:
            store = json.loads(r.json())
        label = store["active_manifest"]
        ings = store["manifests"][label]["ingredients"]
        for ing in ings:  # per-signing values
            ing.pop("instance_id", None)
        text = json.dumps(ings, sort_keys=True).replace(label, "ACTIVE")
        return list(json.loads(text))

    made = {}
    for native in ("1", "0"):
        monkeypatch.setenv("PROVCHECK_NATIVE_READ", native)
        monkeypatch.setattr(_c2pa, "_NATIVE_READ", None)
        made_streams.clear()
        out = tmp_path / f"out-{native}.mp4"
        sign(media("unsigned.mp4"), out, signer=signer, ai="fully", ingredients=[media(ingredient)])
        made[native] = ingredients_of(out)
        # libc reads the ingredient, and the written file for its hash; or nothing
        assert len(made_streams) == (2 if native == "1" else 0)
    assert made["1"] == made["0"]
