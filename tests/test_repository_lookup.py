"""The repository lookup's shortcuts change its cost, never its answer.

A vectorised vote prefilter (:func:`provenance.fingerprint.worth_comparing`) skips the
candidates that cannot match; these tests hold it to "provably": wherever it skips,
the full comparison gives no match and no near miss, and a lookup with it gives the
very same matches, rivals and near misses as one without it.
"""

from __future__ import annotations

import random
import sqlite3
from typing import Any

import numpy as np
import pytest

from provenance.fingerprint import (
    _SHIFTS,
    ALGORITHM_V2,
    SAMPLE_PERIOD,
    VideoFingerprint,
    compare_detail,
    stored_hashes,
    worth_comparing,
)
from provenance.repository import SCHEMA_VERSION, open_repository
from provenance.repository.protocol import (
    _best,
    _Row,
    _top_candidates,
    _top_entries,
    _Verified,
)

from .pg_server import (  # noqa: F401  (fixtures)
    postgres_server,
    postgres_url,
    repository_spec,
)


def _quantise(rows: np.ndarray) -> bytes:
    q = np.rint(rows / np.maximum(np.abs(rows).max(axis=1, keepdims=True), 1e-9) * 127)
    return bytes(np.clip(q, -127, 127).astype(np.int8).tobytes())


def _fp(rows: np.ndarray, zoomed: np.ndarray | None = None, first: int = 0) -> VideoFingerprint:
    """A v2 fingerprint with these descriptor rows (and zoomed rows), hashes derived as
    compute() derives them (through the stored form)."""
    n = len(rows)
    stamps = tuple((first + i) * SAMPLE_PERIOD for i in range(n))
    fp = VideoFingerprint(
        ALGORITHM_V2,
        (0,) * n,
        stamps,
        (first + n) * SAMPLE_PERIOD,
        _quantise(rows),
        _quantise(zoomed) if zoomed is not None else b"",
    )
    return VideoFingerprint.from_bytes(fp.to_bytes())


def _walk(g: np.random.Generator, samples: int, step: float) -> np.ndarray:
    profile = 1.0 / (1.0 + np.arange(64) % 32 / 6.0)
    steps = g.normal(size=(samples, 64)) * profile * step
    return np.asarray(g.normal(size=64) * profile + np.cumsum(steps, axis=0))


def _rows(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.int8).reshape(-1, 64).astype(np.float64)


