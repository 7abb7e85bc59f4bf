"""A resolution server is a stranger too (issue 13, attack pass).

``RemoteRepository`` (provenance/resolution.py) is the client of an untrusted Soft Binding
Resolution API server, used in-process by ``provcheck FILE --repository https://...`` and
``repo lookup``: no worker time limit is around it there. A server that answers slowly,
one byte at a time, must not hold the command for longer than the client's timeout allows.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance import fingerprint
from provenance.errors import ProvenanceError

from .conftest import media


class _Drip(http.server.BaseHTTPRequestHandler):
    """Answers every request with a promised 100 kB JSON body, one byte every 0.3 s."""

    stop = threading.Event()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        try:
            while not self.stop.is_set():
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.3)
        except OSError:
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def drip_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Drip)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        _Drip.stop.set()
        server.shutdown()
        server.server_close()
        _Drip.stop.clear()


def test_a_slow_server_cannot_hold_the_client(drip_server: str, tmp_path: Path) -> None:
    from provenance.resolution import RemoteRepository  # not at import: test_api checks

    fp = fingerprint.compute(media("captured.mp4"))
    repo = RemoteRepository(drip_server, timeout=1.0)
    outcome: list[object] = []

    def ask() -> None:
        try:
            outcome.append(repo.lookup(fp))
        except ProvenanceError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=ask, daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(timeout=10)  # ten times the client's own timeout
    elapsed = time.monotonic() - started
    assert not worker.is_alive(), f"still reading after {elapsed:.0f} s"
    assert outcome and isinstance(outcome[0], ProvenanceError)
