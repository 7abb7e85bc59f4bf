"""The manifest repository: one contract, held by every backend.

Each test marked with the ``spec`` fixture runs twice: against a SQLite file and
against a real PostgreSQL server started for the session (tests/pg_server.py).
"""

from __future__ import annotations

import math
import multiprocessing
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from provenance.errors import ProvenanceError
from provenance.fingerprint import (
    ALGORITHM,
    ALGORITHM_V2,
    SAMPLE_PERIOD,
    VideoFingerprint,
    compute,
    query_hashes,
)
from provenance.model import AIGeneration
from provenance.repository import (
    DEFAULT_FILENAME,
    SCHEMA_VERSION,
    ManifestStore,
    RepositoryError,
    SQLiteRepository,
    default_repository,
    default_repository_path,
    entry_id_for,
    index_keys,
    open_repository,
)

from .pg_server import postgres_server, postgres_url  # noqa: F401  (fixtures)
from .videogen import ClipSpec, cached_clip, cached_transform

SUMMARY = {
    "signer": {"common_name": "Test Signer (TEST ONLY)", "organization": "provcheck tests"},
    "ai_generated": "fully",
    "verdict": "trusted",
    "title": "Beach at dusk",
    "path": "gen.signed.mp4",
}


def _random_walk(rng: random.Random, samples: int = 32, step_bits: int = 8) -> VideoFingerprint:
    """A synthetic fingerprint shaped like a real one: each sample a few bits from the last."""
    h = rng.getrandbits(64)
    hashes = []
    for _ in range(samples):
        for bit in rng.sample(range(64), step_bits):
            h ^= 1 << bit
        hashes.append(h)
    stamps = tuple(i * SAMPLE_PERIOD for i in range(samples))
    return VideoFingerprint(ALGORITHM, tuple(hashes), stamps, samples * SAMPLE_PERIOD)


def _noisy(fp: VideoFingerprint, rng: random.Random, bits: int) -> VideoFingerprint:
    """The same fingerprint with ``bits`` random bits flipped in every sample."""
    hashes = []
    for h in fp.hashes:
        for bit in rng.sample(range(64), bits):
            h ^= 1 << bit
        hashes.append(h)
    return VideoFingerprint(fp.algorithm, tuple(hashes), fp.timestamps, fp.duration)