def _copies(g: np.random.Generator, fp: VideoFingerprint) -> list[VideoFingerprint]:
    """What sharing does to a clip: noise, trims, a mirror, a crop, another speed."""
    rows = _rows(fp.descriptors)
    n = len(rows)
    noisy = rows + g.normal(size=rows.shape) * g.uniform(0.05, 0.6)
    mirror = noisy.copy()
    mirror[:, 32:] *= -1
    sped = noisy[np.clip(np.rint(np.arange(int(n / 1.1)) * 1.1).astype(int), 0, n - 1)]
    return [
        _fp(noisy),
        _fp(noisy[n // 4 :]),
        _fp(noisy[: max(1, n // 3)]),
        _fp(mirror),
        _fp(sped),
        _fp(_rows(fp.zoomed) + g.normal(size=rows.shape) * 0.2 if fp.zoomed else noisy),
    ]


def _library(seed: int, n: int) -> list[VideoFingerprint]:
    g = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        samples = int(g.integers(6, 90))
        rows = _walk(g, samples, float(g.choice([0.0, 0.02, 0.1, 0.3, 1.0])))
        zoomed = 0.7 * rows + 0.7 * _walk(g, samples, 0.1)
        out.append(_fp(rows, zoomed, first=int(g.integers(0, 3))))
    return out


def test_the_prefilter_skips_only_what_cannot_match_or_narrowly_miss() -> None:
    g = np.random.default_rng(1)
    stored = _library(2, 40)
    queries = []
    for fp in stored[:12]:
        queries += _copies(g, fp)
    queries += _library(3, 10)  # unrelated
    blobs = [fp.to_bytes() for fp in stored]
    hashes = [stored_hashes(fp) for fp in stored]
    skipped = kept = 0
    for q in queries:
        keeps = worth_comparing(q, blobs)
        assert worth_comparing(q, blobs, hashes) == keeps  # stored hashes: the same answer
        for fp, keep in zip(stored, keeps, strict=True):
            result = compare_detail(q, fp)
            if not keep:
                assert result == (None, None)
                skipped += 1
            else:
                kept += 1
            assert keep or result[0] is None
    assert skipped > kept  # most pairs are unrelated, and the prefilter sees it


def test_the_prefilter_leaves_what_it_does_not_read_to_the_full_path() -> None:
    q = _library(4, 1)[0]
    hashes_only = VideoFingerprint(ALGORITHM_V2, (1, 2), (0.0, 0.25), 0.5).to_bytes()
    assert worth_comparing(q, [b"", b"\0\xff", b"VPH2" + bytes(40), hashes_only]) == [True] * 4
    v1 = VideoFingerprint("org.provcheck.vphash.v1", (1,), (0.0,), 0.25)
    assert worth_comparing(v1, [q.to_bytes()]) == [True]
    assert worth_comparing(q, []) == []


@pytest.mark.parametrize("seed", [5, 6])
def test_a_prefiltered_lookup_gives_the_same_matches_rivals_and_near_misses(seed: int) -> None:
    g = np.random.default_rng(seed)
    stored = _library(seed + 10, 30)
    # Look-alikes of a few originals, so that there are rivals and near misses to count.
    for fp in stored[:6]:
        rows = _rows(fp.descriptors)
        stored.append(_fp(rows + g.normal(size=rows.shape) * 0.2))
    # Hashes as stored, not stored (an entry from schema 1), or of the wrong size.
    hashes = [stored_hashes(fp) for fp in stored]
    hashes[1], hashes[2] = None, b"\0" * 24
    rows_of: list[_Row] = [
        (i, ALGORITHM_V2, fp.to_bytes(), h)
        for i, (fp, h) in enumerate(zip(stored, hashes, strict=True))
    ]
    rows_of.append((len(rows_of), ALGORITHM_V2, b"\0\xff", None))  # corrupt: reported either way
    rng = random.Random(seed)
    queries = []
    for fp in rng.sample(stored, 8):
        queries += _copies(g, fp)
    matched = 0
    for q in queries + _library(seed + 20, 5):
        out = []
        for prefilter in (False, True):
            bad: list[int] = []
            seen = _Verified()
            found = _best(q, rows_of, 5, bad, seen, prefilter=prefilter)
            out.append((found, bad, sorted(seen.found), sorted(seen.near)))
        assert out[0] == out[1]
        matched += bool(out[0][0])
    assert matched >= len(queries) // 2


def test_postings_are_ranked_as_before() -> None:
    rng = random.Random(9)
    entries = np.array([rng.randrange(60) for _ in range(2000)], dtype=np.int64)
    shared: dict[int, int] = {}
    for e in entries.tolist():
        shared[e] = shared.get(e, 0) + 1
    for limit, least in ((1, 2), (5, 2), (20, 40), (10, 1000)):
        assert _top_entries(entries, limit, least) == _top_candidates(shared, limit, least)
    assert _top_entries(np.zeros(0, dtype=np.int64), 5) == []


# -- schema 1 (no stored hashes) stays readable ------------------------------------------


def _sql(spec: str, sql: str) -> list[tuple[Any, ...]]:
    """SQL on the store's tables behind its back: ``{entries}``, ``{meta}``."""
    if spec.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(spec, autocommit=True) as conn:
            text = sql.format(entries="provcheck_entries", meta="provcheck_meta")
            cur = conn.execute(text.encode())
            return cur.fetchall() if cur.description else []
    with sqlite3.connect(spec) as conn:
        return conn.execute(sql.format(entries="entries", meta="meta")).fetchall()


def test_a_schema_1_repository_is_migrated_and_answers_the_same(spec: str) -> None:
    stored = _library(30, 40)
    g = np.random.default_rng(31)
    queries = [q for fp in stored[:6] for q in _copies(g, fp)] + _library(32, 4)
    items = [(f"m{i}".encode(), fp, {"n": i}, None) for i, fp in enumerate(stored)]
    with open_repository(spec) as repo:
        repo.add_many(items[:30])
        before = [repo.search(q, limit=5) for q in queries]
    assert sum(1 for r in before if r.matches) >= len(queries) // 2
    # Back to schema 1 as 0.2 wrote it: no hashes column.
    _sql(spec, "ALTER TABLE {entries} DROP COLUMN hashes")
    _sql(spec, "UPDATE {meta} SET value = '1' WHERE key = 'schema'")
    with open_repository(spec) as repo:  # migrated on opening
        assert _sql(spec, "SELECT value FROM {meta} WHERE key = 'schema'") == [
            (str(SCHEMA_VERSION),)
        ]
        assert _sql(spec, "SELECT COUNT(*) FROM {entries} WHERE hashes IS NULL") == [(30,)]
        assert [repo.search(q, limit=5) for q in queries] == before
        repo.add_many(items[30:])  # new entries keep their hashes; old ones derive them
        assert _sql(spec, "SELECT COUNT(*) FROM {entries} WHERE hashes IS NULL") == [(30,)]
        after = [repo.search(q, limit=5) for q in queries]
    with open_repository(spec) as repo:
        assert [repo.scan(q, limit=5) for q in queries[:6]] == [list(r.matches) for r in after[:6]]


def test_index_keys_are_the_distinct_band_values_sorted() -> None:
    from provenance.fingerprint import query_hashes
    from provenance.repository import index_keys

    for fp in _library(40, 10):
        for query in (False, True):
            hashes = query_hashes(fp) if query else fp.hashes + fp.zoomed_hashes
            expected = sorted(
                {(b << 16) | ((h >> (16 * b)) & 0xFFFF) for h in hashes for b in range(4)}
            )
            got = index_keys(fp, query=query)
            assert got == expected and all(type(k) is int for k in got)
    assert index_keys(VideoFingerprint(ALGORITHM_V2, (), (), 0.0)) == []


def test_the_prefilter_keeps_a_copy_cropped_off_centre() -> None:
    """A query's shifted views are compared with the stored centres (an off-centre
    crop): the prefilter counts their votes too."""
    import dataclasses

    g = np.random.default_rng(5)
    stored = [fp for fp in _library(6, 12) if len(fp.hashes) >= 16]
    fp = stored[0]
    centre = _rows(fp.zoomed)
    own = _walk(g, len(centre), 0.3)  # the copy as a whole: like nothing stored
    views = np.stack([_walk(g, len(centre), 0.3) for _ in _SHIFTS], axis=1)
    views[:, 5] = centre + g.normal(size=centre.shape) * 0.2
    first = round(fp.timestamps[0] / SAMPLE_PERIOD)
    query = dataclasses.replace(
        _fp(own, first=first), shifted=_quantise(views.reshape(-1, views.shape[-1]))
    )
    match, _ = compare_detail(query, fp)
    assert match is not None and match.off_centre
    keeps = worth_comparing(query, [s.to_bytes() for s in stored])
    assert keeps[0]
    plain = dataclasses.replace(query, shifted=b"")
    assert compare_detail(plain, fp)[0] is None
