"""The embedded default: a :class:`~provenance.repository.ManifestStore` in one SQLite file.

WAL journal, every write one ``BEGIN IMMEDIATE`` transaction; several processes on
one machine may share a file (a writer waits for another's lock up to a timeout).
"""

from __future__ import annotations

import builtins
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..fingerprint import FingerprintError, Match, VideoFingerprint
from .paths import default_repository_path
from .protocol import (
    MIN_SHARED,
    SCHEMA_VERSION,
    Entry,
    EntryInfo,
    LookupResult,
    NewEntry,
    RepositoryError,
    _best,
    _entry,
    _info,
    _neighbour_keys,
    _neighbour_share,
    _new_entry,
    _prepare,
    _Prepared,
    _Row,
    _StoreBase,
    _top_entries,
    _Verified,
    index_keys,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["SQLiteRepository"]

_ROWID_MASK = (1 << 40) - 1
_CHUNK = 500  # SQL parameters per IN (...) query, well under SQLite's limit

# Schema version -> the statements that bring the previous version to it.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
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
    ),
    # Each entry's sample hashes (fingerprint.stored_hashes), so that the lookup's
    # prefilter need not derive them; NULL for entries stored before (derived then).
    2: ("ALTER TABLE entries ADD COLUMN hashes BLOB",),
}


def _parse_ints(text: str) -> npt.NDArray[np.int64]:
    """Comma-separated integers (as group_concat writes them) as an array."""
    import numpy as np

    if not text:
        return np.zeros(0, dtype=np.int64)
    return np.fromstring(text, sep=",", dtype=np.int64)


