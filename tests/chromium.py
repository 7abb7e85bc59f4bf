"""A small Chrome DevTools Protocol client over ``--remote-debugging-pipe`` (stdlib only).

Drives a real headless Chromium: open a page, evaluate script, click at an element's
real coordinates, type, take screenshots. Used by the HTML report test and by
``bench/html_report.py``. Messages are JSON, each ended by a NUL byte, on fd 3 (to
Chromium) and fd 4 (from Chromium).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["Browser", "Page", "ChromiumError", "FLAGS", "find_chromium"]

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
]


_TRAMPOLINE = """
import fcntl, os, sys
r, w = (fcntl.fcntl(int(fd), fcntl.F_DUPFD, 10) for fd in sys.argv[1:3])
os.dup2(r, 3)
os.dup2(w, 4)
os.execv(sys.argv[3], sys.argv[3:])
"""


class ChromiumError(RuntimeError):
    """The browser said no, died, or did not answer in time."""


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """One headless Chromium process with a private profile, driven through a pipe."""

    def __init__(self, exe: str, profile: Path, *, timeout: float = 60.0) -> None:
        self.timeout = timeout
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        # Chromium reads fd 3 and writes fd 4: a tiny trampoline puts the pipe ends there
        # (sh cannot redirect from fds above 9).
        argv = [exe, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe"]
        profile.mkdir(parents=True, exist_ok=True)
        self.log = profile / "chromium.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _TRAMPOLINE, str(to_child_r), str(from_child_w), *argv],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                pass_fds=(to_child_r, from_child_w),
            )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except (ChromiumError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        session: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        try:
            os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        except BrokenPipeError:
            raise ChromiumError(f"Chromium is gone: {self._tail()}") from None
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise ChromiumError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_event(self, method: str, *, session: str | None, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if ev.get("method") == method and ev.get("sessionId") == session:
                    del self.events[: i + 1]
                    params: dict[str, Any] = ev.get("params", {})
                    return params
            self.events.append(self._read(deadline))

    def _read(self, deadline: float) -> dict[str, Any]:
        import select

        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChromiumError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_child], [], [], left)
            if ready:
                chunk = os.read(self._from_child, 1 << 20)
                if not chunk:
                    raise ChromiumError(f"Chromium exited: {self._tail()}")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        msg: dict[str, Any] = json.loads(raw)
        return msg

    def _tail(self) -> str:
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        text = self.log.read_text(errors="replace")[-1500:]
        return f"exit code {self.proc.poll()}; {text}"

    def page(self, width: int = 1280, height: int = 900) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        return Page(self, session, width, height)


class Page:
    """One tab."""

    def __init__(self, browser: Browser, session: str, width: int, height: int) -> None:
        self.browser = browser
        self.session = session
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.resize(width, height)

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.browser.send(method, params, session=self.session)

    def resize(self, width: int, height: int) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    def before_load(self, source: str) -> None:
        """Script run in every new document before the page's own (bypasses the page CSP)."""
        self.send("Page.addScriptToEvaluateOnNewDocument", {"source": source})

    def goto(self, url: str, *, timeout: float = 120.0) -> None:
        self.browser.events.clear()
        reply = self.send("Page.navigate", {"url": url})
        if reply.get("errorText"):
            raise ChromiumError(f"navigate {url}: {reply['errorText']}")
        self.browser.wait_event("Page.loadEventFired", session=self.session, timeout=timeout)

    def eval(self, expression: str) -> Any:
        reply = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in reply:
            raise ChromiumError(f"{expression[:80]}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait_for(self, condition: str, timeout: float = 10.0) -> None:
        """Wait until the JavaScript expression ``condition`` is truthy in the page."""
        ok = self.eval(
            "new Promise(done => { const end = performance.now() + " + str(timeout * 1000) + ";"
            " const poll = () => { if (" + condition + ") done(true);"
            " else if (performance.now() > end) done(false); else setTimeout(poll, 20); };"
            " poll(); })"
        )
        if not ok:
            raise ChromiumError(f"timed out waiting for {condition}")

    def click(self, selector: str) -> None:
        """A real mouse click at the centre of the first element matching ``selector``."""
        box = self.eval(
            "(() => { const e = document.querySelector(" + json.dumps(selector) + ");"
            " if (!e) return null; e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2, r.width, r.height]; })()"
        )
        if not box or box[2] == 0:
            raise ChromiumError(f"nothing visible to click at {selector!r}")
        x, y = box[0], box[1]
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
            )

    def type(self, selector: str, text: str) -> None:
        """Focus an input and type into it (fires real input events)."""
        self.eval(f"document.querySelector({json.dumps(selector)}).focus()")
        self.send("Input.insertText", {"text": text})

    def screenshot(
        self,
        path: Path,
        *,
        full_page: bool = False,
        max_height: int = 12000,
        clip: tuple[int, int, int, int] | None = None,
    ) -> Path:
        """A PNG of the viewport, or of the whole page (up to ``max_height`` px): the
        viewport is stretched so that lazily rendered content is really painted."""
        size = self.eval("[window.innerWidth, window.innerHeight]")
        if full_page:
            self.eval("window.scrollTo(0, 0)")
            height = self.eval("document.documentElement.scrollHeight")
            self.resize(size[0], min(int(height), max_height))
            self.frames(2)
        params: dict[str, Any] = {"format": "png"}
        if clip:
            x, y, w, h = clip
            params["clip"] = {"x": x, "y": y, "width": w, "height": h, "scale": 1}
        data = self.send("Page.captureScreenshot", params)["data"]
        if full_page:
            self.resize(size[0], size[1])
        path.write_bytes(base64.b64decode(data))
        return path

    def frames(self, n: int = 1) -> None:
        """Wait until the page has rendered ``n`` more frames."""
        self.eval(
            "new Promise(ok => { let k = " + str(n) + ";"
            " const f = () => (--k > 0 ? requestAnimationFrame(f) : ok(true));"
            " requestAnimationFrame(f); })"
        )
