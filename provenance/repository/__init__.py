"""The manifest repository: find a clip's signed manifest again by what it looks like.

A shared clip usually loses its embedded manifest (platforms strip metadata and
re-encode). The repository keeps, per signed asset, the manifest store bytes, the
clip's perceptual fingerprint (:mod:`provenance.fingerprint`) and a small JSON
summary, so that a stripped copy can be matched back to its manifest: the C2PA
*soft binding* idea.

Lookups never scan the whole store. Multi-index hashing: each 64-bit sample hash is
cut into four 16-bit bands and every (band, value) pair is indexed. Two hashes within
three bits of each other share at least one band exactly (pigeonhole), and a clip
has dozens of samples, so a transformed copy still shares many bands with its
original while an unrelated entry shares few. The entries sharing the most bands
with the query are the only candidates. A vectorised vote prefilter
(:func:`provenance.fingerprint.worth_comparing`, on the sample hashes each entry keeps
beside its fingerprint) rules out in one pass the candidates that provably neither
match nor narrowly miss, and :func:`provenance.fingerprint.compare` verifies the rest:
the answer is the one comparing every candidate would give, at a fraction of the cost.

The modules:

- ``protocol``: :class:`ManifestStore` (the seam every caller types against), the
  entry types, :class:`RepositoryError` and the index maths all backends share;
- ``factory``: :func:`open_repository` (a path or URL -> a store) and
  :func:`default_repository`;
- ``sqlite``: :class:`SQLiteRepository`, the embedded default (one file, zero set-up);
- ``postgres``: :class:`PostgresRepository`, for many writers on many machines;
- ``paths``: where the default repository lives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .factory import default_repository, open_repository
from .paths import DEFAULT_FILENAME, default_repository_path
from .protocol import (
    SCHEMA_VERSION,
    Entry,
    EntryInfo,
    JSONValue,
    LookupResult,
    ManifestStore,
    NewEntry,
    RepositoryError,
    Summary,
    entry_id_for,
    index_keys,
)
from .sqlite import SQLiteRepository

if TYPE_CHECKING:
    from .postgres import PostgresRepository

__all__ = [
    "DEFAULT_FILENAME",
    "SCHEMA_VERSION",
    "Entry",
    "EntryInfo",
    "JSONValue",
    "LookupResult",
    "ManifestStore",
    "NewEntry",
    "PostgresRepository",
    "RepositoryError",
    "SQLiteRepository",
    "Summary",
    "default_repository",
    "default_repository_path",
    "entry_id_for",
    "index_keys",
    "open_repository",
]


def __getattr__(name: str) -> Any:
    # The PostgreSQL backend is imported when asked for: psycopg is an optional extra.
    if name == "PostgresRepository":
        from .postgres import PostgresRepository

        return PostgresRepository
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