def _raw(spec: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run SQL on the backend's own connection, behind the repository's back (to forge
    rows). ``{entries}``, ``{hash_index}``, ``{meta}`` name its tables; ``?`` its params."""
    if spec.startswith("postgresql://"):
        import psycopg

        query = sql.format(
            entries="provcheck_entries", hash_index="provcheck_hash_index", meta="provcheck_meta"
        ).replace("?", "%s")
        with psycopg.connect(spec, autocommit=True) as conn:
            cur = conn.execute(query.encode(), params)
            return cur.fetchall() if cur.description else []
    query = sql.format(entries="entries", hash_index="hash_index", meta="meta")
    with sqlite3.connect(spec) as conn:
        return conn.execute(query, params).fetchall()


@pytest.fixture(params=["sqlite", "postgresql"])
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a fresh, empty repository lives, once per backend."""
    if request.param == "sqlite":
        return str(tmp_path / "repo" / DEFAULT_FILENAME)
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def repo(spec: str) -> Iterator[ManifestStore]:
    with open_repository(spec) as r:
        yield r


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "clips"


# -- storing ----------------------------------------------------------------------------


def test_add_get_list_remove(repo: ManifestStore) -> None:
    assert isinstance(repo, ManifestStore)
    fp = _random_walk(random.Random(1))
    entry = repo.add(b"manifest store bytes", fp, SUMMARY)
    assert entry.id == entry_id_for(b"manifest store bytes")
    assert entry.id.startswith("sha256:") and len(entry.id) == 7 + 64
    got = repo.get(entry.id)
    assert got == entry
    assert (got.manifest, got.fingerprint, dict(got.summary)) == (
        b"manifest store bytes",
        fp,
        SUMMARY,
    )
    assert (got.title, got.signer_name, got.ai_generated) == (
        "Beach at dusk",
        "Test Signer (TEST ONLY)",
        AIGeneration.FULLY,
    )
    (info,) = repo.list()
    assert (info.id, info.manifest_size, info.duration, info.problem) == (
        entry.id,
        20,
        fp.duration,
        None,
    )
    assert repo.remove(entry.id) is True
    assert repo.remove(entry.id) is False
    assert repo.get(entry.id) is None and len(repo) == 0
    assert repo.lookup(fp) == []
    assert _raw(repo.location, "SELECT COUNT(*) FROM {hash_index}") == [(0,)]


def test_add_is_idempotent_and_refuses_a_conflicting_manifest(repo: ManifestStore) -> None:
    fp = _random_walk(random.Random(2))
    first = repo.add(b"m", fp, SUMMARY)
    again = repo.add(b"m", fp, {"title": "ignored: the entry exists"})
    assert again == first and len(repo) == 1
    labelled = repo.add(b"m2", fp, entry_id="urn:c2pa:1234")
    assert repo.add(b"m2", fp, entry_id="urn:c2pa:1234") == labelled
    with pytest.raises(RepositoryError, match="different manifest"):
        repo.add(b"other bytes", fp, entry_id="urn:c2pa:1234")
    assert len(repo) == 2


def test_a_batch_keeps_its_order_and_its_duplicates_once(repo: ManifestStore) -> None:
    rng = random.Random(20)
    fps = [_random_walk(rng) for _ in range(5)]
    # Ids not in sorted order, and one twice: the list follows the input order.
    items = [(f"m{i}".encode(), fp, {"n": i}, f"id-{9 - i}") for i, fp in enumerate(fps)]
    entries = repo.add_many([*items, items[2]])
    assert [e.id for e in entries] == [f"id-{9 - i}" for i in range(5)] + ["id-7"]
    assert entries[5] == entries[2]
    assert [i.id for i in repo.list()] == [f"id-{9 - i}" for i in range(5)]
    assert [i.id for i in repo.list(limit=2, offset=1)] == ["id-8", "id-7"]
    with pytest.raises(RepositoryError, match="different manifest"):
        repo.add_many([(b"x", fps[0], None, "dup"), (b"y", fps[0], None, "dup")])
    assert len(repo) == 5


def test_a_failed_batch_leaves_nothing_behind(repo: ManifestStore) -> None:
    rng = random.Random(3)
    good = (b"a", _random_walk(rng), None, None)
    bad = (b"b", _random_walk(rng), {"when": object()}, None)
    with pytest.raises(RepositoryError, match="JSON"):
        repo.add_many([good, bad])
    with pytest.raises(RepositoryError, match="JSON"):
        repo.add(b"c", _random_walk(rng), {"x": math.nan})
    assert len(repo) == 0
    assert repo.lookup(good[1]) == []
    # Refused inside the database (the id conflicts with an earlier entry) rolls back too.
    repo.add(b"first", good[1], entry_id="taken")
    with pytest.raises(RepositoryError, match="different manifest"):
        repo.add_many([good, (b"second", good[1], None, "taken")])
    assert [i.id for i in repo.list()] == ["taken"]


def test_entries_persist_across_reopen(spec: str) -> None:
    fp = _random_walk(random.Random(4))
    with open_repository(spec) as repo:
        entry = repo.add(b"kept", fp, SUMMARY)
        assert repo.init() == SCHEMA_VERSION  # explicit init on a current schema: no change
    with open_repository(spec) as repo:
        assert repo.get(entry.id) == entry
        (found, match) = repo.lookup(_noisy(fp, random.Random(5), 3))[0]
        assert found.id == entry.id and match.offset == 0.0


# -- finding ----------------------------------------------------------------------------


def test_lookup_finds_a_re_encoded_copy_of_a_real_clip(repo: ManifestStore, clip_dir: Path) -> None:
    original = cached_clip(clip_dir, ClipSpec(seed=1))
    entry = repo.add(b"signed manifest of clip 1", compute(original), SUMMARY)
    for seed in (2, 3):
        repo.add(f"manifest {seed}".encode(), compute(cached_clip(clip_dir, ClipSpec(seed=seed))))
    for transform in ("re-encode CRF 32", "trim 1 s both ends"):
        copy = compute(cached_transform(clip_dir, original, transform))
        (found, match), *rest = repo.lookup(copy)
        assert found.id == entry.id and dict(found.summary) == SUMMARY and rest == []
        assert found.manifest == b"signed manifest of clip 1"
        assert match.similarity >= 0.9
    trimmed = compute(cached_transform(clip_dir, original, "trim 1 s both ends"))
    assert repo.lookup(trimmed)[0][1].offset == pytest.approx(1.0)  # query 0 s = stored 1 s
    unrelated = compute(cached_clip(clip_dir, ClipSpec(seed=4)))
    assert repo.lookup(unrelated) == []


def test_lookup_reads_the_index_not_every_entry(repo: ManifestStore) -> None:
    rng = random.Random(6)
    fps = [_random_walk(rng) for _ in range(400)]
    repo.add_many((f"m{i}".encode(), fp, {"n": i}, None) for i, fp in enumerate(fps))
    assert len(repo) == 400
    index_rows = sum(len(index_keys(fp)) for fp in fps)
    assert _raw(repo.location, "SELECT COUNT(*) FROM {hash_index}") == [(index_rows,)]
    for target in (0, 123, 399):
        query = _noisy(fps[target], rng, 4)
        result = repo.search(query, limit=5)
        assert [e.summary["n"] for e, _ in result.matches] == [target]
        # Only entries sharing at least two 16-bit bands with the query were compared
        # (a handful, of 400), and only the index rows of the query's bands were read.
        assert 1 <= result.candidates <= 10
        assert 0 < result.postings < index_rows / 100
        assert [e.id for e, _ in repo.scan(query)] == [e.id for e, _ in result.matches]
    assert repo.lookup(_random_walk(rng)) == []
    assert repo.lookup(fps[0], limit=0) == []


def test_both_backends_give_the_same_answers(tmp_path: Path, postgres_url: str) -> None:  # noqa: F811
    rng = random.Random(11)
    # Families of near-duplicates, so that lookups rank several candidates.
    fps = []
    for _ in range(60):
        base = _random_walk(rng, samples=rng.randint(12, 48))
        fps += [base, _noisy(base, rng, 2), _noisy(base, rng, 5)]
    items = [(f"m{i}".encode(), fp, {"n": i}, None) for i, fp in enumerate(fps)]
    queries = [_noisy(fp, rng, rng.randint(0, 6)) for fp in rng.sample(fps, 40)]
    queries += [_random_walk(rng) for _ in range(5)]
    answers = []
    for spec in (str(tmp_path / "r.sqlite3"), postgres_url):
        with open_repository(spec) as repo:
            for i in range(0, len(items), 50):
                repo.add_many(items[i : i + 50])
            answers.append(
                [
                    [
                        (e.id, round(m.similarity, 9), m.offset)
                        for e, m in repo.search(q, limit=3).matches
                    ]
                    + [repo.search(q, limit=3).candidates, repo.search(q, limit=3).postings]
                    for q in queries
                ]
            )
    assert answers[0] == answers[1]
    assert sum(1 for a in answers[0] if len(a) > 2) >= 40  # most queries found something


# -- believed as stored: malformed rows --------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "problem"),
    [
        ('{"ai_generated":"bogus","signer":"a string","title":7}', None),
        ("not JSON at all", "summary is not valid JSON"),
        ("[1, 2, 3]", "summary is not a JSON object"),
        ("null", "summary is not a JSON object"),
    ],
)
def test_a_malformed_summary_breaks_neither_list_nor_lookup(
    repo: ManifestStore, stored: str, problem: str | None
) -> None:
    fp = _random_walk(random.Random(12))
    entry = repo.add(b"m", fp, SUMMARY)
    _raw(repo.location, "UPDATE {entries} SET summary = ?", (stored,))
    (info,) = repo.list()
    assert (info.id, info.problem) == (entry.id, problem)
    ((found, _),) = repo.lookup(_noisy(fp, random.Random(13), 3))
    got = repo.get(entry.id)
    for e in (info, found, got):
        assert e is not None
        # Typed readings of whatever is stored: never an exception, never a wrong type.
        assert (e.title, e.signer_name, e.ai_generated) == (None, None, AIGeneration.UNKNOWN)
    assert found.manifest == b"m"


