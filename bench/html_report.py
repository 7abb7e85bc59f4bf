#!/usr/bin/env python3
"""How big and how fast is the HTML audit report at 5,000 files, in a real browser?

    .venv/bin/python bench/html_report.py                  # 5,000 rows, 3 loads
    .venv/bin/python bench/html_report.py --rows 500 --loads 1 --out /tmp/htmlbench

Builds the rows from real reports: every file of fixtures/media and of the c2pa-rs
corpus in fixtures/third_party is verified (test root and corpus roots trusted) and
inspected, then the reports are repeated with varied paths (folders per platform and
creator), signers (60 names) and unique thumbnails: each a real frame (the corpus'
vertical 720x1280 clip, its landscape JPEGs, the fixture clips), shifted and
brightened per row, encoded like ``provenance.thumbnails.frame_thumbnail`` (192 px
wide JPEG), so no two rows share bytes.

Measures: rendering time in Python (with and without thumbnails), page size (and
without thumbnails, and gzipped), and in headless Chromium over the DevTools pipe:
first contentful paint, DOMContentLoaded, the page script ready (sorting/filtering
usable) and load, from navigation start; then the time of a sort, a filter and a
search over all rows (click to two painted frames). Screenshots land in --out; look
at them. The synthesized reports are cached in --out (delete to rebuild).
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import io
import json
import os
import pickle
import platform
import random
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

import av  # noqa: E402
import numpy as np  # noqa: E402

from provcheck.html_report import render_html  # noqa: E402
from provenance import (  # noqa: E402
    AuditSummary,
    Report,
    TrustConfig,
    inspect_report,
    verify,
)
from tests.chromium import Browser, Page, find_chromium  # noqa: E402

MEDIA = REPO / "fixtures" / "media"
CORPUS = REPO / "fixtures" / "third_party" / "c2pa-rs"
ANCHORS = [REPO / "fixtures" / "testca" / "test-root-ca.pem", CORPUS / "test_cert_root_bundle.pem"]
PLATFORMS = ["tiktok", "youtube-shorts", "reels", "snapchat", "x"]


def real_reports() -> list[Report]:
    trust = TrustConfig.from_files(anchors=ANCHORS)
    out = []
    for path in sorted([*MEDIA.iterdir(), *CORPUS.iterdir()]):
        if path.suffix.lower() in (".mp4", ".mov", ".jpg", ".png", ".webp", ".wav", ".m4s"):
            out.append(inspect_report(verify(path, trust=trust), path))
    return out


def source_frames() -> list[np.ndarray]:
    """RGB frames of real pictures: mostly the vertical clip (short videos are vertical)."""
    frames = []
    for path in [
        CORPUS / "video1.mp4",
        *sorted(CORPUS.glob("*.jpg")),
        *sorted(MEDIA.glob("*.mp4")),
    ]:
        with av.open(str(path)) as c:
            for n, f in enumerate(c.decode(video=0)):
                if n % 6 == 0:
                    frames.append(f.to_ndarray(format="rgb24"))
                if n >= 59:
                    break
    return frames


def thumbnail(frame: np.ndarray, k: int, width: int = 192) -> bytes:
    """A unique 192 px JPEG per row, encoded as frame_thumbnail does."""
    h, w, _ = frame.shape
    dx, dy = (k * 7) % max(1, w // 10), (k * 13) % max(1, h // 10)
    crop = frame[dy : h - (h // 10 - dy), dx : w - (w // 10 - dx)]
    crop = np.clip(crop.astype(np.int16) + (k % 41) - 20, 0, 255).astype(np.uint8)
    vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(crop), format="rgb24")
    height = max(2, int(vf.height * width / vf.width) // 2 * 2)
    small = vf.reformat(width=width, height=height, format="yuvj420p")
    buf = io.BytesIO()
    with av.open(buf, "w", format="image2pipe") as out:
        stream = out.add_stream("mjpeg", rate=1)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuvj420p"
        for pkt in [*stream.encode(small), *stream.encode()]:
            out.mux(pkt)
    return buf.getvalue()


def synthesize(n: int, base: list[Report], frames: list[np.ndarray], seed: int) -> list[Report]:
    rng = random.Random(seed)
    # weights: a folder of downloaded clips is mostly unsigned, some signed, a few broken
    weight = {"unsigned": 6, "trusted": 3, "untrusted": 2, "tampered": 1, "invalid": 1}
    weights = [weight.get(r.verdict.value, 1) for r in base]
    signers = [
        (f"Creator Studio {k:02d}", f"Platform {k % 12:02d} Media", f"Intermediate CA {k % 5}")
        for k in range(60)
    ]
    out = []
    for i in range(n):
        r = rng.choices(base, weights)[0]
        name = os.path.basename(r.path)
        plat = PLATFORMS[i % len(PLATFORMS)]
        path = f"downloads/{plat}/creator_{rng.randrange(400):03d}/{i:05d}_{name}"
        changes: dict[str, Any] = {"path": path}
        if r.manifest is not None and r.manifest.signer is not None:
            cn, org, issuer = rng.choice(signers)
            s = dataclasses.replace(
                r.manifest.signer, common_name=cn, organization=org, issuer=issuer
            )
            changes["manifest"] = dataclasses.replace(r.manifest, signer=s)
        if r.container is not None and r.container.width:
            changes["thumbnail_jpeg"] = thumbnail(frames[i % len(frames)], i)
        out.append(dataclasses.replace(r, **changes))
    return out


def summary_of(reports: list[Report]) -> AuditSummary:
    from collections import Counter

    return AuditSummary(
        files=len(reports),
        verdicts=dict(Counter(r.verdict.value for r in reports)),
        ai_generated=dict(Counter(r.ai_generated.value for r in reports)),
        skipped=0,
        stripped=sum(r.stripped for r in reports),
        seconds=0.0,
    )


LOAD_METRICS = """(async () => {
  await new Promise(ok => requestAnimationFrame(() => requestAnimationFrame(ok)));
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = Object.fromEntries(
    performance.getEntriesByType('paint').map(p => [p.name, p.startTime]));
  const ready = performance.getEntriesByName('provcheck-ready')[0];
  return {fcp: paint['first-contentful-paint'], fp: paint['first-paint'],
          dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
          ready: ready ? ready.startTime : null,
          rows: document.querySelectorAll('#rows > details').length,
          nodes: document.getElementsByTagName('*').length};
})()"""

TIMED = """(async () => {
  const t = performance.now();
  %s;
  await new Promise(ok => requestAnimationFrame(() => requestAnimationFrame(ok)));
  return performance.now() - t;
})()"""

ACTIONS = {
    "sort by file name": "document.querySelector('#head [data-sort=name]').click()",
    "sort by AI value": "document.querySelector('#head [data-sort=air]').click()",
    "sort by credentials": "document.querySelector('#head [data-sort=sev]').click()",
    "filter: hide trusted": "document.querySelector('input[name=verdict][value=trusted]').click()",
    "filter: only AI-generated (chip)": (
        "document.querySelector('button[data-only=ai][value=fully]').click()"
    ),
    "search 'creator_042'": (
        "(() => { const i = document.getElementById('f-text'); i.value = 'creator_042';"
        " i.dispatchEvent(new Event('change', {bubbles: true})); })()"
    ),
    "show all": (
        "(() => { document.getElementById('controls').reset();"
        " document.getElementById('controls').dispatchEvent(new Event('change')); })()"
    ),
}


def cpu_ms(page: Page) -> float:
    """CPU time used so far by the page's renderer process (all its threads), in ms:
    unlike wall time, it hardly moves when other work shares the machine."""
    metrics = page.send("Performance.getMetrics")["metrics"]
    return float(next(m["value"] for m in metrics if m["name"] == "ProcessTime")) * 1000


def measure_page(page: Page, url: str) -> dict[str, Any]:
    page.send("Performance.enable")
    c0 = cpu_ms(page)
    t0 = time.perf_counter()
    page.goto(url, timeout=300)
    wall = (time.perf_counter() - t0) * 1000
    m: dict[str, Any] = page.eval(LOAD_METRICS)
    m["navigate_to_load_event_ms"] = wall
    m["renderer_cpu_ms"] = cpu_ms(page) - c0
    return m


def timed(page: Page, js: str) -> tuple[float, float]:
    """Wall ms from the action to two painted frames, and the renderer's CPU ms."""
    c0 = cpu_ms(page)
    wall = float(page.eval(TIMED % js))
    return wall, cpu_ms(page) - c0


