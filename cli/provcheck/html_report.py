"""The self-contained HTML audit page: a summary, a sortable and filterable table of files
in plain words, and a collapsible detail per file.

Everything that came from a file (names, titles, signers, tags, messages) reaches the
page only through jinja2 autoescaping; the page's own CSS and script are static, and the
Content-Security-Policy admits exactly them by hash, so nothing else can run or load.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from provenance import (
    AIGeneration,
    AuditSummary,
    Ingredient,
    Manifest,
    Report,
    Verdict,
    normalize_source_type,
)
from provenance.textsafe import for_terminal

from .output import json_safe

__all__ = ["render_html", "THUMB_BOX"]

# Thumbnails are re-encoded to fit this box (CSS pixels x2 for sharp small display):
# a 192 px frame of a vertical clip is ~17 kB, this is ~1.5 kB, which keeps a
# 5,000-file page in the megabytes, not in the hundreds of megabytes.
THUMB_BOX = 96
_THUMB_QUALITY = 8  # MJPEG qscale: 2 is best, 31 worst

# Most alarming first: the table's default order and its "verdict" sort.
_SEVERITY = (
    Verdict.TAMPERED,
    Verdict.INVALID,
    Verdict.ERROR,
    Verdict.STRIPPED,
    Verdict.UNSIGNED,
    Verdict.UNTRUSTED,
    Verdict.TRUSTED,
)
_VERDICT_LABEL = {
    Verdict.TRUSTED: "Trusted",
    Verdict.UNTRUSTED: "Unknown signer",
    Verdict.TAMPERED: "Tampered",
    Verdict.INVALID: "Invalid credentials",
    Verdict.UNSIGNED: "No credentials",
    Verdict.STRIPPED: "Credentials stripped",
    Verdict.ERROR: "Could not check",
}
_VERDICT_HELP = {
    Verdict.TRUSTED: "credentials intact, signed by someone on your trust list",
    Verdict.UNTRUSTED: "credentials intact, but the signer is on none of your trust lists",
    Verdict.TAMPERED: "the file was changed after it was signed",
    Verdict.INVALID: "the credentials themselves are broken or forged",
    Verdict.UNSIGNED: "the file carries no Content Credentials",
    Verdict.STRIPPED: "no credentials in the file, but a signed original was found",
    Verdict.ERROR: "the file could not be read",
}

_AI_ORDER = (
    AIGeneration.FULLY,
    AIGeneration.PARTLY,
    AIGeneration.POSSIBLY,
    AIGeneration.NO,
    AIGeneration.UNKNOWN,
)
# What the credentials say, in the words Content Credentials Verify uses.
_AI_TEXT = {
    AIGeneration.FULLY: "Generated with an AI tool",
    AIGeneration.PARTLY: "Partly made with AI",
    AIGeneration.POSSIBLY: "May contain AI (composite or digital art)",
    AIGeneration.NO: "Made without AI, say its credentials",
    AIGeneration.UNKNOWN: "No AI signal",
}
# The same, for claims of a manifest that failed validation: words only, no colour.
_AI_CLAIMED = {
    AIGeneration.FULLY: "Claims to be AI-generated",
    AIGeneration.PARTLY: "Claims to be partly AI",
    AIGeneration.POSSIBLY: "Claims a composite or digital art",
    AIGeneration.NO: "Claims no AI",
    AIGeneration.UNKNOWN: "No AI signal",
}
_AI_SHORT = {
    AIGeneration.FULLY: "AI-generated",
    AIGeneration.PARTLY: "Partly AI",
    AIGeneration.POSSIBLY: "Possibly AI",
    AIGeneration.NO: "No AI",
    AIGeneration.UNKNOWN: "No AI signal",
}

# IPTC / C2PA digitalSourceType short names in words.
_SOURCE_TYPE_WORDS = {
    "trainedAlgorithmicMedia": "made by generative AI",
    "trainedAlgorithmicData": "data made by generative AI",
    "compositeWithTrainedAlgorithmicMedia": "combines generative-AI elements with other media",
    "compositeSynthetic": "combines synthetic elements with other media",
    "composite": "a composite of several sources",
    "digitalArt": "digital art",
    "digitalCapture": "captured with a camera or microphone",
    "computationalCapture": "captured with computational processing (e.g. a phone camera)",
    "negativeFilm": "scanned from negative film",
    "positiveFilm": "scanned from positive film",
    "print": "scanned from a print",
    "humanEdits": "edited by a person",
    "minorHumanEdits": "lightly edited by a person",
    "algorithmicallyEnhanced": "enhanced by a non-generative algorithm",
    "digitalCreation": "made by a person with digital tools",
    "dataDrivenMedia": "made from data (e.g. a chart)",
    "algorithmicMedia": "made by a non-generative algorithm",
    "screenCapture": "a screen capture",
    "virtualRecording": "a recording of a virtual event",
    "compositeCapture": "several captures combined",
    "softwareImage": "made by software (not generative AI)",
    "empty": "a blank canvas",
}
_ACTION_WORDS = {
    "c2pa.created": "created",
    "c2pa.opened": "opened",
    "c2pa.edited": "edited",
    "c2pa.edited.metadata": "metadata edited",
    "c2pa.placed": "element placed",
    "c2pa.removed": "element removed",
    "c2pa.cropped": "cropped",
    "c2pa.resized": "resized",
    "c2pa.resized.proportional": "resized",
    "c2pa.orientation": "rotated or flipped",
    "c2pa.color_adjustments": "colours adjusted",
    "c2pa.filtered": "filtered",
    "c2pa.drawing": "drawn on",
    "c2pa.enhanced": "enhanced",
    "c2pa.converted": "converted",
    "c2pa.transcoded": "transcoded",
    "c2pa.repackaged": "repackaged",
    "c2pa.published": "published",
    "c2pa.redacted": "redacted",
    "c2pa.translated": "translated",
    "c2pa.dubbed": "dubbed",
    "c2pa.watermarked": "watermarked",
    "c2pa.watermarked.bound": "watermarked",
    "c2pa.watermarked.unbound": "watermarked",
    "c2pa.unknown": "other change",
}
_RELATIONSHIP_WORDS = {"parentOf": "made from", "componentOf": "contains", "inputTo": "input to"}
_INGREDIENT_STATUS_WORDS = {
    "valid": "credentials intact",
    "untrusted": "credentials intact, signer not on a trust list",
    "invalid": "credentials broken",
    "no credentials": "no credentials",
    "missing": "credentials missing from the file",
}
# MediaInfo's General-track keys in words; unknown keys are shown as "tag <key>".
_TAG_LABELS = {
    "codecid_version": "Brand version",
    "format_info": "Format",
    "format_version": "Format version",
    "format_settings": "Format settings",
    "audio_channels_total": "Audio channels",
    "video_language_list": "Video language",
    "audio_language_list": "Audio language",
    "text_language_list": "Subtitle language",
    "movie_name": "Title",
    "performer": "Artist",
    "album": "Album",
    "track_name": "Track title",
    "recorded_date": "Recorded",
    "mastered_date": "Mastered",
    "copyright": "Copyright",
    "description": "Description",
    "genre": "Genre",
    "language": "Language",
    "encoded_by": "Encoded by",
    "writing_library": "Writing library",
    "com_android_version": "Android version",
    "com_android_capture_fps": "Capture frame rate",
    "com_apple_quicktime_make": "Camera make",
    "com_apple_quicktime_model": "Camera model",
    "com_apple_quicktime_software": "Camera software",
    "com_apple_quicktime_creationdate": "Created (camera)",
    "com_apple_quicktime_location_iso6709": "Location",
    "xyz": "Location",
    "tim": "Start timecode",
    "tsc": "Timecode scale",
    "tsz": "Timecode size",
    "istruncated": "Truncated",
    "isstreamable": "Streamable",
    "headersize": "Header size",
    "datasize": "Data size",
    "footersize": "Footer size",
}


# One labelled line of a file's detail: [label, text].
Pair = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Row:
    """One file as the page shows it: every field is plain text (escaped on output)."""

    index: int
    name: str
    folder: str
    sort_name: str
    verdict: str
    verdict_label: str
    severity: int
    ai: str
    ai_rank: int
    ai_text: str
    ai_class: str
    ai_note: str
    signer: str
    signer_main: str
    signer_note: str
    signer_claimed: bool
    stripped: bool
    warnings: int
    thumb: str | None
    detail: dict[str, Any]  # built into the page by its script when the row is opened


@dataclass(frozen=True, slots=True)
class Count:
    key: str
    label: str
    help: str
    n: int
    cls: str
    claimed: int = 0  # of n, how many only claimed by broken credentials


def _visible(value: Any) -> Any:
    """Every plain string the page shows, with control, bidi and invisible characters
    written visibly (``\\x1b``, ``\\u202e``): the page is data when it is read in a
    browser, and when it is printed to a terminal. Line breaks stay."""
    if type(value) is not str:  # Markup (already safe) and numbers pass as they are
        return value
    if value.isprintable():
        return value
    return "\n".join(for_terminal(line) for line in value.split("\n"))


def render_html(
    reports: Sequence[Report],
    summary: AuditSummary,
    *,
    version: str,
    generated: dt.datetime | None = None,
) -> str:
    """The whole page for an audit; deterministic for the same input and time."""
    import jinja2
    from jinja2.utils import htmlsafe_json_dumps

    env = jinja2.Environment(
        autoescape=True,
        finalize=_visible,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["thousands"] = _thousands
    template = env.from_string(_asset("report.html.j2"))
    css, js = _asset("report.css.j2"), _asset("report.js.j2")

    base = _common_folder(r.path for r in reports)
    rows = sorted(
        (_row(i, r, base) for i, r in enumerate(reports)),
        key=lambda row: (row.severity, row.sort_name, row.index),
    )
    verdicts = Counter(r.verdict for r in reports)
    ais = Counter(r.ai_generated for r in reports)
    ai_claimed = Counter(r.ai_generated for r in reports if r.claims == "unverified")
    claimed = sum(n for a, n in ai_claimed.items() if a is not AIGeneration.UNKNOWN)
    signers = Counter(row.signer for row in rows if row.signer)
    when = (generated or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    signer_list = sorted(signers, key=lambda s: (-signers[s], s.casefold()))
    signer_index = {name: i for i, name in enumerate(signer_list)}
    strings: dict[str, int] = {}
    details = [_interned(row.detail, strings) for row in rows]
    return template.render(
        rows=rows,
        signer_index=signer_index,
        details=htmlsafe_json_dumps(
            {"s": list(strings), "d": details},
            dumps=lambda obj, **kw: json_safe(json.dumps(obj, **kw)),
            ensure_ascii=False,
            separators=(",", ":"),
        ),
        files=len(reports),
        seconds=summary.seconds,
        skipped=summary.skipped,
        skipped_files=summary.skipped_files,
        stripped=sum(1 for row in rows if row.stripped),
        warned=sum(1 for row in rows if row.warnings),
        claimed=claimed,
        verdict_counts=[
            Count(v.value, _VERDICT_LABEL[v], _VERDICT_HELP[v], verdicts[v], f"v-{v.value}")
            for v in _SEVERITY
        ],
        ai_counts=[
            Count(a.value, _AI_TEXT[a], "", ais[a], f"ai-{a.value}", ai_claimed[a])
            for a in _AI_ORDER
        ],
        signers=signer_list,
        unsigned_rows=sum(1 for row in rows if not row.signer),
        base=base,
        version=version,
        generated=when,
        css=_markup(css),
        js=_markup(js),
        csp=(
            "default-src 'none'; img-src data:; "
            f"style-src '{_csp_hash(css)}'; script-src '{_csp_hash(js)}'; "
            "base-uri 'none'; form-action 'none'"
        ),
    )


@cache
def _asset(name: str) -> str:
    return (files("provcheck") / "templates" / name).read_text("utf-8")


def _markup(text: str) -> Any:
    """Our own static CSS/JS, inserted verbatim (raw text elements must not be escaped)."""
    from markupsafe import Markup

    return Markup(text)  # static text shipped with provcheck, never file data


def _csp_hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def _interned(value: Any, table: dict[str, int]) -> Any:
    """Every string replaced by its index in ``table``: the same reasons, labels and
    signers repeat across thousands of files and are stored once."""
    if isinstance(value, str):  # shown with textContent: controls and bidi made visible
        return table.setdefault(_visible(value), len(table))
    if isinstance(value, list | tuple):
        return [_interned(v, table) for v in value]
    if isinstance(value, dict):
        return {_visible(k): _interned(v, table) for k, v in value.items()}
    return value


def _thousands(n: int) -> str:
    return f"{n:,}"


# --- one report in words ---------------------------------------------------------------


def _common_folder(paths: Iterable[str]) -> str:
    """The folder every file is in (shown once at the top instead of on every row)."""
    folders = {os.path.dirname(p) for p in paths}
    try:
        return os.path.commonpath(folders) if folders else ""
    except ValueError:  # absolute and relative paths mixed
        return ""


def _row(index: int, r: Report, base: str) -> Row:
    folder, name = os.path.split(r.path)
    if base and folder:
        folder = os.path.relpath(folder, base)
        folder = "" if folder == "." else folder
    ai, ai_text, ai_class, ai_note = _ai_cell(r)
    signer, signer_main, signer_note, signer_claimed = _signer_cell(r)
    # The headline reason is already said once; list the other problems under it.
    headline = r.reason.casefold()
    problems = tuple(
        dict.fromkeys(
            f"{p.message} ({p.where})" if p.where.startswith("ingredient") else p.message
            for p in r.problems
            if p.message and p.message.casefold() not in headline
        )
    )
    flags = (*r.inconsistencies, *r.traces)
    technical: list[Pair] = []
    if r.status_codes:
        technical.append(("C2PA status codes", ", ".join(r.status_codes)))
    if r.validation_state:
        technical.append(("Validation state", r.validation_state))
    if r.ai_generated is not AIGeneration.UNKNOWN:
        technical.append(("AI signal", r.ai_reason))
    if r.manifest and r.manifest.label:
        technical.append(("Manifest", r.manifest.label))
    # Short keys, empty parts left out: this is most of a 5,000-row page.
    detail: dict[str, Any] = {
        "w": [_VERDICT_LABEL[r.verdict], _sentence(r.reason)],
        "a": [ai_text + (f" \u2014 {ai_note}" if ai_note else ""), ai_class],
    }
    claims = list(_claim_lines(r))
    if claims:
        believed = r.claims == "verified" or (
            r.recovered is not None and r.recovered.verdict in ("trusted", "untrusted")
        )
        detail["c"] = [_claims_heading(r), claims, not believed]
    if r.ai_parts:
        detail["l"] = _timeline(r)
    parts = {
        "p": list(problems),
        "f": list(flags),
        "m": [_chain(i) for i in r.manifest.ingredients] if r.manifest else [],
        "x": list(_fact_lines(r)),
        "t": technical,
    }
    detail.update((k, v) for k, v in parts.items() if v)
    return Row(
        index=index,
        name=name or r.path,
        folder=folder + os.sep if folder else "",
        sort_name=r.path.casefold(),
        verdict=r.verdict.value,
        verdict_label=_VERDICT_LABEL[r.verdict],
        severity=_SEVERITY.index(r.verdict),
        ai=ai.value,
        ai_rank=_AI_ORDER.index(ai),
        ai_text=ai_text,
        ai_class=ai_class,
        ai_note=ai_note,
        signer=signer,
        signer_main=signer_main,
        signer_note=signer_note,
        signer_claimed=signer_claimed,
        stripped=r.stripped or r.verdict is Verdict.STRIPPED,
        warnings=len(flags),
        thumb=_thumbnail(r.thumbnail_jpeg) if r.thumbnail_jpeg else None,
        detail=detail,
    )


def _ai_cell(r: Report) -> tuple[AIGeneration, str, str, str]:
    """The AI value, its words, its style class and a second line (why, or a caveat)."""
    ai = r.ai_generated
    if r.verdict is Verdict.STRIPPED and r.recovered is not None:
        believed = r.recovered.verdict in ("trusted", "untrusted")
        text = _AI_TEXT[ai] if believed else _AI_CLAIMED[ai]
        cls = f"ai-{ai.value}" if believed else "ai-claimed"
        return ai, text, cls, "from the signed original it was matched to"
    if r.claims == "unverified":
        note = "claimed, not verified" if ai is not AIGeneration.UNKNOWN else ""
        return ai, _AI_CLAIMED[ai], "ai-claimed", note
    note = ""
    if ai is AIGeneration.UNKNOWN and r.xmp_digital_source_type:
        dst = _source_type_words(r.xmp_digital_source_type)
        note = f"unsigned metadata says: {dst}"
        return ai, _AI_TEXT[ai], "ai-claimed", note
    if r.manifest is not None and ai is not AIGeneration.UNKNOWN:
        note = _ai_why(r.manifest)
    return ai, _AI_TEXT[ai], f"ai-{ai.value}", note


def _ai_why(m: Manifest, depth: int = 0) -> str:
    """Which manifest's actions decided the AI value, in words."""
    own = _signal_actions(m)
    if own:
        return own
    for ing in m.ingredients:
        if ing.manifest is not None and ing.manifest.ai_generated is not AIGeneration.UNKNOWN:
            title = ing.title or "an ingredient"
            inner = _ai_why(ing.manifest, depth + 1) if depth < 8 else ""
            return f"via {title}" + (f": {inner}" if inner else "")
    return ""


