"""C2PA regions of interest: the range objects actions' ``changes`` and ingredients'
``metadata.regionOfInterest`` are made of, written and read in one place.

Times are NPT (RFC 2326 ``npt-sec``, or ``h:mm:ss``); rectangles are in pixels. Readers
take anything from a manifest and return ``None`` for what is malformed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "npt",
    "parse_npt",
    "parse_time",
    "read_rectangle",
    "spatial_range",
    "temporal_range",
]


def parse_time(text: str) -> float:
    """Seconds from ``S``, ``M:SS`` or ``H:MM:SS`` (fractions allowed)."""
    fields = text.strip().split(":")
    if len(fields) > 3 or not all(re.fullmatch(r"\d+(\.\d+)?", f) for f in fields):
        raise ValueError(f"{text!r} is not a time (seconds, m:ss or h:mm:ss)")
    if any("." in f for f in fields[:-1]) or any(float(f) >= 60 for f in fields[1:]):
        raise ValueError(f"{text!r} is not a time (seconds, m:ss or h:mm:ss)")
    total = 0.0
    for f in fields:
        total = total * 60 + float(f)
    return total


def npt(seconds: float) -> str:
    """An NPT time as C2PA writes temporal ranges (``2.5``, never ``2.500``)."""
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def parse_npt(value: object) -> float | None:
    """Seconds of an NPT time read from a manifest; None for ``now`` or anything else."""
    if not isinstance(value, str) or not value or value == "now":
        return None
    try:
        seconds = parse_time(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) else None


def temporal_range(start: float | None, end: float | None) -> dict[str, Any]:
    """A ``temporal`` range; an open end (None) runs to the end of the timeline."""
    time: dict[str, Any] = {"type": "npt"}
    if start is not None:
        time["start"] = npt(start)
    if end is not None:
        time["end"] = npt(end)
    return {"type": "temporal", "time": time}


def spatial_range(x: float, y: float, width: float, height: float) -> dict[str, Any]:
    """A ``spatial`` range: a rectangle in pixels."""
    return {
        "type": "spatial",
        "shape": {
            "type": "rectangle",
            "unit": "pixel",
            "origin": {"x": x, "y": y},
            "width": width,
            "height": height,
        },
    }


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def read_rectangle(rng: Mapping[str, Any]) -> tuple[float, float, float, float] | None:
    """x, y, width, height of a ``spatial`` range in pixels, or None."""
    shape = rng.get("shape")
    if rng.get("type") != "spatial" or not isinstance(shape, Mapping):
        return None
    if shape.get("unit", "pixel") != "pixel":
        return None
    origin = shape.get("origin")
    origin = origin if isinstance(origin, Mapping) else {}
    x, y = _number(origin.get("x")), _number(origin.get("y"))
    w, h = _number(shape.get("width")), _number(shape.get("height"))
    if x is None or y is None or w is None or h is None:
        return None
    return (x, y, w, h)
