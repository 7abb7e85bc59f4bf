"""The HTML audit report: its structure (escaped, self-contained, strict CSP, plain words),
and the page in a real headless Chromium: sorting and filtering driven by real clicks,
and no string from a file ever running as script."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from provcheck.app import cli
from provcheck.html_report import render_html
from provenance import (
    AIGeneration,
    AuditSummary,
    ContainerFacts,
    PemSigner,
    Recovered,
    Report,
    Timestamp,
    TrustConfig,
    Verdict,
    sign,
    verify,
)

from .chromium import Browser, Page
from .conftest import FIXTURES, TEST_ROOT, media, require_tool

EVIL = '<script>document.title="pwned"</script><img src=x onerror="document.title=1">'
NAMES = [
    "ai_generated.mp4",
    "tampered.mp4",
    "invalid.mp4",
    "stripped_keep_xmp.mp4",
    "untrusted.mp4",
    "photo_captured.jpg",
    "partly.mp4",
    "synthetic_voice.wav",  # no picture: no thumbnail
]
FILES = [*NAMES, "evil.mp4"]
# verdict of each file with the test root trusted
VERDICTS = {
    "ai_generated.mp4": "trusted",
    "tampered.mp4": "tampered",
    "invalid.mp4": "invalid",
    "stripped_keep_xmp.mp4": "unsigned",
    "untrusted.mp4": "untrusted",
    "photo_captured.jpg": "trusted",
    "partly.mp4": "trusted",
    "synthetic_voice.wav": "trusted",
    "evil.mp4": "trusted",
}
SEVERITY = ["tampered", "invalid", "error", "stripped", "unsigned", "untrusted", "trusted"]
SIGNER = "provcheck fixtures Signer (TEST ONLY) · provcheck fixtures"


class _Dom(HTMLParser):
    """Every element with its attributes, and the page's text, as the browser parses them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.raw: dict[str, list[str]] = {}
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag in ("script", "style"):
            self._in = tag
            self.raw.setdefault(tag, []).append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.raw[self._in][-1] += data
        else:
            self.text.append(data)


def _parse(html: str) -> _Dom:
    dom = _Dom()
    dom.feed(html)
    return dom


def _row(html: str, name: str) -> str:
    """The markup of one file's table row."""
    rows = html.split("\n</div>\n</div>\n")[0].split('<details class="row"')[1:]
    (row,) = [r for r in rows if f"<b>{name}</b>" in r]
    return row


def _details(html: str) -> list[dict[str, Any]]:
    """The page's data block, its string table resolved: each row's detail, in row order."""
    (block,) = re.findall(
        r'<script type="application/json" id="details">(.*?)</script>', html, re.S
    )
    data = json.loads(block)
    table = data["s"]
    assert len(table) == len(set(table))  # each string stored once

    def resolve(v: Any) -> Any:
        if isinstance(v, bool):
            return v
        if isinstance(v, int):
            return table[v]
        if isinstance(v, list):
            return [resolve(x) for x in v]
        return {k: resolve(x) for k, x in v.items()}

    return [resolve(d) for d in data["d"]]


def _detail(html: str, name: str) -> dict[str, Any]:
    (i,) = re.findall(r'data-i="(\d+)"', _row(html, name))
    return _details(html)[int(i)]