def _signal_actions(m: Manifest) -> str:
    parts = []
    for a in m.actions:
        if a.digital_source_type:
            parts.append(f"{_action_words(a.action)}, {_source_type_words(a.digital_source_type)}")
    return "; ".join(dict.fromkeys(parts))


def _signer_cell(r: Report) -> tuple[str, str, str, bool]:
    """Signer name (the filter and sort key), its first line, a second line, and whether
    it is only claimed."""
    if r.verdict is Verdict.STRIPPED and r.recovered is not None and r.recovered.signer:
        believed = r.recovered.verdict in ("trusted", "untrusted")
        main, org = _name_lines(r.recovered.signer)
        note = "signer of the matched original" + ("" if believed else ", not verified")
        return _name_of(r.recovered.signer), main, _join(org, note), not believed
    s = r.signer
    if s is None:
        return "", "", "", False
    d = s.to_dict()
    main, org = _name_lines(d)
    if r.claims == "unverified":
        note = "claimed, not verified"
    elif s.trust_list:
        note = f"trusted via {s.trust_list}"
    else:
        note = "not on your trust lists"
    return _name_of(d), main, _join(org, note), r.claims == "unverified"


def _name_lines(signer: Mapping[str, Any]) -> tuple[str, str]:
    cn, org = signer.get("common_name"), signer.get("organization")
    main = str(cn or org or "(unnamed certificate)")
    return main, str(org) if org and cn and str(org) not in str(cn) else ""


