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

__all__ = [
    "SEEDS",
    "Mutation",
    "apply",
    "claims_differ",
    "deep_boxes",
    "huge_dimensions",
    "many_boxes",
    "random_mutation",
    "seed_files",
    "unsafe_on_screen",
]

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


# ---------------------------------------------------------------------------
# Denial-of-service shapes (issue 13): absurd box counts and declared dimensions.

_CONTAINER_BOXES = (b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta", b"edts", b"dinf")


def many_boxes(seed: bytes, count: int, *, where: str = "top", depth: int = 1) -> bytes:
    """``seed`` with ``count`` empty ``free`` boxes added: at the top level (``top``), or
    inside one new ``udta`` box in ``moov`` (``nested``), wrapped in ``depth`` levels of
    ``udta``. ``count`` of 1,000,000 is 8 MB: the shape that kept the native reader busy
    for hours before the structural pre-check."""
    free = struct.pack(">I4s", 8, b"free") * count
    if where == "top":
        return seed + free
    inner = free
    for _ in range(max(1, depth)):
        inner = struct.pack(">I4s", 8 + len(inner), b"udta") + inner
    pos = seed.find(b"moov") - 4
    if pos < 0:
        return seed + inner
    return _insert_in(seed, [pos], pos + int.from_bytes(seed[pos : pos + 4], "big"), inner)


def deep_boxes(seed: bytes, depth: int) -> bytes:
    """``depth`` nested ``udta`` boxes appended at the top level (the native parser
    recurses)."""
    inner = b""
    for _ in range(depth):
        inner = struct.pack(">I4s", 8 + len(inner), b"udta") + inner
    return seed + inner


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, bytes]]:
    out = []
    pos = start
    while pos + 8 <= end:
        size = int.from_bytes(data[pos : pos + 4], "big")
        if size < 8 or pos + size > end:
            break
        out.append((pos, size, data[pos + 4 : pos + 8]))
        pos += size
    return out


def _find_path(data: bytes, path: list[bytes]) -> list[tuple[int, int]]:
    """(offset, size) of each box along ``path`` (first match at each level)."""
    found: list[tuple[int, int]] = []
    start, end = 0, len(data)
    for kind in path:
        hit = next((c for c in _children(data, start, end) if c[2] == kind), None)
        if hit is None:
            return []
        found.append((hit[0], hit[1]))
        # stsd: a full box and an entry count; avc1: the VisualSampleEntry fields
        skip = {b"stsd": 16, b"avc1": 86, b"avc3": 86}.get(kind, 8)
        start, end = hit[0] + skip, hit[0] + hit[1]
        if kind not in _CONTAINER_BOXES and kind not in (b"stsd", b"avc1", b"avc3"):
            break
    return found


def _insert_in(data: bytes, ancestors: list[int], at: int, blob: bytes) -> bytes:
    return _replace_in(data, ancestors, at, at, blob)