def _strings(value: Any) -> list[str]:
    """Every string in a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("html")
    folder = tmp / "in"
    folder.mkdir()
    for n in NAMES:
        shutil.copy(media(n), folder / n)
    signer = PemSigner.from_files(
        FIXTURES / "testca" / "test-signer.key", FIXTURES / "testca" / "test-signer-chain.pem"
    )
    sign(media("unsigned.mp4"), folder / "evil.mp4", signer=signer, ai="fully", title=EVIL)
    out = tmp / "report.html"
    r = CliRunner().invoke(
        cli,
        ["audit", str(folder), "--format", "html", "-o", str(out), "--trust", str(TEST_ROOT)],
        env={"PROVCHECK_CONFIG_DIR": str(tmp / "noconfig")},
    )
    assert r.exit_code == 4, r.stderr
    return out


def test_html_is_escaped_and_self_contained(report: Path) -> None:
    html = report.read_text()
    dom = _parse(html)
    assert EVIL not in html and "<img src=x" not in html
    # the hostile title is kept, as data, in evil.mp4's detail (HTML-safe JSON: no "<")
    assert ["Title", EVIL] in _detail(html, "evil.mp4")["c"][1]
    assert "\\u003cscript\\u003edocument.title" in html
    # exactly our one style, our one script and one JSON data block; nothing to fetch,
    # no event handler, no inline style, no link
    scripts = [a for t, a in dom.tags if t == "script"]
    assert scripts == [{"type": "application/json", "id": "details"}, {}]
    assert [t for t, _ in dom.tags].count("style") == 1
    for tag, attrs in dom.tags:
        assert not [a for a in attrs if a.startswith("on") or a in ("style", "href", "srcset")]
        assert "src" not in attrs  # thumbnails are set by the page when their row is drawn
        if tag == "img":
            assert attrs["data-src"].startswith("data:image/jpeg;base64,")
            assert attrs["loading"] == "lazy" and attrs["alt"] == ""
    assert not re.search(r"https?://(?!cv\.iptc\.org)", html.split("<body>")[1])


def test_csp_admits_exactly_the_page_own_style_and_script(report: Path) -> None:
    dom = _parse(report.read_text())
    (csp,) = [a["content"] for t, a in dom.tags if a.get("http-equiv") == "Content-Security-Policy"]

    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert csp == (
        "default-src 'none'; img-src data:; "
        f"style-src {digest(dom.raw['style'][0])}; script-src {digest(dom.raw['script'][1])}; "
        "base-uri 'none'; form-action 'none'"
    )


def test_table_summary_and_plain_words(report: Path) -> None:
    html = report.read_text()
    dom = _parse(html)
    rows = [a for t, a in dom.tags if t == "details" and a.get("class") == "row"]
    assert len(rows) == len(FILES)
    assert sorted(r["data-v"] for r in rows) == sorted(VERDICTS.values())
    # most alarming first, then by name
    assert [SEVERITY.index(r["data-v"]) for r in rows] == sorted(
        SEVERITY.index(v) for v in VERDICTS.values()
    )
    # thumbnails only where there is a picture: every file but the WAV
    imgs = [a for t, a in dom.tags if t == "img"]
    assert len(imgs) == len(FILES) - 1
    assert all(len(a["data-src"]) < 4000 for a in imgs)  # small, re-encoded to fit 96 px
    assert "<img" not in _row(html, "synthetic_voice.wav")
    # summary counts per verdict and AI value
    chips = re.findall(
        r'data-only="(verdict|ai)" value="(\w+)"[^>]*><span class="n">(\d+)</span>', html
    )
    counts = {(g, v): int(n) for g, v, n in chips}
    assert counts[("verdict", "trusted")] == 5
    assert counts[("verdict", "tampered")] == counts[("verdict", "invalid")] == 1
    assert counts[("ai", "fully")] == 4  # ai_generated, tampered (claimed), voice, evil
    assert counts[("ai", "partly")] == 1
    assert sum(n for (g, _), n in counts.items() if g == "ai") == len(FILES)
    # what broken credentials claim is counted apart: tampered says fully, invalid says no
    claimed = dict(re.findall(r'data-only="ai" value="(\w+)".*?incl\. (\d+) claimed<', html))
    assert claimed == {"fully": "1", "no": "1"}
    text = " ".join(dom.text + _strings(_details(html)))
    assert "Generated with an AI tool" in text and "Partly made with AI" in text
    # no Python, no raw MediaInfo keys, no jargon as the headline of the AI column
    for raw in ("None", "codecid_version", "format_info", "True", "False"):
        assert not re.search(rf"\b{raw}\b", text), raw
    ai_cells = re.findall(r'<span class="ai [\w-]+">([^<]*)<', html)
    assert ai_cells and not [c for c in ai_cells if "digitalSourceType" in c or "c2pa." in c]


def test_claims_of_broken_credentials_are_claimed_not_verified(report: Path) -> None:
    html = report.read_text()
    invalid = _row(html, "invalid.mp4")
    # INVALID never sits beside a reassuring "no AI": neutral style, "claims" wording
    assert '<span class="ai ai-claimed">Claims no AI<small>claimed, not verified</small>' in invalid
    assert "ai-no" not in invalid
    assert '<span class="signer claimed">' in invalid
    detail = _detail(html, "invalid.mp4")
    assert detail["a"] == ["Claims no AI \u2014 claimed, not verified", "ai-claimed"]
    heading, lines, claimed = detail["c"]
    assert heading == "What its broken credentials claim (not verified)" and claimed is True
    assert [label for label, _ in lines] == ["Signed by", "Title", "Made with", "What was done"]
    tampered = _row(html, "tampered.mp4")
    assert "Claims to be AI-generated" in tampered and "ai-fully" not in tampered
    trusted = _row(html, "ai_generated.mp4")
    assert '<span class="ai ai-fully">Generated with an AI tool' in trusted
    assert "trusted via test-root-ca" in trusted and "claimed" not in trusted
    detail = _detail(html, "ai_generated.mp4")
    assert detail["c"][0] == "What its credentials say" and detail["c"][2] is False
    assert detail["a"] == [
        "Generated with an AI tool \u2014 created, made by generative AI",
        "ai-fully",
    ]
    assert not [t for t in _strings(detail) if "claimed" in t]
    xmp = _row(html, "stripped_keep_xmp.mp4")
    assert "unsigned metadata says: made by generative AI" in xmp
    assert 'data-stripped="1"' in xmp and '<span class="tag">stripped</span>' in xmp


def _report(name: str, **changes: Any) -> Report:
    r = verify(media(name), trust=TrustConfig.from_files(anchors=[TEST_ROOT]))
    return dataclasses.replace(r, **changes)


def _summary(reports: list[Report]) -> AuditSummary:
    return AuditSummary(len(reports), {}, {}, 0, 0, 1.0)


def test_timestamp_without_time_container_tags_and_a_recovered_original() -> None:
    signed = _report("ai_generated.mp4")
    assert signed.manifest is not None
    no_time = dataclasses.replace(
        signed.manifest, timestamp=Timestamp(time=None, authority="Example TSA", trusted=False)
    )
    tagged = ContainerFacts(
        container="MPEG-4",
        tags=(("codecid_version", "0000.02"), ("format_info", "QuickTime"), ("xq_9", "v")),
    )
    stripped = _report(
        "stripped.mp4",
        verdict=Verdict.STRIPPED,
        reason="no C2PA manifest in the file, but it matches a signed original",
        ai_generated=AIGeneration.FULLY,
        stripped=True,
        recovered=Recovered(
            entry_id="ab" * 32,
            title="original.mp4",
            signer={"common_name": "Studio Signer", "organization": "Studio"},
            ai_generated=AIGeneration.FULLY,
            verdict="trusted",
            verdict_reason="the manifest is intact",
            similarity=0.97,
            matched_range=(0.0, 2.0),
            original_range=(1.0, 3.0),
            signed_at=None,
        ),
    )
    reports = [dataclasses.replace(signed, manifest=no_time, container=tagged), stripped]
    html = render_html(reports, _summary(reports), version="test")
    signed_detail = _detail(html, "ai_generated.mp4")
    assert (
        "Signed at",
        "time not readable (timestamp from Example TSA, authority not on a trust list)",
    ) in map(tuple, signed_detail["c"][1])
    facts = dict(map(tuple, signed_detail["x"]))
    assert facts["Brand version"] == "0000.02" and facts["Format"] == "QuickTime"
    assert facts["Tag \u201cxq_9\u201d"] == "v"  # unknown keys are labelled as tags
    text = " ".join(_parse(html).text + _strings(_details(html)))
    assert "None" not in text and "codecid_version" not in text
    row = _row(html, "stripped.mp4")
    assert "Studio Signer" in row and "signer of the matched original" in row
    heading, lines, claimed = _detail(html, "stripped.mp4")["c"]
    assert heading == "The signed original it matches" and claimed is False
    assert (
        "Match",
        "97% similar: seconds 0\u20132 of this file match seconds 1\u20133 of the original",
    ) in map(tuple, lines)
    assert '<span class="ai ai-fully">Generated with an AI tool' in row


# --- in a real browser -----------------------------------------------------------------

_VIOLATIONS = (
    "window.__csp = []; document.addEventListener('securitypolicyviolation',"
    " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
)


def _visible(page: Page, what: str) -> list[str]:
    """For each row shown, in order: a data attribute, or its file name, or its signer."""
    get = {
        "name": "r.querySelector('.file b').textContent",
        "signer": "r.dataset.s === '' ? '' : document.querySelector("
        "'#f-signer option[value=\"' + r.dataset.s + '\"]').textContent",
    }.get(what, f"r.dataset.{what}")
    return list(
        page.eval(
            "Array.from(document.querySelectorAll('#rows > details.row'))"
            f".filter(r => !r.hidden).map(r => {get})"
        )
    )


def _shown(page: Page) -> str:
    return str(page.eval("document.getElementById('shown').textContent"))


@pytest.fixture(scope="module")
def page(report: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    exe = shutil.which("chromium-browser") or require_tool("chromium", "chromium")
    with Browser(exe, tmp_path_factory.mktemp("profile")) as browser:
        p = browser.page(1280, 900)
        p.before_load(_VIOLATIONS)
        p.goto(report.as_uri())
        yield p


def test_chromium_runs_the_page_script_and_never_the_injected_one(page: Page) -> None:
    assert page.eval("document.title") == "provcheck audit report"  # EVIL never ran
    assert page.eval("window.__csp") == []  # nothing was even blocked: it is all text
    assert page.eval("document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert page.eval("document.documentElement.dataset.ready") == "1"  # hashed script ran
    assert page.eval("document.getElementById('controls').hidden") is False
    assert _shown(page) == f"{len(FILES)} of {len(FILES)} files"
    assert sorted(_visible(page, "v")) == sorted(VERDICTS.values())
    # the thumbnails of the rows on screen are set and decode as real pictures
    page.wait_for("document.querySelectorAll('#rows img[src]').length === 8")
    sizes = page.eval(
        "Promise.all(Array.from(document.querySelectorAll('#rows img'))"
        ".map(i => i.decode().then(() => [i.naturalWidth, i.naturalHeight])))"
    )
    assert len(sizes) == len(FILES) - 1
    assert all(0 < w <= 96 and 0 < h <= 96 and max(w, h) >= 64 for w, h in sizes), sizes


def test_chromium_sorts_by_clicked_column(page: Page) -> None:
    page.click('#head button[data-sort="name"]')
    names = _visible(page, "name")
    assert names == sorted(FILES)
    assert page.eval("document.querySelector('#head [data-sort=name]').ariaSort") == "ascending"
    page.click('#head button[data-sort="name"]')
    assert _visible(page, "name") == sorted(names, reverse=True)
    assert page.eval("document.querySelector('#head [data-sort=name]').ariaSort") == "descending"
    assert page.eval("document.querySelector('#head [data-sort=sev]').ariaSort") is None
    page.click('#head button[data-sort="air"]')
    ranks = [int(x) for x in _visible(page, "air")]
    assert ranks == sorted(ranks) and ranks[0] == 0 and ranks[-1] > 0  # fully AI first
    page.click('#head button[data-sort="signer"]')
    signers = _visible(page, "signer")
    assert signers[-1] == ""  # files without a signer go last
    page.click('#head button[data-sort="sev"]')
    sev = [int(x) for x in _visible(page, "sev")]
    assert sev == sorted(sev) and _visible(page, "v")[0] == "tampered"


def test_chromium_filters(page: Page) -> None:
    # untick "Trusted": the trusted files disappear and the count says so
    page.click('input[name="verdict"][value="trusted"]')
    assert "trusted" not in _visible(page, "v")
    assert _shown(page) == f"{len(FILES) - 5} of {len(FILES)} files"
    page.click("#f-reset")
    page.frames(2)
    assert len(_visible(page, "v")) == len(FILES)
    # a summary chip shows only its kind
    page.click('button[data-only="verdict"][value="tampered"]')
    assert _visible(page, "v") == ["tampered"]
    page.click('button[data-only="ai"][value="fully"]')
    assert set(_visible(page, "ai")) == {"fully"} and len(_visible(page, "ai")) == 4
    page.click('button[data-only="stripped"][value="1"]')
    (only,) = _visible(page, "name")
    assert only == "stripped_keep_xmp.mp4"
    page.click("#f-reset")
    # signer: the browser's own select, changed as a user would
    page.eval(
        "(() => { const s = document.getElementById('f-signer');"
        " s.value = Array.from(s.options).find(o => o.textContent === " + json.dumps(SIGNER) + ")"
        ".value; s.dispatchEvent(new Event('change', {bubbles: true})); })()"
    )
    assert set(_visible(page, "signer")) == {SIGNER}
    assert len(_visible(page, "signer")) == 7  # all but the untrusted and the unsigned file
    page.click("#f-reset")
    page.frames(2)
    page.type("#f-text", "EVIL")
    page.eval("new Promise(ok => setTimeout(ok, 300))")
    assert _visible(page, "name") == ["evil.mp4"]
    page.click("#f-reset")
    page.frames(2)
    assert _shown(page) == f"{len(FILES)} of {len(FILES)} files"


def test_chromium_builds_a_file_detail_as_text_when_opened(page: Page, tmp_path: Path) -> None:
    page.click("#f-reset")
    page.click('#rows > details[data-v="invalid"] > summary')
    assert page.eval("document.querySelector('#rows > details[data-v=invalid]').open") is True
    page.wait_for("document.querySelector('#rows > details[data-v=invalid] .detail')")
    detail = page.eval(
        "document.querySelector('#rows > details[data-v=invalid] .detail').textContent"
    )
    assert "What its broken credentials claim (not verified)" in detail
    assert "AI-generated?Claims no AI \u2014 claimed, not verified" in detail
    # the hostile title is shown as text in evil.mp4's detail, and nothing of it runs
    page.type("#f-text", "evil.mp4")
    page.eval("new Promise(ok => setTimeout(ok, 300))")
    page.click("#rows > details:not([hidden]) > summary")
    page.wait_for("document.querySelector('#rows > details[open]:not([hidden]) .detail')")
    shown = page.eval(
        "document.querySelector('#rows > details[open]:not([hidden]) .detail').textContent"
    )
    assert "Title" + EVIL in shown
    page.frames(2)
    assert page.eval("document.title") == "provcheck audit report"
    assert page.eval("document.querySelectorAll('.detail script, .detail img').length") == 0
    assert page.eval("window.__csp") == []
    page.click("#f-reset")
    shot = page.screenshot(tmp_path / "shot.png", full_page=True)
    assert shot.stat().st_size > 20_000