class SQLiteRepository(_StoreBase):
    """A :class:`~provenance.repository.ManifestStore` in one SQLite file.

    >>> with SQLiteRepository("manifests.sqlite3") as repo:  # doctest: +SKIP
    ...     repo.add(manifest_bytes, fingerprint.compute("clip.mp4"), {"title": "Dusk"})
    ...     repo.lookup(fingerprint.compute("shared-copy.mp4"))

    One instance is one connection: use it from one thread. Several processes may
    open the same file; a writer waits up to ``timeout`` seconds for another's lock.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, timeout: float = 5.0):
        # None: the default location (kept for callers of the 0.1 API; prefer
        # provenance.repository.default_repository()).
        self.path = Path(path) if path is not None else default_repository_path()
        self._conn: sqlite3.Connection | None = None
        try:
            self._open(timeout)
        except BaseException:
            self.close()
            raise

    @property
    def location(self) -> str:
        return str(self.path)

    def _open(self, timeout: float) -> None:
        with self._errors("open"):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: no implicit transactions; every write below opens
            # its own BEGIN IMMEDIATE ... COMMIT, so it lands whole or not at all.
            conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
            self._conn = conn
            conn.execute("PRAGMA journal_mode=WAL")
            self.init()

    def init(self) -> int:
        """Create or migrate the schema; opening does this too. The schema version."""
        with self._errors("set up"):
            conn = self._db
            version = self._schema_version(conn)
            if version == SCHEMA_VERSION:  # the usual case: opening only reads
                return version
            self._check_supported(version)
            with self._transaction():
                # Again under the write lock: another process may have been first.
                version = self._schema_version(conn)
                self._check_supported(version)
                for target in range((version or 0) + 1, SCHEMA_VERSION + 1):
                    # One statement at a time: executescript() would commit our transaction.
                    for statement in _MIGRATIONS[target]:
                        conn.execute(statement)
                conn.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
                )
            return SCHEMA_VERSION

    @staticmethod
    def _schema_version(conn: sqlite3.Connection) -> int | None:
        if not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
        ).fetchone():
            return None
        row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is None:
            return None
        try:
            return int(row[0])
        except (TypeError, ValueError):
            return -1  # unreadable: refused as unsupported

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
        except OSError as exc:
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

    def __len__(self) -> int:
        with self._errors("read"):
            return int(self._db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    # -- writing ----------------------------------------------------------------------

    def add(
        self,
        manifest: bytes,
        fingerprint: VideoFingerprint,
        summary: Mapping[str, object] | None = None,
        *,
        entry_id: str | None = None,
    ) -> Entry:
        """Store a signed manifest with its asset's fingerprint; returns the entry.

        ``entry_id`` defaults to the SHA-256 of the manifest bytes. Adding the same id
        with the same manifest again changes nothing and returns the stored entry; the
        same id with other manifest bytes is refused.
        """
        return self.add_many([(manifest, fingerprint, summary, entry_id)])[0]

    def add_many(self, items: Iterable[NewEntry]) -> builtins.list[Entry]:
        """:meth:`add` for many (manifest, fingerprint, summary, id) at once: one transaction."""
        import numpy as np

        prepared = [_prepare(*item) for item in items]
        out: builtins.list[Entry] = []
        postings = []  # per new entry: key << 40 | rowid, which sorts as (key, rowid)
        with self._errors("write to"), self._transaction() as conn:
            for p in prepared:
                entry, rowid = self._add_one(conn, p)
                out.append(entry)
                if rowid is not None:
                    postings.append((np.array(p.keys, dtype=np.int64) << 40) | rowid)
            if postings:
                # In key order the B-tree fills front to back instead of at random pages.
                merged = np.sort(np.concatenate(postings))
                conn.executemany(
                    "INSERT OR IGNORE INTO hash_index (key, entry) VALUES (?, ?)",
                    zip((merged >> 40).tolist(), (merged & _ROWID_MASK).tolist(), strict=True),
                )
        return out

    def _add_one(self, conn: sqlite3.Connection, p: _Prepared) -> tuple[Entry, int | None]:
        """Insert one entry row: the entry and its rowid, or None if it was there already."""
        existing = conn.execute("SELECT manifest FROM entries WHERE id=?", (p.id,)).fetchone()
        if existing is not None:
            if bytes(existing[0]) != p.manifest:
                raise RepositoryError(f"entry {p.id} already holds a different manifest")
            stored = self._get(conn, p.id)
            assert stored is not None
            return stored, None
        added = time.time()
        cur = conn.execute(
            "INSERT INTO entries (id, manifest, algorithm, fingerprint, summary, added, hashes)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (p.id, p.manifest, p.fingerprint.algorithm, p.blob, p.summary_json, added, p.hashes),
        )
        return _new_entry(p, added), cur.lastrowid

    def remove(self, entry_id: str) -> bool:
        """Delete an entry and its index rows; False if there was none."""
        with self._errors("write to"), self._transaction() as conn:
            row = conn.execute(
                "SELECT rowid, fingerprint FROM entries WHERE id=?", (entry_id,)
            ).fetchone()
            if row is None:
                return False
            rowid, blob = row
            try:
                # The keys come from the stored fingerprint, so each delete is a
                # primary-key seek rather than a scan of the index for this entry.
                keys = index_keys(VideoFingerprint.from_bytes(bytes(blob)))
                conn.executemany(
                    "DELETE FROM hash_index WHERE key=? AND entry=?", ((k, rowid) for k in keys)
                )
            except FingerprintError:  # a corrupt row: find its postings the slow way
                conn.execute("DELETE FROM hash_index WHERE entry=?", (rowid,))
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
        return None if row is None else _entry(row[0], row[1], bytes(row[2]), row[3], row[4])

    def list(self, limit: int | None = None, offset: int = 0) -> builtins.list[EntryInfo]:
        """Entries in the order they were added, without their manifest bytes.

        A malformed row is listed with its ``problem``, never an error."""
        with self._errors("read"):
            rows = self._db.execute(
                "SELECT id, summary, added, fingerprint, length(manifest) FROM entries"
                " ORDER BY rowid LIMIT ? OFFSET ?",
                (-1 if limit is None else limit, offset),
            ).fetchall()
            return [_info(r[0], r[1], r[2], bytes(r[3]), r[4]) for r in rows]

    def search(self, fingerprint: VideoFingerprint, limit: int = 10) -> LookupResult:
        """:meth:`lookup`, with how many index rows and candidates it touched."""
        if limit <= 0 or not fingerprint.hashes:
            return LookupResult((), 0, 0)
        postings = 0

        def candidates(
            conn: sqlite3.Connection, keys: builtins.list[int], seen: set[int], least: int
        ) -> builtins.list[_Row]:
            nonlocal postings
            # Each key's postings come back as one comma-separated string: a row per
            # posting through Python (or a GROUP BY in SQLite) costs several times more.
            # CAST: whatever a hand-edited row holds, the text is a list of integers.
            parts = []
            for i in range(0, len(keys), _CHUNK):
                chunk = keys[i : i + _CHUNK]
                marks = ",".join("?" * len(chunk))
                (text,) = conn.execute(
                    "SELECT group_concat(CAST(entry AS INTEGER)) FROM hash_index"
                    f" WHERE key IN ({marks})",
                    chunk,
                ).fetchone()
                if text:
                    parts.append(text)
            entries = _parse_ints(",".join(parts))
            postings += len(entries)
            top = [row for row in _top_entries(entries, limit, least) if row not in seen]
            seen.update(top)
            rows: builtins.list[_Row] = []
            for i in range(0, len(top), _CHUNK):
                chunk = top[i : i + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows += conn.execute(
                    "SELECT rowid, algorithm, fingerprint, hashes FROM entries"
                    f" WHERE rowid IN ({marks})",
                    chunk,
                ).fetchall()
            return rows

        seen: set[int] = set()
        with self._errors("read"), self._snapshot() as conn:
            rows = candidates(conn, index_keys(fingerprint, query=True), seen, MIN_SHARED)
            bad: builtins.list[int] = []
            verified = _Verified()
            found = _best(fingerprint, rows, limit, bad, verified)
            if found:
                # Rivals: originals that look like the one matched, even if the copy's
                # own keys missed them.
                best = next(r for r in rows if r[0] == found[0][0])
                keys = _neighbour_keys(best[2])
                more = candidates(conn, keys, seen, _neighbour_share(keys))
                if more:
                    found = _best(fingerprint, more, limit, bad, verified)
            matches = self._entries(conn, found)
            skipped = tuple(self._ids(conn, sorted(set(bad))))
        return LookupResult(tuple(matches), len(seen), postings, skipped, verified.compared)

    def scan(
        self, fingerprint: VideoFingerprint, limit: int = 10
    ) -> builtins.list[tuple[Entry, Match]]:
        """Compare against every entry, ignoring the index: the brute-force reference
        that tests and benchmarks measure :meth:`lookup` against. O(entries)."""
        with self._errors("read"), self._snapshot() as conn:
            rows = conn.execute("SELECT rowid, algorithm, fingerprint, NULL FROM entries")
            return self._entries(conn, _best(fingerprint, rows, limit, prefilter=False))

    @staticmethod
    def _entries(
        conn: sqlite3.Connection, found: builtins.list[tuple[int, Match]]
    ) -> builtins.list[tuple[Entry, Match]]:
        out: builtins.list[tuple[Entry, Match]] = []
        for rowid, match in found:
            row = conn.execute(
                "SELECT id, manifest, fingerprint, summary, added FROM entries WHERE rowid=?",
                (rowid,),
            ).fetchone()
            if row is not None:
                out.append((_entry(row[0], row[1], bytes(row[2]), row[3], row[4]), match))
        return out

    @staticmethod
    def _ids(conn: sqlite3.Connection, rowids: builtins.list[int]) -> builtins.list[str]:
        return [
            r[0]
            for rowid in rowids
            for r in conn.execute("SELECT id FROM entries WHERE rowid=?", (rowid,))
        ]