def _join(*parts: str) -> str:
    return " · ".join(p for p in parts if p)


def _name_of(signer: Mapping[str, Any]) -> str:
    parts = [str(p) for p in (signer.get("common_name"), signer.get("organization")) if p]
    return " · ".join(dict.fromkeys(parts)) or "(unnamed certificate)"


def _timeline(r: Report) -> list[Any]:
    """Which parts are AI: [words of each part, lanes, claimed]. A lane is one row of the
    clip's timeline (video, audio, or the whole clip when the part names no track):
    [name, [[start, end, words], ...]] with start and end as thousandths of the duration.
    Without a known duration only whole-track parts can be drawn; the words say the rest."""
    from provenance import describe_part

    duration = r.container.duration_s if r.container is not None else None
    lanes: dict[str, list[list[Any]]] = {}
    for part in r.ai_parts:
        words = describe_part(part)
        if part.start is None and part.end is None:
            span: tuple[float, float] | None = (0.0, 1.0)
        elif duration:
            start = min(max((part.start or 0.0) / duration, 0.0), 1.0)
            end = min(max((part.end if part.end is not None else duration) / duration, 0.0), 1.0)
            span = (start, max(end, start))
        else:
            span = None
        if span is not None:
            lane = part.media or "clip"
            lanes.setdefault(lane, []).append([round(span[0] * 1000), round(span[1] * 1000), words])
    order = sorted(lanes, key=lambda k: ("video", "audio", "clip").index(k))
    length = f"{duration:.1f} s" if duration else "duration unknown"
    return [
        [describe_part(p) for p in r.ai_parts],
        [[f"{k} ({length})", lanes[k]] for k in order],
        r.claims == "unverified",
    ]


