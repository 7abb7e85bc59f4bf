"""The repository seam: what every backend stores and answers, and the shared index maths.

A backend is one class satisfying :class:`ManifestStore`; nothing outside
:mod:`provenance.repository` knows which one it talks to.
"""

from __future__ import annotations

import builtins
import hashlib
import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sized
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self, TypeAlias, runtime_checkable

from ..errors import ProvenanceError
from ..fingerprint import (
    FingerprintError,
    Match,
    VideoFingerprint,
    compare_detail,
    mark_rivals,
    query_hashes,
    rank_key,
    stored_hashes,
    worth_comparing,
)
from ..model import AIGeneration

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "BANDS",
    "JSONValue",
    "MAX_CANDIDATES",
    "MIN_SHARED",
    "SCHEMA_VERSION",
    "Entry",
    "EntryInfo",
    "LookupResult",
    "ManifestStore",
    "NewEntry",
    "RepositoryError",
    "Summary",
    "entry_id_for",
    "index_keys",
]

SCHEMA_VERSION = 2  # the layout every backend writes; older layouts are migrated
# 2: entries keep their fingerprint's hashes (fingerprint.stored_hashes) for the prefilter
BANDS = 4  # 16-bit substrings per 64-bit sample hash
MAX_CANDIDATES = 32  # entries verified per lookup (4 x limit when that is more)
MIN_SHARED = 2  # index keys an entry must share with the query to be verified

JSONValue: TypeAlias = (
    str | int | float | bool | builtins.list["JSONValue"] | dict[str, "JSONValue"] | None
)
Summary: TypeAlias = Mapping[str, JSONValue]
# (manifest, fingerprint, summary, entry id or None for the default)
NewEntry: TypeAlias = tuple[bytes, VideoFingerprint, Mapping[str, object] | None, str | None]


class RepositoryError(ProvenanceError):
    """The manifest repository cannot be opened, read or written."""


class _SummaryView:
    """Typed, never-failing readings of a stored summary.

    The summary is data someone could have edited in the database: each accessor
    returns a well-typed value or None/unknown, whatever the row holds.
    """

    summary: Summary

    @property
    def title(self) -> str | None:
        value = self.summary.get("title")
        return value if isinstance(value, str) else None

    @property
    def signer_name(self) -> str | None:
        signer = self.summary.get("signer")
        if isinstance(signer, dict):
            for key in ("common_name", "organization"):
                value = signer.get(key)
                if isinstance(value, str) and value:
                    return value
        return None

    @property
    def ai_generated(self) -> AIGeneration:
        value = self.summary.get("ai_generated")
        try:
            return AIGeneration(value) if isinstance(value, str) else AIGeneration.UNKNOWN
        except ValueError:
            return AIGeneration.UNKNOWN


@dataclass(frozen=True)
class Entry(_SummaryView):
    """One signed asset in the repository."""

    id: str
    manifest: bytes  # the signed C2PA manifest store, opaque here
    fingerprint: VideoFingerprint
    summary: Summary = field(default_factory=dict)  # signer, AI label, verdict ... as stored
    added: float = 0.0  # Unix time


@dataclass(frozen=True)
class EntryInfo(_SummaryView):
    """What :meth:`ManifestStore.list` gives per entry: no manifest bytes.

    ``problem`` says what is wrong with a malformed row (listed, never fatal);
    its ``duration`` is then NaN if the fingerprint could not be read.
    """

    id: str
    summary: Summary
    added: float
    duration: float
    manifest_size: int
    problem: str | None = None


@dataclass(frozen=True)
class LookupResult:
    """The matches of a lookup and how much of the store it had to touch."""

    matches: tuple[tuple[Entry, Match], ...]
    candidates: int  # entries the index search chose (all of them prefiltered)
    postings: int  # index rows read
    skipped: tuple[str, ...] = ()  # ids of candidates whose stored fingerprint is corrupt
    compared: int = 0  # candidates compared in full (the others provably could not match)


