"""Child-process workloads for bench.py / levers.py (one operation per process).

Run as ``python bench/_child.py OP ARGS...``; prints one JSON line on stdout.
Kept import-light: c2pa is imported only by the operations that need it, so the
measured wall time and peak RSS belong to the operation, not to the harness.
"""

from __future__ import annotations

import hashlib
import io
import json
import mmap
import os
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TESTCA = os.path.join(REPO, "fixtures", "testca")
SIGNER_KEY = os.path.join(TESTCA, "test-signer.key")
SIGNER_CHAIN = os.path.join(TESTCA, "test-signer-chain.pem")
ROOT_CA = os.path.join(TESTCA, "test-root-ca.pem")

MINIMAL_MANIFEST: dict[str, Any] = {
    "claim_generator_info": [{"name": "provcheck-bench", "version": "0"}],
    "title": "bench.mp4",
    "format": "video/mp4",
    "assertions": [
        {
            "label": "c2pa.actions.v2",
            "data": {
                "actions": [
                    {
                        "action": "c2pa.created",
                        "digitalSourceType": "http://cv.iptc.org/newscodes/"
                        "digitalsourcetype/trainedAlgorithmicMedia",
                    }
                ]
            },
        }
    ],
}


class MmapStream(io.RawIOBase):
    """A read-only, seekable stream over an mmap of the whole file; ``readinto``
    copies straight from the page cache mapping (no read syscalls)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self._f = open(path, "rb")
        size = os.fstat(self._f.fileno()).st_size
        self._mm = mmap.mmap(self._f.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            self._mm.madvise(mmap.MADV_SEQUENTIAL)
        except (AttributeError, OSError):
            pass
        self._mv = memoryview(self._mm)
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = min(len(b), self._size - self._pos)
        if n <= 0:
            return 0
        b[:n] = self._mv[self._pos : self._pos + n]
        self._pos += n
        return n

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self._size - self._pos
        data = self._mm[self._pos : self._pos + n]
        self._pos += len(data)
        return data

    def seek(self, off: int, whence: int = 0) -> int:
        base = (0, self._pos, self._size)[whence]
        self._pos = max(0, base + off)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def write(self, b: Any) -> int:  # c2pa.Stream requires the method
        raise OSError("read-only")

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if not self.closed:
            self._mv.release()
            self._mm.close()
            self._f.close()
        super().close()


def open_stream(path: str, mode: str) -> Any:
    """How the asset is handed to c2pa: buf0 (raw FileIO), buf8k, buf1m, buf16m, mmap."""
    if mode == "mmap":
        return MmapStream(path)
    sizes = {"buf0": 0, "buf8k": 8192, "buf64k": 65536, "buf1m": 1 << 20, "buf16m": 16 << 20}
    return open(path, "rb", buffering=sizes[mode])


def _settings(overrides: list[str], trust: bool) -> dict[str, Any]:
    s: dict[str, Any] = {"version": 1}
    if trust:
        with open(ROOT_CA) as f:
            s["trust"] = {"user_anchors": f.read()}
    for ov in overrides:  # "section.key=json"
        key, _, raw = ov.partition("=")
        sect, _, name = key.partition(".")
        s.setdefault(sect, {})[name] = json.loads(raw)
    return s


def _context(overrides: list[str], trust: bool) -> Any:
    import c2pa

    if not overrides and not trust:
        return c2pa.Context()  # default settings
    return c2pa.Context.from_dict(_settings(overrides, trust))


def op_sha256(path: str) -> dict[str, Any]:
    with open(path, "rb", buffering=0) as f:
        h = hashlib.file_digest(f, "sha256")
    return {"sha256": h.hexdigest()}


def op_read(path: str, mode: str = "path", *overrides: str) -> dict[str, Any]:
    """Raw c2pa-python Reader, validation state out."""
    import c2pa

    trust = "trust" in overrides
    ovs = [o for o in overrides if o != "trust"]
    ctx = _context(ovs, trust)
    if mode == "path":
        reader = c2pa.Reader(path, context=ctx)
    else:
        stream = open_stream(path, mode)
        reader = c2pa.Reader("video/mp4", stream, context=ctx)
    with reader:
        state = reader.get_validation_state()
        n = len(reader.json())
    return {"validation_state": state, "json_len": n}


def op_sign(src: str, dst: str, mode: str = "sign_file", *overrides: str) -> dict[str, Any]:
    """Raw c2pa-python Builder signing with the test signer (es256)."""
    import c2pa

    with open(SIGNER_KEY, "rb") as f:
        key = f.read()
    with open(SIGNER_CHAIN, "rb") as f:
        chain = f.read()
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(b"es256", chain, key, None))
    ctx = _context(list(overrides), False)
    builder = c2pa.Builder.from_json(MINIMAL_MANIFEST, ctx)
    if mode == "sign_file":
        manifest = builder.sign_file(src, dst, signer)
    else:
        # mode = "<src mode>/<dst buffering>" e.g. "buf1m/buf1m" or "mmap/buf16m"
        smode, _, dmode = mode.partition("/")
        dsize = {"buf0": 0, "buf8k": 8192, "buf1m": 1 << 20, "buf16m": 16 << 20}[dmode or "buf1m"]
        with open_stream(src, smode) as s, open(dst, "w+b", buffering=dsize) as d:
            manifest = builder.sign(signer, "video/mp4", s, d)
    return {"manifest_len": len(manifest)}


def op_audit(
    listfile: str,
    repository: str = "",
    thumbnails: str = "0",
    timeout: str = "30",
    rss_limit_mib: str = "0",
    jobs: str = "2",
) -> dict[str, Any]:
    """The isolated audit workers over the paths listed in ``listfile`` (one a line), with
    the data segment of every worker limited to ``rss_limit_mib`` (RLIMIT_DATA, inherited
    at fork): a memory blow-up fails an allocation instead of taking the machine. With a
    ``repository`` (a SQLite file) every unsigned video is fingerprinted; ``thumbnails``
    decodes a frame too. The peak RSS is that of the largest worker."""
    import resource

    sys.path.insert(0, REPO)
    from provenance import Candidate, TrustConfig, run_audit

    limit = int(rss_limit_mib) << 20
    if limit:
        hard = resource.getrlimit(resource.RLIMIT_DATA)[1]
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    with open(listfile, encoding="utf-8") as f:
        paths = [line.rstrip("\n") for line in f if line.strip()]
    trust = TrustConfig.from_files(anchors=[ROOT_CA])
    if repository:
        from provenance.repository import SQLiteRepository

        SQLiteRepository(repository).close()  # create the schema once, not per worker
    t0 = time.monotonic()
    reports = [
        {"path": r.path, "verdict": r.verdict.value, "reason": r.reason}
        for r in run_audit(
            [Candidate(p) for p in paths],
            trust,
            jobs=int(jobs),
            timeout=float(timeout),
            repository=repository or None,
            thumbnails=thumbnails == "1",
        )
    ]
    return {
        "reports": reports,
        "seconds": round(time.monotonic() - t0, 2),
        "peak_worker_rss_mib": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
        ),
    }


def main() -> None:
    op, *args = sys.argv[1:]
    t0 = time.perf_counter()
    out = {"op": op, **globals()[f"op_{op.replace('-', '_')}"](*args)}
    out["inner_s"] = round(time.perf_counter() - t0, 4)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