def test_a_corrupt_fingerprint_row_is_reported_and_skipped(repo: ManifestStore) -> None:
    rng = random.Random(8)
    fp = _random_walk(rng)
    bad = repo.add(b"bad", fp)
    good = repo.add(b"good", _noisy(fp, rng, 1))
    _raw(repo.location, "UPDATE {entries} SET fingerprint = ? WHERE id = ?", (b"\0\xff", bad.id))
    with pytest.raises(RepositoryError, match="corrupt"):
        repo.get(bad.id)
    infos = {i.id: i for i in repo.list()}
    assert infos[bad.id].problem is not None and "corrupt" in infos[bad.id].problem
    assert math.isnan(infos[bad.id].duration) and infos[good.id].problem is None
    # The corrupt row is still indexed under the old bands: the lookup skips it and says so.
    result = repo.search(fp)
    assert [e.id for e, _ in result.matches] == [good.id] and result.skipped == (bad.id,)
    assert repo.remove(bad.id) is True
    assert len(repo) == 1
    assert _raw(repo.location, "SELECT COUNT(*) FROM {hash_index}") == [
        (len(index_keys(good.fingerprint)),)
    ]


# -- failing clearly --------------------------------------------------------------------


def test_a_newer_schema_is_refused(spec: str) -> None:
    open_repository(spec).close()
    _raw(spec, "UPDATE {meta} SET value = '99' WHERE key = 'schema'")
    with pytest.raises(RepositoryError, match="schema 99 is not supported"):
        open_repository(spec)