@runtime_checkable
class ManifestStore(Protocol):
    """Where signed manifests and their fingerprints are kept.

    Every backend gives the same answers for the same contents (a shared contract
    test holds them to it). One instance is one connection: use it from one thread.
    """

    @property
    def location(self) -> str:
        """Where the store lives, for messages (a path or a URL without a password)."""
        ...

    def init(self) -> int:
        """Create or migrate the schema (also done on first use); the schema version."""
        ...

    def add(
        self,
        manifest: bytes,
        fingerprint: VideoFingerprint,
        summary: Mapping[str, object] | None = None,
        *,
        entry_id: str | None = None,
    ) -> Entry:
        """Store a signed manifest with its asset's fingerprint; returns the entry.

        ``entry_id`` defaults to :func:`entry_id_for` the manifest bytes. Adding the
        same id with the same manifest again changes nothing and returns the stored
        entry; the same id with other manifest bytes is refused.
        """
        ...

    def add_many(self, items: Iterable[NewEntry]) -> builtins.list[Entry]:
        """:meth:`add` for many (manifest, fingerprint, summary, id) at once: one transaction."""
        ...

    def get(self, entry_id: str) -> Entry | None: ...

    def lookup(
        self, fingerprint: VideoFingerprint, limit: int = 10
    ) -> builtins.list[tuple[Entry, Match]]:
        """Entries whose fingerprint matches, best first (at most ``limit``).

        In each :class:`Match`, ``a`` is the query and ``b`` the stored clip.
        """
        ...

    def search(self, fingerprint: VideoFingerprint, limit: int = 10) -> LookupResult:
        """:meth:`lookup`, with how many index rows and candidates it touched."""
        ...

    def scan(
        self, fingerprint: VideoFingerprint, limit: int = 10
    ) -> builtins.list[tuple[Entry, Match]]:
        """Compare against every entry, ignoring the index: the O(entries) reference."""
        ...

    def list(self, limit: int | None = None, offset: int = 0) -> builtins.list[EntryInfo]:
        """Entries in the order they were added, without their manifest bytes."""
        ...

    def remove(self, entry_id: str) -> bool:
        """Delete an entry and its index rows; False if there was none."""
        ...

    def close(self) -> None: ...

    def __len__(self) -> int: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class _StoreBase:
    """What every store does the same way: a context manager that closes it, ``lookup``
    as the matches of ``search``, and the schema-version check."""

    @property
    def location(self) -> str:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def _check_supported(self, version: int | None) -> None:
        """Refuse a schema this provcheck cannot read (a newer one, or garbage)."""
        if version is not None and not 1 <= version <= SCHEMA_VERSION:
            raise RepositoryError(
                f"{self.location}: repository schema {version} is not supported "
                f"(this provcheck reads schema {SCHEMA_VERSION})"
            )

    def search(self, fingerprint: VideoFingerprint, limit: int = 10) -> LookupResult:
        raise NotImplementedError

    def lookup(
        self, fingerprint: VideoFingerprint, limit: int = 10
    ) -> builtins.list[tuple[Entry, Match]]:
        """Entries whose fingerprint matches, best first (at most ``limit``).

        In each :class:`Match`, ``a`` is the query and ``b`` the stored clip.
        """
        return builtins.list(self.search(fingerprint, limit).matches)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def entry_id_for(manifest: bytes) -> str:
    """The default entry id: ``sha256:`` and the hex SHA-256 of the manifest bytes."""
    return "sha256:" + hashlib.sha256(manifest).hexdigest()


