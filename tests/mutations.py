"""Structure-aware mutations of real media files, for the fuzz tests and bench/fuzz.py.

Each mutation is a small frozen record (kind, position/choice parameters) applied to seed
bytes; ``apply`` never fails, whatever the parameters. The seeds are real assets: the
committed fixtures and the shared c2pa-rs corpus.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["SEEDS", "Mutation", "apply", "claims_differ", "random_mutation", "seed_files"]

ROOT = Path(__file__).resolve().parents[1]
SEEDS = [
    ROOT / "fixtures" / "media" / n
    for n in (
        "ai_generated.mp4",
        "captured.mp4",
        "generated.mov",
        "photo_captured.jpg",
        "generated.png",
        "generated.webp",
        "edit_of_ai.mp4",
        "synthetic_voice.wav",
    )
]
_CORPUS = ROOT / "fixtures" / "third_party" / "c2pa-rs"
KINDS = (
    "flip",
    "truncate",
    "box_size",
    "dup_box",
    "move_box",
    "store_bytes",
    "cbor_length",
    "segment_length",
    "insert",
    "zero_run",
)
_LIES = (0, 1, 7, 8, 0xFFFFFFFF, 0x7FFFFFFF, 16, 0x10000)


def seed_files() -> list[Path]:
    extra = (
        [_CORPUS / n for n in ("CA.jpg", "video1.mp4", "sample1.png")] if _CORPUS.is_dir() else []
    )
    return [p for p in SEEDS + extra if p.exists()]


@dataclass(frozen=True)
class Mutation:
    kind: str
    a: int  # a position or a choice, reduced modulo what it indexes
    b: int = 0


def _bmff_boxes(data: bytes) -> list[tuple[int, int]]:
    """(offset, size) of top-level boxes and the children of moov/trak/mdia/minf/stbl."""
    out: list[tuple[int, int]] = []

    def walk(start: int, end: int, depth: int) -> None:
        pos = start
        while pos + 8 <= end and len(out) < 400:
            size = int.from_bytes(data[pos : pos + 4], "big")
            kind = data[pos + 4 : pos + 8]
            if size == 1 and pos + 16 <= end:
                size = int.from_bytes(data[pos + 8 : pos + 16], "big")
            if size < 8 or pos + size > end:
                break
            out.append((pos, size))
            if depth < 5 and kind in (b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta"):
                walk(pos + 8, pos + size, depth + 1)
            pos += size

    if data[4:8] in (b"ftyp", b"styp"):
        walk(0, len(data), 0)
    return out


def _segments(data: bytes) -> list[int]:
    """Offsets of length fields: JPEG segments, PNG chunks, RIFF chunks."""
    out = []
    if data.startswith(b"\xff\xd8"):
        pos = 2
        while pos + 4 <= len(data) and data[pos] == 0xFF and len(out) < 200:
            if data[pos + 1] == 0xDA:
                break
            out.append(pos + 2)
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    elif data.startswith(b"\x89PNG"):
        pos = 8
        while pos + 8 <= len(data) and len(out) < 200:
            out.append(pos)
            pos += 12 + int.from_bytes(data[pos : pos + 4], "big")
    elif data[:4] == b"RIFF":
        out.append(4)
        pos = 12
        while pos + 8 <= len(data) and len(out) < 200:
            out.append(pos + 4)
            pos += 8 + int.from_bytes(data[pos + 4 : pos + 8], "little")
    return out


def _store_range(data: bytes) -> tuple[int, int]:
    """Where the C2PA manifest store (JUMBF) lives, roughly: from the first 'jumb' on."""
    start = data.find(b"jumb")
    if start < 0:
        return 0, len(data)
    end = data.find(b"c2pa.signature", start)
    return start, (end + 4096 if end > 0 else start + 65536)


def apply(seed: bytes, m: Mutation) -> bytes:
    data = bytearray(seed)
    n = len(data)
    if n == 0:
        return bytes(data)
    if m.kind == "flip":
        data[m.a % n] ^= 1 << (m.b % 8)
    elif m.kind == "truncate":
        return bytes(data[: m.a % n])
    elif m.kind == "zero_run":
        start = m.a % n
        data[start : start + 1 + m.b % 512] = bytes(len(data[start : start + 1 + m.b % 512]))
    elif m.kind == "insert":
        pos = m.a % n
        data[pos:pos] = bytes([m.b % 256]) * (1 + m.b % 64)
    elif m.kind in ("box_size", "dup_box", "move_box"):
        boxes = _bmff_boxes(bytes(data))
        if not boxes:
            data[m.a % n] ^= 0xFF
        else:
            pos, size = boxes[m.a % len(boxes)]
            if m.kind == "box_size":
                lie = _LIES[m.b % len(_LIES)]
                if m.b % 9 == 8:  # a 64-bit size that runs past any file
                    data[pos : pos + 4] = struct.pack(">I", 1)
                    data[pos + 8 : pos + 8] = struct.pack(">Q", 0xFFFFFFFFFFFFFFF0)
                else:
                    data[pos : pos + 4] = struct.pack(">I", lie & 0xFFFFFFFF)
            elif m.kind == "dup_box":
                box = bytes(data[pos : pos + size])
                data[pos + size : pos + size] = box
            else:
                box = bytes(data[pos : pos + size])
                del data[pos : pos + size]
                dest = m.b % (len(data) + 1)
                data[dest:dest] = box
    elif m.kind == "store_bytes":
        lo, hi = _store_range(bytes(data))
        hi = min(hi, n)
        if hi > lo:
            data[lo + m.a % (hi - lo)] = m.b % 256
    elif m.kind == "cbor_length":
        # plant an absurd CBOR length (byte string / array / map of 2^64-1) in the store
        lo, hi = _store_range(bytes(data))
        hi = min(hi, n - 9)
        if hi > lo:
            pos = lo + m.a % (hi - lo)
            data[pos : pos + 9] = bytes([(0x5B, 0x9B, 0xBB, 0x7B)[m.b % 4]]) + b"\xff" * 8
    elif m.kind == "segment_length":
        segs = _segments(bytes(data))
        if segs:
            pos = segs[m.a % len(segs)]
            lie = _LIES[m.b % len(_LIES)]
            if data.startswith(b"\xff\xd8"):
                data[pos : pos + 2] = struct.pack(">H", lie & 0xFFFF)
            elif data[:4] == b"RIFF":
                data[pos : pos + 4] = struct.pack("<I", lie & 0xFFFFFFFF)
            else:
                data[pos : pos + 4] = struct.pack(">I", lie & 0xFFFFFFFF)
        else:
            data[m.a % n] ^= 0xFF
    return bytes(data)


def random_mutation(rng: random.Random) -> list[Mutation]:
    """One to three stacked mutations."""
    return [
        Mutation(rng.choice(KINDS), rng.randrange(1 << 30), rng.randrange(1 << 16))
        for _ in range(rng.choice((1, 1, 1, 2, 3)))
    ]


def claims_differ(got: dict[str, Any], want: dict[str, Any]) -> list[str]:
    """Which claims of a mutated file's report differ from its seed's.

    A timestamp sits in the signature's unprotected header: damage there makes the C2PA
    library drop it, or report it untrusted (the signature still holds). Losing a timestamp
    can only lower trust, so a timestamp that is gone or degraded is not a difference; a
    different trusted one is.
    """

    def degraded(ts: Any) -> bool:  # gone, or no longer a trusted timestamp
        return ts is None or (isinstance(ts, dict) and ts.get("trusted") is not True)

    def align(g: Any, w: Any) -> Any:  # w, with the timestamps g has lost or degraded
        if isinstance(w, dict) and isinstance(g, dict):
            return {
                k: g.get(k) if k == "timestamp" and degraded(g.get(k)) else align(g.get(k), v)
                for k, v in w.items()
            }
        if isinstance(w, list) and isinstance(g, list) and len(w) == len(g):
            return [align(a, b) for a, b in zip(g, w, strict=True)]
        return w

    keys = ("signer", "manifest", "ai_generated", "status_codes")
    aligned = {k: align(got[k], want[k]) for k in keys}
    # The active manifest's JUMBF label (its URN) is not covered by a v1 claim's
    # signature and nothing refers to it; c2pa-rs accepts it changed (seen by atheris).
    if isinstance(aligned["manifest"], dict) and isinstance(got["manifest"], dict):
        aligned["manifest"] = {**aligned["manifest"], "label": got["manifest"].get("label")}
    return [k for k in keys if got[k] != aligned[k]]
