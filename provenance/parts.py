"""Which part of a clip is AI-made: declaring parts when signing, reading them back.

A part is a time range, a spatial region over a time range, or a whole track (e.g. the
audio track dubbed by an AI voice), with the C2PA action that made it and its
digitalSourceType. It is written the way the C2PA specification says it: an entry of
``c2pa.actions.v2`` whose ``changes`` list holds a region of interest made of ranges
(``temporal`` with an ``npt`` time, ``spatial`` with a pixel rectangle, ``identified``
with the container's ``track_id``). Reading uses the same structure, so parts declared
by any other C2PA tool are read the same way.

The command-line syntax (one part per ``--ai-part``)::

    [video|audio] [track N] [START-END] [at X,Y,WxH] : ACTION [LANG|SRC>DST] [description]

    video 0:02-0:08 at 120,80,320x480: placed avatar
    audio track 1: dubbed vi
    audio track 1: translated en>vi
    0:10-0:12: edited sky
    video: edited              (the whole video track)

``track N`` counts the tracks of that kind from 1 (``audio track 1`` is the first audio
track); the manifest records the container's own track id. Times are seconds or
``[h:]m:ss[.fff]``.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from . import labels
from ._files import read_regular_file
from ._regions import parse_npt, parse_time, read_rectangle, spatial_range, temporal_range
from .errors import SigningError
from .model import AIGeneration, AIPart

__all__ = [
    "AIPart",
    "ACTION_WORDS",
    "parse_part",
    "load_parts",
    "parts_from_spec",
    "resolve_tracks",
    "part_actions",
    "parts_from_action",
    "describe_part",
    "ai_share",
    "format_time",
]

# Short action words of the CLI syntax and the C2PA action each one means. c2pa.dubbed and
# c2pa.translated are in the C2PA 2.x action vocabulary; a translation names both languages
# (the C2PA library refuses a c2pa.translated action without sourceLanguage/targetLanguage).
ACTION_WORDS = {
    "placed": "c2pa.placed",
    "edited": "c2pa.edited",
    "dubbed": "c2pa.dubbed",
    "translated": "c2pa.translated",
    "filtered": "c2pa.filtered",
    "drawing": "c2pa.drawing",
}
_DEFAULT_SOURCE_TYPE = "trainedAlgorithmicMedia"
_MAX_PARTS = 200
_DASH, _TIMES = "\u2013", "\u00d7"  # en dash, multiplication sign
_MAX_SPEC = 1024 * 1024
_LANG = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")
_TIME = r"(?:\d+:)?(?:\d+:)?\d+(?:\.\d+)?"
_LOCATION = re.compile(
    rf"""^\s*
    (?P<media>video|audio)?\s*
    (?:track\s+(?P<track>\d+))?\s*
    (?:(?P<start>{_TIME})\s*-\s*(?P<end>{_TIME}))?\s*
    (?:at\s+(?P<x>\d+(?:\.\d+)?)\s*,\s*(?P<y>\d+(?:\.\d+)?)\s*,\s*
        (?P<w>\d+(?:\.\d+)?)\s*[x\u00d7]\s*(?P<h>\d+(?:\.\d+)?))?\s*$""",
    re.VERBOSE | re.IGNORECASE,
)


def format_time(seconds: float) -> str:
    """``m:ss`` (with tenths when not whole), the way the CLI syntax writes it."""
    whole = int(seconds)
    frac = seconds - whole
    text = f"{whole // 60}:{whole % 60:02d}"
    if whole >= 3600:
        text = f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
    if frac > 1e-6:
        text += f"{frac:.3f}".lstrip("0").rstrip("0")
    return text


def _action_name(word: str) -> str:
    word = word.strip()
    if word.lower() in ACTION_WORDS:
        return ACTION_WORDS[word.lower()]
    if re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-zA-Z0-9_]+)+", word):
        return word  # a full action name: c2pa.* or an entity-specific one (com.example.x)
    choices = ", ".join(ACTION_WORDS)
    raise ValueError(f"action {word!r} is not one of {choices} (or a full name like c2pa.edited)")


def _check(part: AIPart, origin: str) -> AIPart:
    """A declared part that makes sense, or a ValueError saying what is wrong."""
    if part.start is not None and part.end is not None and part.end <= part.start:
        raise ValueError(f"{origin}: the time range ends before it starts")
    if part.region is not None:
        x, y, w, h = part.region
        if w <= 0 or h <= 0 or x < 0 or y < 0:
            raise ValueError(f"{origin}: the region needs a positive width and height")
        if part.media == "audio":
            raise ValueError(f"{origin}: an audio part cannot have a spatial region")
    if part.action == "c2pa.translated" and not (part.source_language and part.language):
        raise ValueError(f"{origin}: a translation names both languages, e.g. 'translated en>vi'")
    for lang in (part.language, part.source_language):
        if lang is not None and not _LANG.fullmatch(lang):
            raise ValueError(f"{origin}: {lang!r} is not a BCP 47 language code (e.g. vi, en-US)")
    if (part.start, part.end, part.region, part.media, part.track) == (None,) * 5:
        raise ValueError(
            f"{origin}: say which part: a time range, a region, 'audio', 'video' or a track"
        )
    try:
        labels.source_type_uri(part.source_type or _DEFAULT_SOURCE_TYPE)
    except ValueError:
        raise ValueError(f"{origin}: unknown digitalSourceType {part.source_type!r}") from None
    if labels.classify_source_type(part.source_type, inception=False) not in (
        AIGeneration.PARTLY,
        AIGeneration.UNKNOWN,
    ):
        raise ValueError(f"{origin}: {part.source_type} is not a generative-AI source type")
    return part


def parse_part(text: str) -> AIPart:
    """One part from the CLI syntax (see the module doc); ValueError says what is wrong."""
    origin = f"--ai-part {text!r}"
    where, sep, what = text.partition(":")
    # times contain ':' too: the separator is the last ':' followed by a space or an action
    match = re.match(r"^(?P<where>.*?)\s*:\s+(?P<what>[A-Za-z].*)$", text.strip())
    if match is None:
        match = re.match(r"^(?P<where>.*):(?P<what>[A-Za-z].*)$", text.strip())
    if match is None or not sep:
        raise ValueError(f"{origin}: write 'WHERE: ACTION', e.g. 'audio track 1: dubbed vi'")
    where, what = match.group("where"), match.group("what")
    loc = _LOCATION.match(where)
    if loc is None:
        raise ValueError(
            f"{origin}: cannot read the location {where!r}; write e.g. "
            "'video 0:02-0:08 at 120,80,320x480' or 'audio track 1'"
        )
    words = what.split()
    try:
        action = _action_name(words[0])
        start = parse_time(loc["start"]) if loc["start"] else None
        end = parse_time(loc["end"]) if loc["end"] else None
    except ValueError as exc:
        raise ValueError(f"{origin}: {exc}") from None
    rest = words[1:]
    language = source_language = None
    if action in ("c2pa.dubbed", "c2pa.translated") and rest:
        src, arrow, dst = rest[0].partition(">")
        if arrow or _LANG.fullmatch(rest[0]):
            source_language, language = (src or None, dst) if arrow else (None, src)
            rest = rest[1:]
    region = None
    if loc["x"] is not None:
        region = (float(loc["x"]), float(loc["y"]), float(loc["w"]), float(loc["h"]))
    media_kind = (loc["media"] or "").lower() or None
    if region is not None and media_kind is None:
        media_kind = "video"
    if action == "c2pa.dubbed" and media_kind is None:
        media_kind = "audio"
    part = AIPart(
        kind=_kind(region, loc["track"], start, end),
        action=action,
        media=media_kind,
        start=start,
        end=end,
        region=region,
        track=loc["track"],
        language=language,
        source_language=source_language,
        description=" ".join(rest) or None,
    )
    return _check(part, origin)


def _kind(region: object, track: object, start: object, end: object) -> str:
    if region is not None:
        return "region"
    if start is not None or end is not None:
        return "time"
    return "track"


_SPEC_KEYS = {
    "media",
    "track",
    "start",
    "end",
    "region",
    "action",
    "source_type",
    "language",
    "source_language",
    "description",
}


def parts_from_spec(items: object, origin: str) -> list[AIPart]:
    """Parts from a spec's data: a list of strings in the CLI syntax or of tables with the
    fields ``media``, ``track``, ``start``, ``end``, ``region`` ([x, y, w, h]), ``action``,
    ``source_type``, ``language``, ``source_language``, ``description``."""
    if isinstance(items, Mapping):
        items = items.get("parts", items.get("ai_parts"))
    if not isinstance(items, list):
        raise ValueError(f"{origin}: expected a list of parts (or a 'parts' list)")
    if len(items) > _MAX_PARTS:
        raise ValueError(f"{origin}: {len(items)} parts; at most {_MAX_PARTS}")
    out: list[AIPart] = []
    for n, item in enumerate(items, 1):
        where = f"{origin}: part {n}"
        if isinstance(item, str):
            try:
                out.append(parse_part(item))
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from None
            continue
        if not isinstance(item, Mapping):
            raise ValueError(f"{where}: expected a string or a table")
        unknown = sorted(str(k) for k in item if k not in _SPEC_KEYS)
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}")
        try:
            out.append(_part_from_table(item, where))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from None
    return out


def _opt_str(item: Mapping[str, Any], key: str) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > 500:
        raise ValueError(f"{key} must be a short text")
    return value


def _opt_time(item: Mapping[str, Any], key: str) -> float | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{key} must be seconds or m:ss")
    seconds = parse_time(value) if isinstance(value, str) else float(value)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{key} must be a time from the start of the clip")
    return seconds


def _part_from_table(item: Mapping[str, Any], where: str) -> AIPart:
    action = _action_name(_opt_str(item, "action") or "")
    media_kind = _opt_str(item, "media")
    if media_kind not in (None, "video", "audio"):
        raise ValueError("media must be 'video' or 'audio'")
    track = item.get("track")
    if track is not None and (isinstance(track, bool) or not isinstance(track, int) or track < 1):
        raise ValueError("track must be a number from 1")
    region_v = item.get("region")
    region = None
    if region_v is not None:
        if (
            not isinstance(region_v, list)
            or len(region_v) != 4
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in region_v)
        ):
            raise ValueError("region must be [x, y, width, height] in pixels")
        region = (float(region_v[0]), float(region_v[1]), float(region_v[2]), float(region_v[3]))
    if region is not None and media_kind is None:
        media_kind = "video"
    if action == "c2pa.dubbed" and media_kind is None:
        media_kind = "audio"
    start, end = _opt_time(item, "start"), _opt_time(item, "end")
    part = AIPart(
        kind=_kind(region, track, start, end),
        action=action,
        media=media_kind,
        start=start,
        end=end,
        region=region,
        track=str(track) if track is not None else None,
        source_type=_opt_str(item, "source_type"),
        language=_opt_str(item, "language"),
        source_language=_opt_str(item, "source_language"),
        description=_opt_str(item, "description"),
    )
    return _check(part, where)


def load_parts(path: str | os.PathLike[str]) -> list[AIPart]:
    """Parts from a JSON or TOML spec file (by its suffix; ``.toml`` is TOML)."""
    import tomllib  # here: verifying never reads a spec file

    p = Path(path)
    data = read_regular_file(p, limit=_MAX_SPEC, error=SigningError, what="AI parts spec")
    try:
        text = data.decode("utf-8")
        parsed: object = tomllib.loads(text) if p.suffix.lower() == ".toml" else json.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise SigningError(f"{p}: not a valid AI parts spec: {exc}") from None
    try:
        return parts_from_spec(parsed, str(p))
    except ValueError as exc:
        raise SigningError(str(exc)) from None


def resolve_tracks(parts: Sequence[AIPart], path: str | os.PathLike[str]) -> list[AIPart]:
    """Each part checked against the file and given its container track id (``audio track
    1`` is the first audio track): the id C2PA's ``identified`` range names. A part naming a
    track the file lacks, a region outside the frame or a time past the end is refused."""
    import av

    try:
        with av.open(str(path)) as container:
            streams: dict[str, list[Any]] = {
                "video": list(container.streams.video),
                "audio": list(container.streams.audio),
                "any": list(container.streams),
            }
            frames = [(s.codec_context.width, s.codec_context.height) for s in streams["video"]]
            ids = {k: [str(s.id) for s in v] for k, v in streams.items()}
            duration = container.duration / 1_000_000 if container.duration else None
    except (av.FFmpegError, OSError) as exc:
        raise SigningError(f"{path}: cannot read its tracks to place the AI parts: {exc}") from exc
    out = []
    for part in parts:
        where = describe_part(part)
        if part.end is not None and duration is not None and part.end > duration + 0.5:
            raise SigningError(
                f"{path}: AI part '{where}' ends after the clip ({format_time(duration)})"
            )
        if part.region is not None and frames:
            fw, fh = frames[int(part.track or 1) - 1] if part.media == "video" else frames[0]
            x, y, w, h = part.region
            if x + w > fw or y + h > fh:
                raise SigningError(
                    f"{path}: AI part '{where}': the region reaches beyond "
                    f"the {fw}{_TIMES}{fh} frame"
                )
        if part.track is None and part.media is None:
            out.append(part)
            continue
        kind = part.media or "any"
        n = int(part.track or 1)
        if n > len(ids[kind]):
            have = len(ids[kind])
            what = f"{kind} track" if kind != "any" else "track"
            raise SigningError(
                f"{path}: has {have} {what}{'s' if have != 1 else ''}; "
                f"{describe_location(part)} does not exist"
            )
        name = describe_location(replace(part, start=None, end=None, region=None))
        out.append(replace(part, track_id=ids[kind][n - 1], name=name))
    return out


def part_actions(
    parts: Iterable[AIPart], *, agent: str, ingredient_label: str | None = None
) -> list[dict[str, Any]]:
    """One ``c2pa.actions.v2`` entry per part, its region in ``changes``. A ``c2pa.placed``
    part names ``ingredient_label`` (a ``componentOf`` ingredient), as C2PA requires."""
    out: list[dict[str, Any]] = []
    for part in parts:
        ranges: list[dict[str, Any]] = []
        if part.start is not None or part.end is not None:
            ranges.append(temporal_range(part.start, part.end))
        if part.region is not None:
            ranges.append(spatial_range(*part.region))
        if part.track_id is not None:
            ranges.append(
                {"type": "identified", "item": {"identifier": "track_id", "value": part.track_id}}
            )
        roi: dict[str, Any] = {"region": ranges}
        if part.name:
            roi["name"] = part.name
        if part.description:
            roi["description"] = part.description
        act: dict[str, Any] = {
            "action": part.action,
            "softwareAgent": {"name": agent},
            "digitalSourceType": labels.source_type_uri(part.source_type or _DEFAULT_SOURCE_TYPE),
            "changes": [roi],
        }
        params: dict[str, Any] = {}
        if part.language:
            params["targetLanguage"] = part.language
        if part.source_language:
            params["sourceLanguage"] = part.source_language
        if part.action == "c2pa.placed" and ingredient_label:
            params["ingredientIds"] = [ingredient_label]
        if params:
            act["parameters"] = params
        if part.description:
            act["description"] = part.description
        out.append(act)
    return out


def parts_from_action(act: Mapping[str, Any], manifest: str | None) -> list[AIPart]:
    """The AI parts one action declares: one per region of interest in its ``changes``,
    when its digitalSourceType is generative AI. Anything malformed is skipped."""
    dst = act.get("digitalSourceType")
    if labels.classify_source_type(dst, inception=False) is not AIGeneration.PARTLY:
        return []
    changes = act.get("changes")
    if not isinstance(changes, list) or not isinstance(act.get("action"), str):
        return []
    params = act.get("parameters")
    params = params if isinstance(params, Mapping) else {}
    out: list[AIPart] = []
    for roi in changes[:_MAX_PARTS]:
        if not isinstance(roi, Mapping) or not isinstance(roi.get("region"), list):
            continue
        start = end = None
        region = None
        track_id = None
        temporal = False  # a temporal range without bounds is the whole timeline
        for rng in roi["region"][:_MAX_PARTS]:
            if not isinstance(rng, Mapping):
                continue
            time, item = rng.get("time"), rng.get("item")
            if rng.get("type") == "temporal":
                temporal = True
                if isinstance(time, Mapping):
                    start, end = parse_npt(time.get("start")), parse_npt(time.get("end"))
            elif rng.get("type") == "spatial":
                region = read_rectangle(rng) or region
            elif rng.get("type") == "identified" and isinstance(item, Mapping):
                value = item.get("value")
                if isinstance(value, str | int) and not isinstance(value, bool):
                    track_id = str(value)[:100]
        name = roi.get("name") if isinstance(roi.get("name"), str) else None
        described = roi.get("description") or act.get("description")
        named = re.fullmatch(r"(video|audio)(?: track (\d+))?", name or "")
        media_kind = named.group(1) if named else None
        track = named.group(2) if named else None
        if media_kind is None and act["action"] == "c2pa.dubbed":
            media_kind = "audio"
        out.append(
            AIPart(
                kind=_kind(region, track_id, 0.0 if temporal else start, end),
                action=act["action"][:200],
                media=media_kind,
                start=start,
                end=end,
                region=region,
                track=track,
                track_id=track_id,
                name=name[:200] if name else None,
                source_type=labels.normalize_source_type(dst),
                language=_lang(params.get("targetLanguage")),
                source_language=_lang(params.get("sourceLanguage")),
                description=described[:500] if isinstance(described, str) else None,
                manifest=manifest,
            )
        )
    return out


def _lang(value: object) -> str | None:
    return value if isinstance(value, str) and _LANG.fullmatch(value) else None


def describe_location(part: AIPart) -> str:
    """Where the part is, in words: ``audio track 1``, ``video 0:02-0:08, region ...``
    (with an en dash and a multiplication sign, as people write them)."""
    bits: list[str] = []
    head = part.media or ""
    if part.track is not None:
        head = f"{head} track {part.track}".strip()
    elif part.track_id is not None and part.media is None:
        head = f"{head} track id {part.track_id}".strip()
    if head:
        bits.append(head)
    if part.start is not None or part.end is not None:
        start = format_time(part.start) if part.start is not None else "start"
        end = format_time(part.end) if part.end is not None else "end"
        span = f"{start}{_DASH}{end}"
        bits[-1:] = [f"{bits[-1]} {span}"] if bits else [span]
    if part.region is not None:
        x, y, w, h = (f"{v:g}" for v in part.region)
        bits.append(f"region {x},{y} {w}{_TIMES}{h}")
    return ", ".join(bits) or "the whole clip"


def _what(part: AIPart) -> str:
    thing = part.description
    if part.action == "c2pa.placed":
        return f"AI {thing} placed" if thing else "AI element placed"
    if part.action == "c2pa.dubbed":
        lang = f" ({part.source_language}→{part.language})" if part.source_language else ""
        lang = lang or (f" ({part.language})" if part.language else "")
        return f"dubbed by an AI voice{lang}"
    if part.action == "c2pa.translated":
        return f"translated by AI ({part.source_language or '?'}→{part.language or '?'})"
    if part.action == "c2pa.edited":
        return f"{thing} edited by AI" if thing else "edited by AI"
    if part.action == "c2pa.created":
        return f"AI-generated {thing}" if thing else "AI-generated"
    verb = part.action.rsplit(".", 1)[-1]
    return f"{verb} by AI ({thing})" if thing else f"{verb} by AI"


def describe_part(part: AIPart) -> str:
    """One part in words: ``audio track 1: dubbed by an AI voice (vi)``."""
    return f"{describe_location(part)}: {_what(part)}"


def ai_share(parts: Iterable[AIPart], duration: float | None) -> float | None:
    """The share (0..1) of the timeline covered by AI parts, overlaps counted once. A part
    with no time range covers the whole clip. None when the duration is unknown."""
    spans: list[tuple[float, float]] = []
    for part in parts:
        if part.start is None and part.end is None:
            return 1.0
        if duration is None:
            return None
        spans.append(
            (part.start or 0.0, min(part.end if part.end is not None else duration, duration))
        )
    if not spans:
        return 0.0
    if not duration:
        return None
    spans.sort()
    covered, cur_s, cur_e = 0.0, spans[0][0], spans[0][1]
    for s, e in spans[1:]:
        if s > cur_e:
            covered += max(0.0, cur_e - cur_s)
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    covered += max(0.0, cur_e - cur_s)
    return min(1.0, covered / duration)


def signing_label(ai: AIGeneration | None, parts: Sequence[AIPart]) -> AIGeneration | None:
    """The overall label of a clip signed with AI parts: ``partly`` unless said otherwise
    (the rubrics' perceptible GenAI transformation); ``no`` contradicts the parts."""
    if not parts:
        return ai
    if ai is AIGeneration.NO:
        raise SigningError("AI parts were declared, so the AI label cannot be 'no'")
    return ai or AIGeneration.PARTLY


def add_to_manifest(
    manifest: dict[str, Any],
    parts: Sequence[AIPart],
    *,
    agent: str,
    source: str | os.PathLike[str],
    ingredients: Sequence[Mapping[str, Any]],
) -> None:
    """Append the parts' actions to the manifest being signed. A ``c2pa.placed`` part acts
    on a ``componentOf`` ingredient (C2PA validation requires one): the first one given,
    else an ingredient describing the placed AI element, without content of its own."""
    if not parts:
        return
    resolved = resolve_tracks(parts, source)
    comp = next(
        (
            str(j["label"])
            for j in ingredients
            # an ingredient with a used range is someone's work placed in, not the AI element
            if j.get("relationship") == "componentOf" and "metadata" not in j
        ),
        None,
    )
    if comp is None and any(p.action == "c2pa.placed" for p in resolved):
        comp = "ai_placed_element"
        placed = next(p for p in resolved if p.action == "c2pa.placed")
        manifest.setdefault("ingredients", []).append(
            {
                "title": f"AI-generated {placed.description or 'element'}",
                "relationship": "componentOf",
                "label": comp,
            }
        )
    actions = manifest["assertions"][0]["data"]["actions"]
    actions.extend(part_actions(resolved, agent=agent, ingredient_label=comp))
