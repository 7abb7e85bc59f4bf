"""The local manifest repository: storing, finding by fingerprint, failing clearly."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance.errors import ProvenanceError
from provenance.fingerprint import ALGORITHM, SAMPLE_PERIOD, VideoFingerprint, compute
from provenance.repository import (
    DEFAULT_FILENAME,
    ManifestStore,
    RepositoryError,
    SQLiteRepository,
    default_repository_path,
    entry_id_for,
    index_keys,
)

from .videogen import ClipSpec, cached_clip, cached_transform

SUMMARY = {
    "signer": "Test Signer (TEST ONLY)",
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


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[SQLiteRepository]:
    with SQLiteRepository(tmp_path / "repo" / DEFAULT_FILENAME) as r:
        yield r


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "clips"


# -- storing ----------------------------------------------------------------------------


def test_add_get_list_remove(repo: SQLiteRepository) -> None:
    assert isinstance(repo, ManifestStore)
    fp = _random_walk(random.Random(1))
    entry = repo.add(b"manifest store bytes", fp, SUMMARY)
    assert entry.id == entry_id_for(b"manifest store bytes")
    assert entry.id.startswith("sha256:") and len(entry.id) == 7 + 64
    got = repo.get(entry.id)
    assert got is not None
    assert (got.manifest, got.fingerprint, dict(got.summary)) == (
        b"manifest store bytes",
        fp,
        SUMMARY,
    )
    (info,) = repo.list()
    assert (info.id, info.manifest_size, info.duration) == (entry.id, 20, fp.duration)
    assert repo.remove(entry.id) is True
    assert repo.remove(entry.id) is False
    assert repo.get(entry.id) is None and len(repo) == 0
    assert repo.lookup(fp) == []


def test_add_is_idempotent_and_refuses_a_conflicting_manifest(repo: SQLiteRepository) -> None:
    fp = _random_walk(random.Random(2))
    first = repo.add(b"m", fp, SUMMARY)
    again = repo.add(b"m", fp, {"title": "ignored: the entry exists"})
    assert again == first and len(repo) == 1
    labelled = repo.add(b"m2", fp, entry_id="urn:c2pa:1234")
    assert repo.add(b"m2", fp, entry_id="urn:c2pa:1234") == labelled
    with pytest.raises(RepositoryError, match="different manifest"):
        repo.add(b"other bytes", fp, entry_id="urn:c2pa:1234")
    assert len(repo) == 2


def test_a_failed_batch_leaves_nothing_behind(repo: SQLiteRepository) -> None:
    rng = random.Random(3)
    good = (b"a", _random_walk(rng), None, None)
    bad = (b"b", _random_walk(rng), {"when": object()}, None)
    with pytest.raises(RepositoryError, match="JSON"):
        repo.add_many([good, bad])
    assert len(repo) == 0
    assert repo.lookup(good[1]) == []


def test_entries_persist_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    fp = _random_walk(random.Random(4))
    with SQLiteRepository(path) as repo:
        entry = repo.add(b"kept", fp, SUMMARY)
    with SQLiteRepository(path) as repo:
        assert repo.get(entry.id) == entry
        (found, match) = repo.lookup(_noisy(fp, random.Random(5), 3))[0]
        assert found.id == entry.id and match.offset == 0.0
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_default_path_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVCHECK_DATA_DIR", str(tmp_path / "data"))
    assert default_repository_path() == tmp_path / "data" / DEFAULT_FILENAME
    with SQLiteRepository() as repo:
        assert repo.path == tmp_path / "data" / DEFAULT_FILENAME
    assert (tmp_path / "data" / DEFAULT_FILENAME).is_file()
    monkeypatch.delenv("PROVCHECK_DATA_DIR")
    assert default_repository_path().parts[-2:] == ("provcheck", DEFAULT_FILENAME)


# -- finding ----------------------------------------------------------------------------


def test_lookup_finds_a_re_encoded_copy_of_a_real_clip(
    repo: SQLiteRepository, clip_dir: Path
) -> None:
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


def test_lookup_reads_the_index_not_every_entry(repo: SQLiteRepository) -> None:
    rng = random.Random(6)
    fps = [_random_walk(rng) for _ in range(400)]
    repo.add_many((f"m{i}".encode(), fp, {"n": i}, None) for i, fp in enumerate(fps))
    assert len(repo) == 400
    index_rows = sum(len(index_keys(fp)) for fp in fps)
    for target in (0, 123, 399):
        query = _noisy(fps[target], rng, 4)
        result = repo.search(query, limit=5)
        assert [e.summary["n"] for e, _ in result.matches] == [target]
        # Only entries sharing at least two 16-bit bands with the query were compared
        # (a handful, of 400), and only the index rows of the query's bands were read.
        assert 1 <= result.candidates <= 10
        assert result.postings < index_rows / 100
        assert [e.id for e, _ in repo.scan(query)] == [e.id for e, _ in result.matches]
    assert repo.lookup(_random_walk(rng)) == []


def test_removed_entries_leave_the_index(repo: SQLiteRepository) -> None:
    fp = _random_walk(random.Random(7))
    entry = repo.add(b"x", fp)
    repo.remove(entry.id)
    with sqlite3.connect(repo.path) as raw:
        assert raw.execute("SELECT COUNT(*) FROM hash_index").fetchone()[0] == 0


# -- failing clearly --------------------------------------------------------------------


def test_a_file_that_is_not_a_repository(tmp_path: Path) -> None:
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(b"this is not SQLite\n" * 300)
    with pytest.raises(RepositoryError, match="corrupt"):
        SQLiteRepository(path)
    assert issubclass(RepositoryError, ProvenanceError)


def test_a_corrupt_fingerprint_row_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    with SQLiteRepository(path) as repo:
        entry = repo.add(b"m", _random_walk(random.Random(8)))
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE entries SET fingerprint = x'00ff'")
    with SQLiteRepository(path) as repo, pytest.raises(RepositoryError, match="corrupt"):
        repo.get(entry.id)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    SQLiteRepository(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(RepositoryError, match="schema 99"):
        SQLiteRepository(path)


def test_a_locked_repository(tmp_path: Path) -> None:
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


def test_a_closed_repository(tmp_path: Path) -> None:
    repo = SQLiteRepository(tmp_path / "r.sqlite3")
    repo.close()
    with pytest.raises(RepositoryError, match="closed"):
        repo.get("x")
