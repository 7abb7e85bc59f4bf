"""A local manifest repository: find a clip's signed manifest again by what it looks like.

A shared clip usually loses its embedded manifest (platforms strip metadata and
re-encode). The repository keeps, per signed asset, the manifest store bytes, the
clip's perceptual fingerprint (:mod:`provenance.fingerprint`) and a small JSON
summary, so that a stripped copy can be matched back to its manifest: the C2PA
*soft binding* idea, kept on the user's machine.

:class:`ManifestStore` is the storage interface; :class:`SQLiteRepository` implements
it in one SQLite file (WAL journal, every write one transaction).

Lookups never scan the whole store. Multi-index hashing: each 64-bit sample hash is
cut into four 16-bit bands and every (band, value) pair is indexed. Two hashes within
three bits of each other share at least one band exactly (pigeonhole), and a clip
has dozens of samples, so a transformed copy still shares many bands with its
original while an unrelated entry shares few. The entries sharing the most bands
with the query are the only candidates, and :func:`provenance.fingerprint.compare`
verifies each of them.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .errors import ProvenanceError
from .fingerprint import FingerprintError, Match, VideoFingerprint, compare

__all__ = [
    "DEFAULT_FILENAME",
    "Entry",
    "EntryInfo",
    "LookupResult",
    "ManifestStore",
    "RepositoryError",
    "SQLiteRepository",
    "default_repository_path",
    "entry_id_for",
    "index_keys",
]

DEFAULT_FILENAME = "manifests.sqlite3"
SCHEMA_VERSION = "1"
BANDS = 4  # 16-bit substrings per 64-bit sample hash
MAX_CANDIDATES = 32  # entries verified per lookup (4 x limit when that is more)
MIN_SHARED = 2  # index keys an entry must share with the query to be verified
_ROWID_MASK = (1 << 40) - 1
_CHUNK = 500  # SQL parameters per IN (...) query, well under SQLite's limit

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS entries (
        rowid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        manifest BLOB NOT NULL,
        algorithm TEXT NOT NULL,
        fingerprint BLOB NOT NULL,
        summary TEXT NOT NULL,
        added REAL NOT NULL
    )""",
    # key = band << 16 | the band's 16 bits. (key, entry) is the primary key of a
    # WITHOUT ROWID table: a key's postings are one range of one B-tree.
    """CREATE TABLE IF NOT EXISTS hash_index (
        key INTEGER NOT NULL,
        entry INTEGER NOT NULL,
        PRIMARY KEY (key, entry)
    ) WITHOUT ROWID""",
)


class RepositoryError(ProvenanceError):
    """The manifest repository cannot be opened, read or written."""


@dataclass(frozen=True)
class Entry:
    """One signed asset in the repository."""

    id: str
    manifest: bytes  # the signed C2PA manifest store, opaque here
    fingerprint: VideoFingerprint
    summary: Mapping[str, Any] = field(default_factory=dict)  # signer, AI label, verdict ...
    added: float = 0.0  # Unix time


@dataclass(frozen=True)
class EntryInfo:
    """What :meth:`ManifestStore.list` gives per entry: no manifest bytes."""

    id: str
    summary: Mapping[str, Any]
    added: float
    duration: float
    manifest_size: int


@dataclass(frozen=True)
class LookupResult:
    """The matches of a lookup and how much of the store it had to touch."""

    matches: tuple[tuple[Entry, Match], ...]
    candidates: int  # entries whose fingerprints were compared
    postings: int  # index rows read


@runtime_checkable
class ManifestStore(Protocol):
    """Where signed manifests and their fingerprints are kept."""

    def add(
        self,
        manifest: bytes,
        fingerprint: VideoFingerprint,
        summary: Mapping[str, Any] | None = None,
        *,
        entry_id: str | None = None,
    ) -> Entry: ...

    def get(self, entry_id: str) -> Entry | None: ...

    def lookup(
        self, fingerprint: VideoFingerprint, limit: int = 10
    ) -> builtins.list[tuple[Entry, Match]]: ...

    def list(self, limit: int | None = None, offset: int = 0) -> builtins.list[EntryInfo]: ...

    def remove(self, entry_id: str) -> bool: ...