def _replace_in(data: bytes, ancestors: list[int], start: int, end: int, blob: bytes) -> bytes:
    """Replace ``data[start:end]`` by ``blob`` inside the boxes at ``ancestors`` (their
    32-bit sizes grow by the difference); when that moves media data, every chunk offset
    (stco/co64) after ``start`` moves with it, so the file stays playable."""
    delta = len(blob) - (end - start)
    out = bytearray(data[:start] + blob + data[end:])
    for pos in ancestors:
        size = int.from_bytes(out[pos : pos + 4], "big")
        out[pos : pos + 4] = struct.pack(">I", size + delta)
    moov = _find_path(bytes(out), [b"moov"])
    if delta and moov:
        lo, hi = moov[0][0], moov[0][0] + moov[0][1]
        for kind, width in ((b"stco", 4), (b"co64", 8)):
            i = out.find(kind, lo, hi)
            while i >= 4:
                n = int.from_bytes(out[i + 8 : i + 12], "big")
                for k in range(n):
                    p = i + 12 + k * width
                    off = int.from_bytes(out[p : p + width], "big")
                    if off >= start:
                        out[p : p + width] = (off + delta).to_bytes(width, "big")
                i = out.find(kind, i + 4, hi)
    return bytes(out)


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def u(self, n: int) -> int:
        v = 0
        for _ in range(n):
            byte = self.data[self.pos >> 3] if self.pos >> 3 < len(self.data) else 0
            v = (v << 1) | ((byte >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return v

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0 and zeros < 32:
            zeros += 1
        return (1 << zeros) - 1 + self.u(zeros)


def _ue_bits(v: int) -> str:
    b = bin(v + 1)[2:]
    return "0" * (len(b) - 1) + b


def _unescape(nal: bytes) -> bytes:
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


def _escape(rbsp: bytes) -> bytes:
    out = bytearray()
    zeros = 0
    for b in rbsp:
        if zeros >= 2 and b <= 3:
            out.append(3)
            zeros = 0
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


def _sps_with_size(nal: bytes, width: int, height: int) -> bytes:
    """An H.264 SPS NAL unit declaring ``width`` x ``height`` (rounded up to macroblocks),
    every other field kept. Handles the profiles libx264 writes (no scaling matrices)."""
    rbsp = _unescape(nal[1:])
    r = _Bits(rbsp)
    r.u(24)
    r.ue()  # seq_parameter_set_id
    if rbsp[0] in (100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135):
        if r.ue() == 3:  # chroma_format_idc
            r.u(1)
        r.ue()
        r.ue()
        r.u(1)
        if r.u(1):
            raise ValueError("scaling matrices are not handled")
    r.ue()  # log2_max_frame_num_minus4
    poc = r.ue()
    if poc == 0:
        r.ue()
    elif poc == 1:
        r.u(1)
        r.ue()
        r.ue()
        for _ in range(r.ue()):
            r.ue()
    r.ue()  # max_num_ref_frames
    r.u(1)
    head_bits = r.pos
    r.ue()  # pic_width_in_mbs_minus1
    r.ue()  # pic_height_in_map_units_minus1
    frame_mbs_only = r.u(1)
    tail_start = r.pos - 1
    bits = "".join(f"{b:08b}" for b in rbsp)
    # drop the old RBSP trailing bits (the last 1 and the zeros after it) and re-add them
    last_one = bits.rstrip("0")
    mbs_h = -(-height // 16) if frame_mbs_only else -(-height // 32)
    new = (
        bits[:head_bits]
        + _ue_bits(-(-width // 16) - 1)
        + _ue_bits(mbs_h - 1)
        + last_one[tail_start : len(last_one) - 1]
        + "1"
    )
    new += "0" * (-len(new) % 8)
    out = bytes(int(new[i : i + 8], 2) for i in range(0, len(new), 8))
    return nal[:1] + _escape(out)


def huge_dimensions(seed: bytes, width: int = 16000, height: int = 16000) -> bytes:
    """An H.264 MP4 that declares ``width`` x ``height`` frames everywhere a decoder or a
    demuxer looks (the track header, the sample entry and the SPS), its media unchanged:
    a decompression bomb of the seed's size."""
    trak = [b"moov", b"trak"]
    out = seed
    tkhd = _find_path(out, [*trak, b"tkhd"])
    if tkhd:
        pos, size = tkhd[-1]
        end = pos + size
        buf = bytearray(out)
        buf[end - 8 : end] = struct.pack(">II", width << 16, height << 16)
        out = bytes(buf)
    entry_path = [*trak, b"mdia", b"minf", b"stbl", b"stsd"]
    for sample in (b"avc1", b"avc3"):
        boxes = _find_path(out, [*entry_path, sample])
        if len(boxes) == len(entry_path) + 1:
            break
    else:
        return out
    pos = boxes[-1][0]
    buf = bytearray(out)
    buf[pos + 32 : pos + 36] = struct.pack(">HH", min(width, 0xFFFF), min(height, 0xFFFF))
    out = bytes(buf)
    avcc = _find_path(out, [*entry_path, sample, b"avcC"])
    if len(avcc) != len(entry_path) + 2:
        return out
    cpos, csize = avcc[-1]
    body = out[cpos + 8 : cpos + csize]
    if len(body) < 8 or body[5] & 0x1F < 1:
        return out
    sps_len = int.from_bytes(body[6:8], "big")
    sps = body[8 : 8 + sps_len]
    new_sps = _sps_with_size(sps, width, height)
    new_body = body[:6] + struct.pack(">H", len(new_sps)) + new_sps + body[8 + sps_len :]
    ancestors = [b[0] for b in avcc]
    return _replace_in(out, ancestors, cpos + 8, cpos + csize, new_body)


def audit_in_child(
    paths: list[Path],
    folder: Path,
    *,
    repository: bool = True,
    thumbnails: bool = True,
    timeout: float = 60.0,
    rss_limit_mib: int = 1536,
    jobs: int = 2,
) -> dict[str, Any]:
    """Verify ``paths`` in the isolated audit workers of a fresh process (so the peak RSS
    measured is these files' alone), each worker's data segment limited to
    ``rss_limit_mib``; with ``repository`` every unsigned video is fingerprinted, with
    ``thumbnails`` a frame is decoded too. See bench/_child.py ``op_audit``."""
    import json
    import subprocess
    import sys

    listfile = folder / "paths.txt"
    listfile.write_text("".join(f"{p}\n" for p in paths), encoding="utf-8")
    args = [
        sys.executable,
        str(ROOT / "bench" / "_child.py"),
        "audit",
        str(listfile),
        str(folder / "repo.sqlite") if repository else "",
        "1" if thumbnails else "0",
        str(timeout),
        str(rss_limit_mib),
        str(jobs),
    ]
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=timeout * len(paths) + 120, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"the audit process failed ({done.returncode}): {done.stderr[-2000:]}")
    out: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return out


def dos_problem(report: dict[str, Any] | Any) -> str | None:
    """Why a report shows a crash, a hang or an internal error (None when it does not)."""
    reason = report["reason"] if isinstance(report, dict) else report.reason
    verdict = report["verdict"] if isinstance(report, dict) else report.verdict.value
    if verdict != "error":
        return None
    if "crashed" in reason:
        return "crash"
    if "did not finish" in reason:
        return "hang"
    if reason.startswith("internal error"):
        return "internal error"
    return None


# ---------------------------------------------------------------------------
# Hostile strings (issue 13): what a stranger writes into a manifest or a file name.

PAYLOADS = (
    "\x1b[2J\x1b[H",  # clear the screen, home the cursor
    "\r",  # rewrite the line
    "\x1b[1;32mTRUSTED\x1b[0m",  # paint a verdict
    "\x1b[5A\x1b[2K",  # cursor up, erase line
    "\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\x1b]0;title\x07",  # OSC window title, BEL-terminated
    "\x9b31m\x9d8;;x\x9c",  # C1 CSI / OSC / ST
    "\u202e\u2066\u200f",  # bidi override, isolate, RLM
    "\u200b\u200d\ufeff\u00ad",  # zero-width, BOM, soft hyphen
    "\n\x0b\x0c\u2028\u2029\x85",  # line breaks of every kind
    "\x00\x07\x08\x7f",  # NUL, BEL, backspace, DEL
    "[/]",  # closes a rich markup tag: MarkupError
    "[link=https://evil.example]x[/link]",
    "[bold red]TRUSTED[/]",
    "=cmd|' /C calc'!A0",  # CSV formulas
    "+1",
    "-2+3",
    "@SUM(1)",
    "\t=1",
    "<script>alert(1)</script>&amp;",  # HTML
    '"quoted", with; separators',
)
# What each payload must start with to land at the start of a CSV cell.
CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def hostile_text(rng: random.Random, *, max_parts: int = 3) -> str:
    """Payloads and ordinary words, shuffled: the start of the string is often a payload."""
    parts = [rng.choice(PAYLOADS) for _ in range(rng.randint(1, max_parts))]
    if rng.random() < 0.3:
        parts.insert(rng.randrange(len(parts) + 1), "clip")
    return "".join(parts)


def hostile_file_name(rng: random.Random, suffix: str = ".mp4") -> str:
    """A file name a Linux file system accepts (no ``/``, no NUL) full of payloads."""
    name = hostile_text(rng).replace("/", "\u2215").replace("\x00", "")
    return (name or "x")[:180] + suffix


def _x509_name(value: str) -> str:
    """``value`` cut to what cryptography accepts in a name (at most 64 units)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    value = value[:64]
    while value:
        try:
            x509.NameAttribute(NameOID.COMMON_NAME, value)
            return value
        except ValueError:
            value = value[:-1]
    return value


def sign_hostile(
    source: Path, dest: Path, strings: dict[str, str], keys_dir: Path
) -> tuple[Path, Path]:
    """Sign ``source`` into ``dest`` through the C2PA library directly, with ``strings``
    (keys: title, generator, generator_version, agent, ingredient, data_key, data_value,
    leaf_cn, leaf_org, root_cn, root_org) in every string field a stranger controls: the
    title, the claim generator, an action's softwareAgent, an ingredient's title, an
    assertion's data, and the signer's and its issuer's names in a certificate chain made
    here. Returns (the signed file, the PEM of the chain's root: a trust anchor)."""
    from cryptography.hazmat.primitives import serialization

    from provenance import _c2pa, keys

    s = {k: _x509_name(v) if k.startswith(("leaf_", "root_")) else v for k, v in strings.items()}
    root_key = keys.generate_key()
    root = keys.issue_certificate(
        subject_key=root_key,
        issuer_key=root_key,
        issuer_cert=None,
        cn=s["root_cn"] or "r",
        org=s["root_org"] or "r",
        ca=True,
    )
    leaf_key = keys.generate_key()
    leaf = keys.issue_certificate(
        subject_key=leaf_key,
        issuer_key=root_key,
        issuer_cert=root,
        cn=s["leaf_cn"] or "l",
        org=s["leaf_org"] or "l",
    )
    pem = serialization.Encoding.PEM
    root_pem = keys_dir / "hostile-root.pem"
    root_pem.write_bytes(root.public_bytes(pem))
    spec = _c2pa.NativeSignerSpec(
        "es256",
        leaf.public_bytes(pem).decode(),
        private_key_pem=leaf_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    )
    iptc = "http://cv.iptc.org/newscodes/digitalsourcetype/"
    manifest = {
        "claim_generator_info": [{"name": s["generator"], "version": s["generator_version"]}],
        "title": s["title"],
        "format": "video/mp4",
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": iptc + "trainedAlgorithmicMedia",
                            "softwareAgent": {"name": s["agent"]},
                        }
                    ]
                },
            },
            {"label": _LABEL, "data": {s["data_key"]: s["data_value"]}},
        ],
    }
    with (
        open(source, "rb") as src,
        open(dest, "w+b") as dst,
        open(source, "rb") as ing,
    ):
        _c2pa.sign_stream(
            manifest=manifest,
            signer=spec,
            mime="video/mp4",
            source=src,
            dest=dst,
            ingredients=[
                _c2pa.NativeIngredient(
                    {"title": s["ingredient"], "relationship": "componentOf", "label": "ing0"},
                    "video/mp4",
                    ing,
                )
            ],
        )
    return dest, root_pem