def _claims_heading(r: Report) -> str:
    if r.recovered is not None:
        return "The signed original it matches"
    if r.manifest is None:
        return ""
    if r.claims == "unverified":
        return "What its broken credentials claim (not verified)"
    return "What its credentials say"


def _claim_lines(r: Report) -> Iterable[Pair]:
    rec = r.recovered
    if rec is not None:
        who = _name_of(rec.signer) if rec.signer else "an unnamed signer"
        yield ("Original", rec.title or rec.entry_id[:12])
        yield ("Signed by", who)
        if rec.signed_at:
            yield ("Signed at", rec.signed_at)
        yield (
            "Match",
            f"{rec.similarity:.0%} similar: seconds {_span(rec.matched_range)} of this file"
            f" match seconds {_span(rec.original_range)} of the original",
        )
        yield ("Its credentials now", f"{rec.verdict}: {rec.verdict_reason}")
    if r.manifest is not None:
        yield from _manifest_lines(r.manifest)
    yield from _work_lines(r)
    for v in r.visible_labels:  # issue 15: a burned-in label, a claim like the others
        yield ("Visible label", f'"{v.text}" added by {v.signer or "an unnamed signer"}')
    if r.remote_manifest_url:
        yield ("Remote manifest", r.remote_manifest_url)