def entry_id_for(manifest: bytes) -> str:
    """The default entry id: ``sha256:`` and the hex SHA-256 of the manifest bytes."""
    return "sha256:" + hashlib.sha256(manifest).hexdigest()


def index_keys(fingerprint: VideoFingerprint) -> builtins.list[int]:
    """The distinct (band, 16-bit value) keys of a fingerprint's samples, sorted."""
    keys = {
        (band << 16) | ((h >> (16 * band)) & 0xFFFF)
        for h in fingerprint.hashes
        for band in range(BANDS)
    }
    return sorted(keys)


def default_repository_path() -> Path:
    """``$PROVCHECK_DATA_DIR/manifests.sqlite3``, else the platform's user data dir."""
    env = os.environ.get("PROVCHECK_DATA_DIR")
    if env:
        return Path(env) / DEFAULT_FILENAME
    from platformdirs import user_data_dir

    return Path(user_data_dir("provcheck")) / DEFAULT_FILENAME


class SQLiteRepository:
    """A :class:`ManifestStore` in one SQLite file.

    >>> with SQLiteRepository(default_repository_path()) as repo:  # doctest: +SKIP
    ...     repo.add(manifest_bytes, fingerprint.compute("clip.mp4"), {"signer": "ACME"})
    ...     repo.lookup(fingerprint.compute("shared-copy.mp4"))

    One instance is one connection: use it from one thread. Several processes may
    open the same file; a writer waits up to ``timeout`` seconds for another's lock.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, timeout: float = 5.0):
        self.path = Path(path) if path is not None else default_repository_path()
        self._conn: sqlite3.Connection | None = None
        try:
            self._open(timeout)
        except BaseException:
            self.close()
            raise

    def _open(self, timeout: float) -> None:
        with self._errors("open"):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: no implicit transactions; every write below opens
            # its own BEGIN IMMEDIATE ... COMMIT, so it lands whole or not at all.
            conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
            self._conn = conn
            conn.execute("PRAGMA journal_mode=WAL")
            version = self._schema_version(conn)
            if version is None:  # a new file: create the tables under the write lock
                with self._transaction():
                    # One statement at a time: executescript() would commit our transaction.
                    for statement in _SCHEMA:
                        conn.execute(statement)
                    if self._schema_version(conn) is None:
                        conn.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
                version = self._schema_version(conn)
            if version != SCHEMA_VERSION:
                raise RepositoryError(
                    f"{self.path}: repository schema {version} is not supported "
                    f"(this provcheck reads schema {SCHEMA_VERSION})"
                )

    @staticmethod
    def _schema_version(conn: sqlite3.Connection) -> str | None:
        if not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
        ).fetchone():
            return None
        row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        return None if row is None else str(row[0])

    # -- plumbing ---------------------------------------------------------------------

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RepositoryError(f"{self.path}: repository is closed")
        return self._conn

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Turn sqlite3 and OS errors into a RepositoryError a person can act on."""
        try:
            yield
        except RepositoryError:
            raise
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "locked" in text or "busy" in text:
                raise RepositoryError(
                    f"{self.path}: repository is locked by another process; try again"
                ) from exc
            raise RepositoryError(f"{self.path}: cannot {doing} the repository: {text}") from exc
        except sqlite3.DatabaseError as exc:
            raise RepositoryError(
                f"{self.path}: not a provcheck repository, or it is corrupt ({exc}); "
                "move it aside and start a new one"
            ) from exc
        except FingerprintError as exc:
            raise RepositoryError(f"{self.path}: a stored fingerprint is corrupt ({exc})") from exc
        except (OSError, json.JSONDecodeError) as exc:
            raise RepositoryError(f"{self.path}: cannot {doing} the repository: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._db
        conn.execute("BEGIN IMMEDIATE")  # take the write lock now, not halfway through
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # SQLite may have rolled back already (disk full)
                conn.execute("ROLLBACK")
            raise

    @contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: several queries see one state, whatever others commit."""
        conn = self._db
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.execute("COMMIT")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> SQLiteRepository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        with self._errors("read"):
            return int(self._db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    # -- writing ----------------------------------------------------------------------

    def add(
        self,
        manifest: bytes,
        fingerprint: VideoFingerprint,
        summary: Mapping[str, Any] | None = None,
        *,
        entry_id: str | None = None,
    ) -> Entry:
        """Store a signed manifest with its asset's fingerprint; returns the entry.

        ``entry_id`` defaults to :func:`entry_id_for` the manifest bytes. Adding the
        same id with the same manifest again changes nothing and returns the stored
        entry; the same id with other manifest bytes is refused.
        """
        return self.add_many([(manifest, fingerprint, summary, entry_id)])[0]

    def add_many(
        self,
        items: Iterable[tuple[bytes, VideoFingerprint, Mapping[str, Any] | None, str | None]],
    ) -> builtins.list[Entry]:
        """:meth:`add` for many (manifest, fingerprint, summary, id) at once: one transaction."""
        out: builtins.list[Entry] = []
        postings: builtins.list[int] = []  # key << 40 | rowid: sorts fast as plain ints
        with self._errors("write to"), self._transaction() as conn:
            for manifest, fingerprint, summary, entry_id in items:
                entry, rowid = self._add_one(conn, manifest, fingerprint, summary, entry_id)
                out.append(entry)
                if rowid is not None:
                    postings.extend((key << 40) | rowid for key in index_keys(fingerprint))
            # In key order the B-tree fills front to back instead of at random pages.
            postings.sort()
            conn.executemany(
                "INSERT OR IGNORE INTO hash_index (key, entry) VALUES (?, ?)",
                ((p >> 40, p & _ROWID_MASK) for p in postings),
            )
        return out

    def _add_one(
        self,
        conn: sqlite3.Connection,
        manifest: bytes,
        fingerprint: VideoFingerprint,
        summary: Mapping[str, Any] | None,
        entry_id: str | None,
    ) -> tuple[Entry, int | None]:
        """Insert one entry row: the entry and its rowid, or None if it was there already."""
        if not isinstance(manifest, bytes | bytearray | memoryview):
            raise RepositoryError("a manifest must be bytes")
        manifest = bytes(manifest)
        eid = entry_id or entry_id_for(manifest)
        try:
            summary_json = json.dumps(dict(summary or {}), sort_keys=True, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise RepositoryError(f"entry {eid}: summary is not JSON-serialisable: {exc}") from exc
        try:
            blob = fingerprint.to_bytes()
        except FingerprintError as exc:
            raise RepositoryError(f"entry {eid}: {exc}") from exc
        existing = conn.execute("SELECT manifest FROM entries WHERE id=?", (eid,)).fetchone()
        if existing is not None:
            if bytes(existing[0]) != manifest:
                raise RepositoryError(f"entry {eid} already holds a different manifest")
            stored = self._get(conn, eid)
            assert stored is not None
            return stored, None
        added = time.time()
        cur = conn.execute(
            "INSERT INTO entries (id, manifest, algorithm, fingerprint, summary, added)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (eid, manifest, fingerprint.algorithm, blob, summary_json, added),
        )
        return Entry(eid, manifest, fingerprint, json.loads(summary_json), added), cur.lastrowid

    def remove(self, entry_id: str) -> bool:
        """Delete an entry and its index rows; False if there was none."""
        with self._errors("write to"), self._transaction() as conn:
            row = conn.execute(
                "SELECT rowid, fingerprint FROM entries WHERE id=?", (entry_id,)
            ).fetchone()
            if row is None:
                return False
            rowid, blob = row
            # The keys come from the stored fingerprint, so each delete is a primary-key
            # seek rather than a scan of the index for this entry.
            keys = index_keys(VideoFingerprint.from_bytes(bytes(blob)))
            conn.executemany(
                "DELETE FROM hash_index WHERE key=? AND entry=?", ((k, rowid) for k in keys)
            )
            conn.execute("DELETE FROM entries WHERE rowid=?", (rowid,))
            return True

    # -- reading ----------------------------------------------------------------------

    def get(self, entry_id: str) -> Entry | None:
        with self._errors("read"):
            return self._get(self._db, entry_id)

    def _get(self, conn: sqlite3.Connection, entry_id: str) -> Entry | None:
        row = conn.execute(
            "SELECT id, manifest, fingerprint, summary, added FROM entries WHERE id=?",
            (entry_id,),
        ).fetchone()
        return None if row is None else _entry(row)

    def list(self, limit: int | None = None, offset: int = 0) -> builtins.list[EntryInfo]:
        """Entries in the order they were added, without their manifest bytes."""
        with self._errors("read"):
            rows = self._db.execute(
                "SELECT id, summary, added, fingerprint, length(manifest) FROM entries"
                " ORDER BY rowid LIMIT ? OFFSET ?",
                (-1 if limit is None else limit, offset),
            ).fetchall()
            return [
                EntryInfo(
                    id=r[0],
                    summary=json.loads(r[1]),
                    added=r[2],
                    duration=VideoFingerprint.from_bytes(bytes(r[3])).duration,
                    manifest_size=r[4],
                )
                for r in rows
            ]

    def lookup(
        self, fingerprint: VideoFingerprint, limit: int = 10
    ) -> builtins.list[tuple[Entry, Match]]:
        """Entries whose fingerprint matches, best first (at most ``limit``).

        In each :class:`Match`, ``a`` is the query and ``b`` the stored clip.
        """
        return builtins.list(self.search(fingerprint, limit).matches)

    def search(self, fingerprint: VideoFingerprint, limit: int = 10) -> LookupResult:
        """:meth:`lookup`, with how many index rows and candidates it touched."""
        if limit <= 0 or not fingerprint.hashes:
            return LookupResult((), 0, 0)
        keys = index_keys(fingerprint)
        shared: Counter[int] = Counter()
        postings = 0
        with self._errors("read"), self._snapshot() as conn:
            for i in range(0, len(keys), _CHUNK):
                chunk = keys[i : i + _CHUNK]
                marks = ",".join("?" * len(chunk))
                for entry, n in conn.execute(
                    f"SELECT entry, COUNT(*) FROM hash_index WHERE key IN ({marks}) GROUP BY entry",
                    chunk,
                ):
                    shared[entry] += n
                    postings += n
            # Entries sharing the most bands first: chance gives one, a copy dozens.
            top = [
                rowid
                for rowid, n in shared.most_common(max(MAX_CANDIDATES, 4 * limit))
                if n >= MIN_SHARED
            ]
            rows: builtins.list[tuple[int, str, bytes]] = []
            for i in range(0, len(top), _CHUNK):
                chunk = top[i : i + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows += conn.execute(
                    f"SELECT rowid, algorithm, fingerprint FROM entries WHERE rowid IN ({marks})",
                    chunk,
                ).fetchall()
            matches = _best_matches(conn, fingerprint, rows, limit)
        return LookupResult(tuple(matches), candidates=len(top), postings=postings)

    def scan(
        self, fingerprint: VideoFingerprint, limit: int = 10
    ) -> builtins.list[tuple[Entry, Match]]:
        """Compare against every entry, ignoring the index: the brute-force reference
        that tests and benchmarks measure :meth:`lookup` against. O(entries)."""
        with self._errors("read"), self._snapshot() as conn:
            rows = conn.execute("SELECT rowid, algorithm, fingerprint FROM entries")
            return _best_matches(conn, fingerprint, rows, limit)


def _entry(row: tuple[Any, ...]) -> Entry:
    eid, manifest, blob, summary, added = row
    return Entry(
        id=eid,
        manifest=bytes(manifest),
        fingerprint=VideoFingerprint.from_bytes(bytes(blob)),
        summary=json.loads(summary),
        added=added,
    )


def _best_matches(
    conn: sqlite3.Connection,
    fingerprint: VideoFingerprint,
    rows: Iterable[tuple[int, str, bytes]],
    limit: int,
) -> builtins.list[tuple[Entry, Match]]:
    """Compare ``(rowid, algorithm, fingerprint)`` rows with the query; the best ``limit``
    matches as entries, best first (shared by the indexed lookup and the full scan)."""
    found: builtins.list[tuple[int, Match]] = []
    for rowid, algorithm, blob in rows:
        if algorithm != fingerprint.algorithm:
            continue
        match = compare(fingerprint, VideoFingerprint.from_bytes(bytes(blob)))
        if match is not None:
            found.append((rowid, match))
    found.sort(key=lambda f: (f[1].similarity, f[1].correlation), reverse=True)
    out: builtins.list[tuple[Entry, Match]] = []
    for rowid, match in found[:limit]:
        row = conn.execute(
            "SELECT id, manifest, fingerprint, summary, added FROM entries WHERE rowid=?",
            (rowid,),
        ).fetchone()
        if row is not None:
            out.append((_entry(row), match))
    return out