STRING_FIELDS = (
    "title",
    "generator",
    "generator_version",
    "agent",
    "ingredient",
    "data_key",
    "data_value",
    "leaf_cn",
    "leaf_org",
    "root_cn",
    "root_org",
)


def unsafe_on_screen(text: str) -> list[str]:
    """Characters a terminal would obey or hide (only newlines may remain)."""
    import unicodedata

    bad = []
    for ch in text:
        if ch == "\n" or ch.isprintable():
            continue
        if unicodedata.category(ch) in ("Zs", "Co", "Cn"):
            continue
        bad.append(ch)
    return bad


def render_violations(
    signed: dict[Path, dict[str, str]], folder: Path, root_pem: Path
) -> list[str]:
    """Every renderer of the real CLI over the signed files (all in ``folder``), with the
    hostile root trusted: the text of ``provcheck FILE --detailed --verbose``, the audit
    table, CSV, JSON, JSON Lines and HTML. What each must never do:

    - text and table: hold a raw control, bidi or invisible character (ESC, CR, OSC, C1,
      U+202E, U+200B ...), or lose a ``[/]`` (parsed as markup) or end in an internal error;
    - CSV: a cell that starts with = + - @ tab or CR;
    - JSON, JSON Lines: a string that is not exactly what the file says;
    - HTML: a raw ``<script`` or a raw control character.
    """
    import csv
    import io
    import json

    from click.testing import CliRunner

    from provcheck.app import cli

    problems: list[str] = []
    runner = CliRunner()
    trust = ["--trust", str(root_pem)]

    def run(args: list[str]) -> tuple[str, str]:
        r = runner.invoke(cli, args, catch_exceptions=True)
        if r.exception is not None and not isinstance(r.exception, SystemExit):
            problems.append(f"{args[:3]}: exception {type(r.exception).__name__}: {r.exception}")
        return r.stdout, r.stderr

    def screen(what: str, text: str) -> None:
        bad = unsafe_on_screen(text)
        if bad:
            problems.append(f"{what}: raw characters on screen {sorted(set(bad))!r}")
        if "internal error" in text:
            problems.append(f"{what}: internal error")

    for path, s in signed.items():
        out, err = run([*trust, "--detailed", "--verbose", str(path)])
        screen(f"text {path.name!r}", out + err)
        if s["title"].count("[/]") and "[/]" not in out:
            problems.append(f"text {path.name!r}: markup in the title was parsed")
        out, err = run(["--format", "json", *trust, str(path)])
        try:
            res = json.loads(out)["results"][0]
        except (ValueError, KeyError, IndexError) as exc:
            problems.append(f"json {path.name!r}: not a JSON document ({exc})")
            continue
        problems.extend(f"json {path.name!r}: {p}" for p in _json_exact(res, path, s))

    out, err = run(["audit", str(folder), *trust, "--no-progress", "--format", "table"])
    screen("audit table", out + err)
    for s in signed.values():
        if "[/]" in s["leaf_cn"] and "[/]" not in out:
            problems.append("audit table: markup in a signer name was parsed")
    out, err = run(["audit", str(folder), *trust, "--no-progress", "--format", "csv"])
    rows = list(csv.reader(io.StringIO(out, newline="")))
    if len(rows) != len(signed) + 1:
        problems.append(f"csv: {len(rows) - 1} rows for {len(signed)} files")
    for row in rows:
        for cell in row:
            if cell.startswith(CSV_FORMULA_STARTS):
                problems.append(f"csv: a cell starts a formula: {cell[:40]!r}")
    out, err = run(["audit", str(folder), *trust, "--no-progress", "--format", "json"])
    try:
        results = json.loads(out)["results"]
    except (ValueError, KeyError) as exc:
        problems.append(f"audit json: not a JSON document ({exc})")
        results = []
    for res in results:
        p = Path(res["path"])
        if p in signed:
            problems.extend(f"audit json {p.name!r}: {x}" for x in _json_exact(res, p, signed[p]))
    out, err = run(["audit", str(folder), *trust, "--no-progress", "--format", "jsonl"])
    for line in out.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            problems.append(f"jsonl: a line is not JSON: {line[:60]!r}")
            continue
        p = Path(doc.get("path", ""))
        if p in signed:
            problems.extend(f"jsonl {p.name!r}: {x}" for x in _json_exact(doc, p, signed[p]))
    html = folder.parent / f"{folder.name}-report.html"
    run(["audit", str(folder), *trust, "--no-progress", "--format", "html", "-o", str(html)])
    page = html.read_text(encoding="utf-8") if html.exists() else ""
    if not page:
        problems.append("html: no report written")
    if "<script>alert(1)" in page:
        problems.append("html: a payload became markup")
    raw = sorted({c for c in page if c in "\x1b\r\x07\x9b\x9d\x00"})
    if raw:
        problems.append(f"html: raw control characters {raw!r}")
    return problems