def _fact_lines(r: Report) -> Iterable[Pair]:
    """What the file itself shows, beside its credentials."""
    if r.fragments:
        yield ("Fragments", ", ".join(r.fragments))
    if r.xmp_digital_source_type:
        yield ("XMP label (unsigned)", _source_type_words(r.xmp_digital_source_type))
    c = r.container
    if c is not None:
        desc = [c.container or "unknown container", *c.codecs]
        if c.width and c.height:
            desc.append(f"{c.width}\u00d7{c.height}")
        if c.duration_s:
            desc.append(f"{c.duration_s:.1f} s")
        if c.frame_rate:
            desc.append(f"{_fps(c.frame_rate)} fps")
        yield ("Media", ", ".join(desc))
        writer = " ".join(x for x in (c.writing_application, c.encoder) if x)
        if writer:
            yield ("Written by", writer)
        if c.encoded_date:
            yield ("Encoded", c.encoded_date)
        if c.tagged_date and c.tagged_date != c.encoded_date:
            yield ("Tagged", c.tagged_date)
        if c.title:
            yield ("Title tag", c.title)
        if c.comment:
            yield ("Comment tag", c.comment)
        for key, value in c.tags:
            yield (_TAG_LABELS.get(key, f"Tag “{key}”"), value)
    for note in r.notes:
        yield ("Note", note)