def screenshots(page: Page, url_path: Path, out: Path) -> None:
    """What an auditor sees: the top, two opened files, a filter, a narrow window."""
    page.goto(url_path.as_uri(), timeout=300)
    page.frames(2)
    page.screenshot(out / "top.png")
    page.click("#rows > details:nth-child(2) > summary")
    page.click("#rows > details:nth-child(5) > summary")
    page.eval("document.querySelector('#rows > details:nth-child(2)').scrollIntoView()")
    page.frames(3)
    page.screenshot(out / "expanded.png")
    page.eval("window.scrollTo(0, 20000)")
    page.frames(3)
    page.screenshot(out / "scrolled.png")
    page.click("button[data-only=ai][value=partly]")
    page.eval("window.scrollTo(0, 0)")
    page.frames(3)
    page.screenshot(out / "filtered.png")
    page.resize(800, 1000)
    page.frames(3)
    page.screenshot(out / "narrow.png")
    page.send("Page.close")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--loads", type=int, default=3, help="page loads to take the median of")
    ap.add_argument("--out", type=Path, default=Path("/tmp/html_report_bench"))
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    exe = find_chromium()
    if exe is None:
        sys.exit("chromium is not installed (apt-get install chromium)")

    t = time.perf_counter()
    cache = args.out / f"reports-{args.rows}-{args.seed}.pickle"
    if cache.exists():
        reports, nbase = pickle.loads(cache.read_bytes())
    else:
        base = real_reports()
        reports = synthesize(args.rows, base, source_frames(), args.seed)
        nbase = len(base)
        cache.write_bytes(pickle.dumps((reports, nbase)))
    print(
        f"synthesized {len(reports)} reports from {nbase} real ones"
        f" in {time.perf_counter() - t:.1f} s"
    )
    summary = summary_of(reports)

    t = time.perf_counter()
    html = render_html(reports, summary, version="bench")
    render_s = time.perf_counter() - t
    t = time.perf_counter()
    bare = render_html(
        [dataclasses.replace(r, thumbnail_jpeg=None) for r in reports], summary, version="bench"
    )
    render_bare_s = time.perf_counter() - t
    page_path = args.out / "report.html"
    page_path.write_text(html, "utf-8")
    bare_path = args.out / "report-no-thumbnails.html"
    bare_path.write_text(bare, "utf-8")
    size = len(html.encode())
    size_bare = len(bare.encode())
    thumbs_in = sum(len(r.thumbnail_jpeg or b"") for r in reports)
    gz = len(gzip.compress(html.encode(), 6))

    results: dict[str, Any] = {
        "rows": len(reports),
        "command": shlex.join([Path(sys.executable).name, "bench/html_report.py", *sys.argv[1:]]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "render_s": render_s,
        "render_no_thumbnails_s": render_bare_s,
        "page_bytes": size,
        "page_bytes_no_thumbnails": size_bare,
        "page_bytes_gzip": gz,
        "thumbnail_bytes_given": thumbs_in,
        "rows_with_thumbnail": sum(1 for r in reports if r.thumbnail_jpeg),
        "verdicts": summary.verdicts,
    }
    loads: dict[str, list[dict[str, Any]]] = {"with thumbnails": [], "no thumbnails": []}
    actions: dict[str, list[tuple[float, float]]] = {k: [] for k in ACTIONS}
    with Browser(exe, args.out / "profile", timeout=300) as browser:
        for _i in range(args.loads):
            for label, path in (("with thumbnails", page_path), ("no thumbnails", bare_path)):
                page = browser.page(1400, 1000)
                loads[label].append(measure_page(page, path.as_uri()))
                if label == "with thumbnails":
                    for name, js in ACTIONS.items():
                        actions[name].append(timed(page, js))
                page.send("Page.close")
        screenshots(browser.page(1400, 1000), page_path, args.out)
    for label, ms in loads.items():
        results[f"load ({label})"] = {
            k: statistics.median(m[k] for m in ms)
            for k in ms[0]
            if isinstance(ms[0][k], (int, float))
        }
    results["actions_ms"] = {
        k: {
            "wall": statistics.median(w for w, _ in v),
            "renderer_cpu": statistics.median(c for _, c in v),
        }
        for k, v in actions.items()
    }
    results["load_average_after"] = os.getloadavg()
    (args.out / "results.json").write_text(json.dumps(results, indent=2))

    mb = 1 / 1e6
    print(f"\n{results['command']}  ({results['machine']})")
    print(f"rows {len(reports):,}; with a thumbnail {results['rows_with_thumbnail']:,}")
    print(f"render in Python: {render_s:.2f} s (without thumbnails {render_bare_s:.2f} s)")
    print(
        f"page: {size * mb:.2f} MB (gzip {gz * mb:.2f} MB);"
        f" without thumbnails {size_bare * mb:.2f} MB;"
        f" thumbnails given to the renderer {thumbs_in * mb:.2f} MB"
    )
    for label in loads:
        m = results[f"load ({label})"]
        print(
            f"chromium, {label} (median of {args.loads}): first contentful paint {m['fcp']:.0f} ms,"
            f" DOMContentLoaded {m['dcl']:.0f} ms, script ready {m['ready']:.0f} ms,"
            f" load {m['load']:.0f} ms; renderer CPU {m['renderer_cpu_ms']:.0f} ms;"
            f" {m['nodes']:.0f} elements"
        )
    for k, v in results["actions_ms"].items():
        print(f"  {k}: {v['wall']:.0f} ms wall, {v['renderer_cpu']:.0f} ms renderer CPU")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"screenshots and results.json in {args.out}")


if __name__ == "__main__":
    main()
