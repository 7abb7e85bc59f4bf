"""AI-generation signals: IPTC digitalSourceType values and the C2PA signal rubrics.

The classification follows the C2PA conformance task force's signal rubrics
(``shared/reference/c2pa-signal-rubrics``):

* an inception action (``c2pa.created`` / ``c2pa.opened``) with
  ``trainedAlgorithmicMedia`` (or C2PA's ``trainedAlgorithmicData``) is *fully*
  generated; with ``compositeWithTrainedAlgorithmicMedia`` or
  ``compositeSynthetic`` it is *partly*; with ``composite`` or ``digitalArt``
  *possibly*;
* a later, perceptible action (not inception, not one of the non-editorial
  actions such as transcoding) with a GenAI source type is *partly*; with
  ``composite``/``digitalArt`` *possibly*;
* any other recognised source type is a positive *no* (captured, digital
  creation, ``algorithmicMedia`` — which is *not* generative AI although its name
  is a substring of ``trainedAlgorithmicMedia``).

Values are matched exactly, never by substring, in their http and https forms
and as the short names c2pa-rs accepts.
"""

from __future__ import annotations

from collections.abc import Iterable

from .model import Action, AIGeneration

__all__ = [
    "IPTC_PREFIX",
    "C2PA_DST_PREFIX",
    "SOURCE_TYPES",
    "normalize_source_type",
    "source_type_uri",
    "classify_source_type",
    "classify_actions",
    "INCEPTION_ACTIONS",
    "NON_EDITORIAL_ACTIONS",
    "VISIBLE_LABEL_ACTION",
]

IPTC_PREFIX = "http://cv.iptc.org/newscodes/digitalsourcetype/"

# The action a visible label burned into the picture is recorded as (C2PA 2.2: "(visible)
# textual content was inserted into the asset"); provenance.visible_label writes it.
VISIBLE_LABEL_ACTION = "c2pa.addedText"
C2PA_DST_PREFIX = "http://c2pa.org/digitalsourcetype/"

INCEPTION_ACTIONS = frozenset({"c2pa.created", "c2pa.opened"})
NON_EDITORIAL_ACTIONS = frozenset(
    {
        "c2pa.converted",
        "c2pa.published",
        "c2pa.repackaged",
        "c2pa.transcoded",
        "c2pa.resized.proportional",
        "c2pa.enhanced",
        "c2pa.edited.metadata",
        "c2pa.watermarked",
        "c2pa.watermarked.bound",
        "c2pa.watermarked.unbound",
        "c2pa.redacted",
    }
)

_FULLY_AT_INCEPTION = frozenset({"trainedAlgorithmicMedia", "trainedAlgorithmicData"})
_PARTLY = frozenset({"compositeWithTrainedAlgorithmicMedia", "compositeSynthetic"})
_GENAI = _FULLY_AT_INCEPTION | _PARTLY
_POSSIBLY = frozenset({"composite", "digitalArt"})
# Recognised source types that positively say "no generative AI".
_NOT_GENAI = frozenset(
    {
        "digitalCapture",
        "computationalCapture",
        "negativeFilm",
        "positiveFilm",
        "print",
        "humanEdits",
        "minorHumanEdits",
        "algorithmicallyEnhanced",
        "digitalCreation",
        "dataDrivenMedia",
        "algorithmicMedia",
        "screenCapture",
        "virtualRecording",
        "compositeCapture",
        "softwareImage",
    }
)
# Recognised but carrying no statement about generative AI (a blank canvas).
_NEUTRAL = frozenset({"empty"})

# short name -> namespace prefix it lives under
SOURCE_TYPES: dict[str, str] = {
    **{
        n: IPTC_PREFIX
        for n in (_FULLY_AT_INCEPTION - {"trainedAlgorithmicData"})
        | _PARTLY
        | _POSSIBLY
        | _NOT_GENAI
    },
    "trainedAlgorithmicData": C2PA_DST_PREFIX,
    "empty": C2PA_DST_PREFIX,
}


def normalize_source_type(value: object) -> str | None:
    """Map a digitalSourceType (URI in http/https form, or short name) to its short name.

    Returns None for anything that is not exactly one of the known values.
    """
    if not isinstance(value, str):
        return None
    v = value.strip()
    for scheme in ("http://", "https://"):
        for prefix in (IPTC_PREFIX, C2PA_DST_PREFIX):
            full = scheme + prefix[len("http://") :]
            if v.startswith(full):
                name = v[len(full) :]
                return name if SOURCE_TYPES.get(name) == prefix else None
    return v if v in SOURCE_TYPES else None


def source_type_uri(short_name: str) -> str:
    """The canonical (http) URI of a known digitalSourceType short name."""
    try:
        return SOURCE_TYPES[short_name] + short_name
    except KeyError:
        raise ValueError(f"unknown digitalSourceType {short_name!r}") from None


def classify_source_type(value: object, *, inception: bool) -> AIGeneration:
    """The signal one digitalSourceType gives, at inception or in a later action."""
    name = normalize_source_type(value)
    if name is None or name in _NEUTRAL:
        return AIGeneration.UNKNOWN
    if name in _FULLY_AT_INCEPTION:
        return AIGeneration.FULLY if inception else AIGeneration.PARTLY
    if name in _PARTLY:
        return AIGeneration.PARTLY
    if name in _POSSIBLY:
        return AIGeneration.POSSIBLY
    return AIGeneration.NO


def classify_actions(actions: Iterable[Action]) -> tuple[AIGeneration, str]:
    """One manifest's own AI signal from its actions, with the reason in words."""
    best = AIGeneration.UNKNOWN
    reason = "no digitalSourceType on any action"
    for act in actions:
        if act.action in NON_EDITORIAL_ACTIONS or act.digital_source_type is None:
            continue
        inception = act.action in INCEPTION_ACTIONS
        signal = classify_source_type(act.digital_source_type, inception=inception)
        if signal.strength > best.strength:
            best = signal
            name = normalize_source_type(act.digital_source_type)
            reason = f"{act.action} with digitalSourceType {name}"
    return best, reason