def _manifest_lines(m: Manifest) -> Iterable[Pair]:
    if m.signer is not None:
        s = m.signer
        issued = f" (certificate issued by {s.issuer})" if s.issuer else ""
        yield ("Signed by", _name_of(s.to_dict()) + issued)
    ts = m.timestamp
    if ts is not None and (ts.time or ts.authority):
        judged = {True: "trusted", False: "not on a trust list", None: "not checked"}[ts.trusted]
        by = f"timestamp from {ts.authority}, authority {judged}" if ts.authority else judged
        yield ("Signed at", f"{ts.time or 'time not readable'} ({by})")
    if m.title:
        yield ("Title", m.title)
    if m.claim_generator:
        yield ("Made with", m.claim_generator)
    if m.actions:
        done = (
            _action_words(a.action)
            + (f", {_source_type_words(a.digital_source_type)}" if a.digital_source_type else "")
            + (f", by {a.software_agent}" if a.software_agent else "")
            for a in m.actions
        )
        yield ("What was done", "; ".join(dict.fromkeys(done)))
    yield from _identity_pairs(m)


def _identity_pairs(m: Manifest) -> Iterable[Pair]:
    """CAWG identities, each with the library's judgement (issue 15)."""
    from provenance import describe_identity

    for ident in m.identities:
        yield ("Identity", f"{describe_identity(ident)} \u2014 {ident.reason}")