def test_a_closed_repository(spec: str) -> None:
    repo = open_repository(spec)
    repo.close()
    with pytest.raises(RepositoryError, match="closed"):
        repo.get("x")


def test_a_file_that_is_not_a_repository(tmp_path: Path) -> None:
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(b"this is not SQLite\n" * 300)
    with pytest.raises(RepositoryError, match="corrupt"):
        open_repository(path)
    assert issubclass(RepositoryError, ProvenanceError)


def test_a_locked_sqlite_repository(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    with SQLiteRepository(path, timeout=0.1) as repo:
        entry = repo.add(b"m", _random_walk(random.Random(9)))
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process is writing
        try:
            with pytest.raises(RepositoryError, match="locked by another process"):
                repo.add(b"n", _random_walk(random.Random(10)))
            # Readers are not blocked (WAL), and opening an existing repository only reads.
            assert repo.get(entry.id) == entry
            with SQLiteRepository(path, timeout=0.1) as other:
                assert len(other) == 1
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        repo.add(b"n", _random_walk(random.Random(10)))
        assert len(repo) == 2
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_unreachable_postgres_server_is_a_clear_error() -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://alice:s3cret@127.0.0.1:{port}/provenance"
    with pytest.raises(RepositoryError, match=rf"postgresql://alice@127.0.0.1:{port}/provenance"):
        open_repository(url)
    with pytest.raises(RepositoryError) as info:
        open_repository(url)
    assert "s3cret" not in str(info.value)


# -- the factory ------------------------------------------------------------------------


def test_open_repository_from_a_path_or_a_url(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    postgres_url: str,  # noqa: F811
) -> None:
    monkeypatch.chdir(tmp_path)
    for spec, where in [
        (tmp_path / "a.sqlite3", tmp_path / "a.sqlite3"),
        (str(tmp_path / "b.sqlite3"), tmp_path / "b.sqlite3"),
        ("c.sqlite3", tmp_path / "c.sqlite3"),
        ("sqlite:///rel/d.sqlite3", tmp_path / "rel" / "d.sqlite3"),
        (f"sqlite:///{tmp_path}/e%20f.sqlite3", tmp_path / "e f.sqlite3"),
    ]:
        with open_repository(spec) as repo:
            assert isinstance(repo, SQLiteRepository) and repo.path.resolve() == where
        assert where.is_file()
    with open_repository(postgres_url) as repo:
        from provenance.repository import PostgresRepository

        assert isinstance(repo, PostgresRepository) and repo.location == postgres_url
    with open_repository(postgres_url.replace("postgresql://", "postgres://")) as repo:
        assert isinstance(repo, ManifestStore)
    for bad, message in [
        ("mysql://db/x", r"mysql://\.\.\.: not a supported repository"),
        ("", "empty"),
        ("sqlite://host/x", "sqlite:///relative/path"),
        ("sqlite:///", "names no file"),
    ]:
        with pytest.raises(RepositoryError, match=message):
            open_repository(bad)


def test_the_default_repository_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVCHECK_DATA_DIR", str(tmp_path / "data"))
    assert default_repository_path() == tmp_path / "data" / DEFAULT_FILENAME
    for opened in (default_repository(), open_repository(None)):
        with opened as repo:
            assert repo.location == str(tmp_path / "data" / DEFAULT_FILENAME)
    assert (tmp_path / "data" / DEFAULT_FILENAME).is_file()
    monkeypatch.delenv("PROVCHECK_DATA_DIR")
    assert default_repository_path().parts[-2:] == ("provcheck", DEFAULT_FILENAME)


# -- many writers at once ---------------------------------------------------------------

WORKERS, SHARED, OWN, BATCH = 4, 60, 30, 4


def _fingerprint(i: int) -> VideoFingerprint:
    return _random_walk(random.Random(1000 + i))


def _register(spec: str, worker: int, go: Any) -> None:
    """One registering process: every shared entry (in its own order) and its own ones."""
    rng = random.Random(worker)
    mine = [*range(SHARED), *range(SHARED + worker * OWN, SHARED + (worker + 1) * OWN)]
    rng.shuffle(mine)
    items = [(f"m{i}".encode(), _fingerprint(i), {"n": i}, None) for i in mine]
    go.wait(60)
    with open_repository(spec) as repo:  # opening at once: the schema is created once
        for k in range(0, len(items), BATCH):
            repo.add_many(items[k : k + BATCH])


def test_many_processes_register_at_once(spec: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    procs = [ctx.Process(target=_register, args=(spec, w, go)) for w in range(WORKERS)]
    for p in procs:
        p.start()
    go.set()
    for p in procs:
        p.join(240)
    assert [p.exitcode for p in procs] == [0] * WORKERS
    expected = {entry_id_for(f"m{i}".encode()): i for i in range(SHARED + WORKERS * OWN)}
    with open_repository(spec) as repo:
        ids = [info.id for info in repo.list()]
        assert len(ids) == len(repo) == len(expected)  # nothing lost, nothing twice
        assert set(ids) == set(expected)
        postings = sum(len(index_keys(_fingerprint(i))) for i in expected.values())
        assert _raw(spec, "SELECT COUNT(*) FROM {hash_index}") == [(postings,)]
        for i in (0, SHARED - 1, SHARED + 7, SHARED + WORKERS * OWN - 1):
            ((found, _),) = repo.lookup(_noisy(_fingerprint(i), random.Random(i), 2))
            assert found.summary == {"n": i}


# -- rival originals: when two stored clips look the same, none is named ----------------


def _v2_from(rows: np.ndarray) -> VideoFingerprint:
    """A v2 fingerprint with these descriptor rows; hashes derived as compute() does."""
    q = np.clip(np.rint(rows / np.abs(rows).max(axis=1, keepdims=True) * 127), -127, 127)
    n = len(rows)
    stamps = tuple(i * SAMPLE_PERIOD for i in range(n))
    fp = VideoFingerprint(
        ALGORITHM_V2, (0,) * n, stamps, n * SAMPLE_PERIOD, q.astype(np.int8).tobytes()
    )
    return VideoFingerprint.from_bytes(fp.to_bytes())


def _walk(seed: int, samples: int = 32) -> np.ndarray:
    g = np.random.default_rng(seed)
    steps = g.normal(size=(samples, 64)) * 0.3
    return np.asarray(g.normal(size=64) + np.cumsum(steps, axis=0))


def _jitter(rows: np.ndarray, seed: int, amount: float) -> np.ndarray:
    return np.asarray(rows + np.random.default_rng(seed).normal(size=rows.shape) * amount)


def test_originals_that_look_the_same_are_rivals_and_none_is_named(repo: ManifestStore) -> None:
    """Two segments of an unchanging scene: a copy matches both about as closely, so the
    best match says it has a rival (and softbinding.recover names neither)."""
    scene = _walk(1)
    repo.add(b"segment A", _v2_from(scene), {"n": "A"})
    repo.add(b"segment B", _v2_from(_jitter(scene, 2, 0.05)), {"n": "B"})
    repo.add(b"elsewhere", _v2_from(_walk(3)), {"n": "C"})
    found = repo.lookup(_v2_from(_jitter(scene, 4, 0.4)), limit=5)
    assert {e.summary["n"] for e, _ in found} == {"A", "B"}
    best = found[0][1]
    assert best.ambiguous and best.rivals == 1
    assert "none is named" in best.explain()


def test_a_clearly_closer_original_is_named(repo: ManifestStore) -> None:
    """The copy is much closer to one of two similar originals: that one is named."""
    scene = _walk(5)
    repo.add(b"the original", _v2_from(scene), {"n": "A"})
    repo.add(b"a remake", _v2_from(_jitter(scene, 6, 1.2)), {"n": "B"})
    found = repo.lookup(_v2_from(_jitter(scene, 7, 0.1)), limit=5)
    assert found and found[0][0].summary["n"] == "A"
    assert not found[0][1].ambiguous
    assert all(m.closeness <= found[0][1].closeness for _, m in found)


def test_originals_matching_other_parts_of_a_copy_are_no_rivals() -> None:
    """A compilation of two originals matches both, each in its own part: no rivals."""
    from provenance.fingerprint import Match, mark_rivals

    def m(a0: float, a1: float, closeness: float) -> Match:
        return Match(1.0, 0.9, a0, a1, 0.0, a1 - a0, -a0, 20, 10, closeness=closeness)

    apart = mark_rivals([("x", m(0, 5, 0.99)), ("y", m(5, 10, 0.99))])
    assert not apart[0][1].ambiguous
    same = mark_rivals([("x", m(0, 5, 0.99)), ("y", m(0, 5, 0.985))])
    assert same[0][1].rivals == 1
    far = mark_rivals([("x", m(0, 5, 0.99)), ("y", m(0, 5, 0.9))])
    assert not far[0][1].ambiguous


def test_a_query_is_looked_up_by_its_mirror_image_too() -> None:
    """index_keys(query=True) adds the mirror's keys (v2: the odd half inverted)."""
    fp = _v2_from(_walk(8))
    plain, both = set(index_keys(fp)), set(index_keys(fp, query=True))
    n = len(fp.hashes)
    mirror = VideoFingerprint(ALGORITHM_V2, query_hashes(fp)[n : 2 * n], fp.timestamps, 1)
    assert plain < both and set(index_keys(mirror)) <= both