_LABEL = "org.provcheck.fuzz"


def _json_exact(res: dict[str, Any], path: Path, s: dict[str, str]) -> list[str]:
    """What the JSON says that differs from what the file says."""
    out = []
    m = res.get("manifest") or {}
    signer = res.get("signer") or {}
    want = {
        "path": (res.get("path"), str(path)),
        "title": (m.get("title"), s["title"]),
        "claim_generator": (m.get("claim_generator") or "", s["generator"]),
        "software_agent": ((m.get("actions") or [{}])[0].get("software_agent"), s["agent"]),
        "ingredient title": ((m.get("ingredients") or [{}])[0].get("title"), s["ingredient"]),
        "signer common name": (signer.get("common_name"), _x509_name(s["leaf_cn"]) or "l"),
        "signer organization": (signer.get("organization"), _x509_name(s["leaf_org"]) or "l"),
    }
    for what, (got, expected) in want.items():
        if what == "claim_generator":
            if not str(got).startswith(expected):  # "name version" or "name/version"
                out.append(f"{what} differs: {str(got)[:40]!r}")
        elif got != expected:
            out.append(f"{what} differs: {str(got)[:40]!r} != {expected[:40]!r}")
    found = [a.get("data") for a in m.get("assertions") or [] if a.get("label") == _LABEL]
    data = found[0] if found else None
    if data != {s["data_key"]: s["data_value"]}:
        out.append("assertion data differs")
    return out


class limited_data:
    """Lower this process's RLIMIT_DATA soft limit to ``mib`` while the block runs: worker
    processes forked inside inherit it, so a memory blow-up fails an allocation (an error
    or a crash the harness reports) instead of taking the machine."""

    def __init__(self, mib: int) -> None:
        self.mib = mib

    def __enter__(self) -> None:
        import resource

        self.saved = resource.getrlimit(resource.RLIMIT_DATA)
        soft = self.mib << 20
        if self.saved[0] != resource.RLIM_INFINITY:
            soft = min(soft, self.saved[0])
        resource.setrlimit(resource.RLIMIT_DATA, (soft, self.saved[1]))

    def __exit__(self, *exc: object) -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_DATA, self.saved)