def index_keys(fingerprint: VideoFingerprint, *, query: bool = False) -> builtins.list[int]:
    """The distinct (band, 16-bit value) keys of a fingerprint's samples, sorted.

    Multi-index hashing: two 64-bit hashes within three bits of each other share at
    least one of their four 16-bit bands exactly (pigeonhole). A ``query`` also looks
    up the keys of its mirror image (:func:`~provenance.fingerprint.query_hashes`), so
    a mirrored copy finds its original through every band, not only the two that a
    mirror leaves alone.
    """
    import numpy as np

    # A stored v2 entry is also indexed by its zoomed hashes, so cropped copies find it.
    hashes = query_hashes(fingerprint) if query else fingerprint.hashes + fingerprint.zoomed_hashes
    h = np.array(hashes, dtype=np.uint64)
    bands = np.arange(BANDS, dtype=np.uint64)
    keys = (bands << np.uint64(16)) | ((h[:, None] >> (np.uint64(16) * bands)) & np.uint64(0xFFFF))
    return list(np.unique(keys).tolist())


# -- shared by the backends -------------------------------------------------------------


def _neighbour_share(keys: Sized) -> int:
    """Keys a look-alike of a matched original shares with it at least: an eighth of
    them (near-identical clips share most; chance, a handful)."""
    return max(MIN_SHARED, len(keys) // 8)


def _neighbour_keys(blob: bytes) -> builtins.list[int]:
    """The index keys of a stored fingerprint (its bytes): a second search with them
    finds the originals that look like it, the rivals a copy's own keys may miss."""
    try:
        return index_keys(VideoFingerprint.from_bytes(bytes(blob)))
    except FingerprintError:
        return []


@dataclass(frozen=True)
class _Prepared:
    """A new entry checked and encoded, ready for any backend's INSERT."""

    id: str
    manifest: bytes
    fingerprint: VideoFingerprint
    blob: bytes
    summary_json: str
    keys: tuple[int, ...]
    hashes: bytes | None  # fingerprint.stored_hashes(): the prefilter need not derive them


def _prepare(
    manifest: object,
    fingerprint: VideoFingerprint,
    summary: Mapping[str, object] | None,
    entry_id: str | None,
) -> _Prepared:
    if not isinstance(manifest, bytes | bytearray | memoryview):
        raise RepositoryError("a manifest must be bytes")
    data = bytes(manifest)
    eid = entry_id or entry_id_for(data)
    try:
        # allow_nan=False: NaN is not JSON, and PostgreSQL's jsonb would refuse it later.
        summary_json = json.dumps(
            dict(summary or {}), sort_keys=True, ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise RepositoryError(f"entry {eid}: summary is not JSON-serialisable: {exc}") from exc
    try:
        blob = fingerprint.to_bytes()
    except FingerprintError as exc:
        raise RepositoryError(f"entry {eid}: {exc}") from exc
    return _Prepared(
        eid,
        data,
        fingerprint,
        blob,
        summary_json,
        tuple(index_keys(fingerprint)),
        stored_hashes(fingerprint),
    )


def _decode_summary(text: object) -> tuple[Summary, str | None]:
    """A stored summary as a mapping, and what is wrong with it (None if nothing).

    A row edited by hand may hold anything; it reads as an empty summary, never an error.
    """
    if isinstance(text, bytes | bytearray | memoryview):
        text = bytes(text).decode("utf-8", "replace")
    if not isinstance(text, str):
        return {}, "summary is not text"
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return {}, "summary is not valid JSON"
    if not isinstance(value, dict):
        return {}, "summary is not a JSON object"
    return value, None


def _info(
    eid: str, summary_text: object, added: float, blob: bytes, manifest_size: int
) -> EntryInfo:
    summary, problem = _decode_summary(summary_text)
    try:
        duration = VideoFingerprint.from_bytes(blob).duration
    except FingerprintError as exc:
        duration, problem = math.nan, f"stored fingerprint is corrupt ({exc})"
    return EntryInfo(eid, summary, float(added), duration, int(manifest_size), problem)


def _new_entry(p: _Prepared, added: float) -> Entry:
    """The entry just stored from ``p`` (as :func:`_entry` would read it back)."""
    summary, _ = _decode_summary(p.summary_json)
    return Entry(p.id, p.manifest, p.fingerprint, summary, added)


def _entry(eid: str, manifest: bytes, blob: bytes, summary_text: object, added: float) -> Entry:
    """A stored row as an :class:`Entry`; raises FingerprintError on a corrupt fingerprint."""
    summary, _ = _decode_summary(summary_text)
    return Entry(eid, bytes(manifest), VideoFingerprint.from_bytes(blob), summary, float(added))


def _top_candidates(
    shared: Mapping[int, int], limit: int, least: int = MIN_SHARED
) -> builtins.list[int]:
    """The entries (row numbers) sharing the most index keys (at least ``least``) with
    the query, best first.

    Chance gives an unrelated entry one shared band, a copy dozens. Ties go to the
    older entry, so that every backend picks the same candidates.
    """
    ranked = sorted(
        ((-n, row) for row, n in shared.items() if n >= least),
    )
    return [row for _, row in ranked[: _candidate_count(limit)]]


def _top_entries(
    entries: npt.NDArray[np.int64], limit: int, least: int = MIN_SHARED
) -> builtins.list[int]:
    """:func:`_top_candidates` from the postings themselves: one entry (row number)
    per index row read, counted with NumPy."""
    import numpy as np

    rows, shared = np.unique(entries, return_counts=True)
    keep = shared >= least
    rows, shared = rows[keep], shared[keep]
    order = np.lexsort((rows, -shared))[: _candidate_count(limit)]  # most shared, then oldest
    return [int(r) for r in rows[order]]


def _candidate_count(limit: int) -> int:
    return max(MAX_CANDIDATES, 4 * limit)


@dataclass
class _Verified:
    """The candidates compared with a query so far: matches and near misses."""

    found: builtins.list[tuple[int, Match]] = field(default_factory=builtins.list)
    near: builtins.list[tuple[float, float, float]] = field(default_factory=builtins.list)
    compared: int = 0  # fingerprints compared in full


# A candidate as the backends read it: (row number, algorithm, fingerprint bytes, the
# stored hashes or None).
_Row: TypeAlias = tuple[int, str, bytes, bytes | None]


def _best(
    fingerprint: VideoFingerprint,
    rows: Iterable[_Row],
    limit: int,
    skipped: builtins.list[int] | None = None,
    verified: _Verified | None = None,
    *,
    prefilter: bool = True,
) -> builtins.list[tuple[int, Match]]:
    """Compare ``(row, algorithm, fingerprint, hashes)`` rows with the query: the best ``limit``
    as (row, match), closest first; rows with a corrupt fingerprint go to ``skipped``.
    The best match counts its rivals (:func:`~provenance.fingerprint.mark_rivals`):
    originals that match as closely, or narrowly miss, so that none of them is named.
    ``verified`` carries earlier comparisons of the same query (a second search).
    ``prefilter`` skips, in one vectorised pass, the rows that provably neither match
    nor narrowly miss (:func:`~provenance.fingerprint.worth_comparing`): the result is
    the same, only cheaper; the brute-force ``scan`` references compare everything."""
    seen = verified if verified is not None else _Verified()
    rows = (r for r in rows if r[1] == fingerprint.algorithm)  # a scan streams: never a list
    if prefilter:
        # Candidates that provably neither match nor narrowly miss change nothing.
        chosen = builtins.list(rows)
        keep = worth_comparing(fingerprint, [r[2] for r in chosen], [r[3] for r in chosen])
        rows = itertools.compress(chosen, keep)
    for row, _, blob, _ in rows:
        try:
            stored = VideoFingerprint.from_bytes(bytes(blob))
        except FingerprintError:
            if skipped is not None:
                skipped.append(row)
            continue
        seen.compared += 1
        match, close = compare_detail(fingerprint, stored)
        if match is not None:
            seen.found.append((row, match))
        elif close is not None:
            seen.near.append(close)
    found = sorted(seen.found, key=lambda f: (*rank_key(f[1]), f[0]))
    return mark_rivals(found, seen.near)[:limit]