def _work_lines(r: Report) -> Iterable[Pair]:
    """Whose work is inside: "contains 6.0 s of "Creator clip" signed by ... (intact)"."""
    from provenance import describe_work

    for work in r.contains:
        yield ("Contains", _sentence(describe_work(work).removeprefix("contains ")))


def _chain(ing: Ingredient, depth: int = 0) -> list[Any]:
    """An ingredient in words: [title, relation, status, claimed, bad, lines, children]."""
    m = ing.manifest
    lines: list[Pair] = []
    if m is not None:
        lines.extend(_manifest_lines(m))
        if m.ai_generated is not AIGeneration.UNKNOWN:
            lines.append(("AI (its own signal)", _AI_SHORT[m.ai_generated]))
    lines.extend(("Problem", p.message) for p in ing.problems if p.message)
    lines.extend(("Problem", p.message) for p in ing.recorded_problems)
    if ing.used:
        spans = ", ".join(
            f"{s:g}\u2013{e:g} s" if e is not None else f"{s:g} s\u2013end" for s, e in ing.used
        )
        lines.append(("Used", spans))
    children = [_chain(i, depth + 1) for i in m.ingredients] if m is not None and depth < 8 else []
    return [
        ing.title or "(untitled)",
        _RELATIONSHIP_WORDS.get(ing.relationship or "", "ingredient"),
        _INGREDIENT_STATUS_WORDS.get(ing.status, ing.status),
        m is not None and ing.status not in ("valid", "untrusted"),
        ing.status in ("invalid", "missing") or bool(ing.problems),
        lines,
        children,
    ]


def _action_words(action: str) -> str:
    return _ACTION_WORDS.get(action, action.removeprefix("c2pa.").replace("_", " "))


def _source_type_words(value: str) -> str:
    name = normalize_source_type(value) or value.rsplit("/", 1)[-1]
    return _SOURCE_TYPE_WORDS.get(name, name)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _span(r: tuple[float, float]) -> str:
    return f"{r[0]:g}\u2013{r[1]:g}"


def _fps(rate: str) -> str:
    try:
        return f"{float(rate):g}"
    except ValueError:
        return rate


# --- thumbnails ------------------------------------------------------------------------


def _thumbnail(jpeg: bytes) -> str | None:
    """A small JPEG as a data URI (fits THUMB_BOX), or None when it cannot be decoded."""
    try:
        small = _shrink(jpeg)
    except Exception:  # a thumbnail that will not decode is dropped, never a failed report
        return None
    return "data:image/jpeg;base64," + base64.b64encode(small).decode("ascii")


def _shrink(jpeg: bytes) -> bytes:
    """Re-encode to fit THUMB_BOX; a JPEG that already fits is kept as it is."""
    import fractions

    import av

    (frame,) = av.CodecContext.create("mjpeg", "r").decode(av.Packet(jpeg))
    if frame.width <= THUMB_BOX and frame.height <= THUMB_BOX:
        return jpeg
    scale = min(THUMB_BOX / frame.width, THUMB_BOX / frame.height)
    width = max(2, round(frame.width * scale / 2) * 2)
    height = max(2, round(frame.height * scale / 2) * 2)
    small = frame.reformat(width=width, height=height, format="yuvj420p", interpolation="AREA")
    enc = av.CodecContext.create("mjpeg", "w")
    enc.width, enc.height, enc.pix_fmt = width, height, "yuvj420p"
    enc.time_base = fractions.Fraction(1, 1)
    enc.qmin = enc.qmax = _THUMB_QUALITY
    enc.options = {"huffman": "optimal"}
    data = b"".join(bytes(p) for p in [*enc.encode(small), *enc.encode(None)])
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG")
    return data
