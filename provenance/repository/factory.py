"""One way in: a repository from a path or URL, and the default one.

A new backend is a new class satisfying :class:`ManifestStore` plus one line in
``_SCHEMES``; no caller changes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from .paths import default_repository_path
from .protocol import ManifestStore, RepositoryError

__all__ = ["default_repository", "open_repository"]

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def _sqlite(spec: str) -> ManifestStore:
    from .sqlite import SQLiteRepository

    # SQLAlchemy's form: sqlite:///relative/path and sqlite:////absolute/path.
    parts = urlsplit(spec)
    if parts.netloc or parts.query or parts.fragment:
        raise RepositoryError(
            f"{spec}: a SQLite URL is sqlite:///relative/path or sqlite:////absolute/path"
        )
    path = unquote(parts.path[1:])
    if not path:
        raise RepositoryError(f"{spec}: the SQLite URL names no file")
    return SQLiteRepository(path)


def _postgres(spec: str) -> ManifestStore:
    from .postgres import PostgresRepository

    return PostgresRepository(spec)


def _resolution_service(spec: str) -> ManifestStore:
    # A Soft Binding Resolution API endpoint: read-only, and never believed on its word.
    from ..resolution import RemoteRepository

    return RemoteRepository(spec)


_SCHEMES: dict[str, Callable[[str], ManifestStore]] = {
    "sqlite": _sqlite,
    "postgresql": _postgres,
    "postgres": _postgres,
    "https": _resolution_service,
    "http": _resolution_service,
}


def open_repository(spec: str | os.PathLike[str] | None = None) -> ManifestStore:
    """Open (creating if need be) the manifest repository ``spec`` names.

    - ``None``: the default, :func:`default_repository`;
    - a file path: a SQLite repository in that file;
    - ``sqlite:///relative/path``, ``sqlite:////absolute/path``: the same, as a URL;
    - ``postgresql://user@host:port/db`` (or ``postgres://``, or any libpq URL with
      ``?sslmode=...`` etc.): a PostgreSQL repository (the ``postgres`` extra).

    The result is a context manager; close it (or use ``with``) when done.
    """
    if spec is None:
        return default_repository()
    text = os.fspath(spec)
    if not isinstance(text, str):
        raise RepositoryError("a repository is named by a text path or URL, not bytes")
    if not text:
        raise RepositoryError("a repository is a file path or a URL; got an empty name")
    m = _URL.match(text)
    if m is None:
        from .sqlite import SQLiteRepository

        return SQLiteRepository(text)
    opener = _SCHEMES.get(m.group(1).lower())
    if opener is None:
        known = ", ".join(f"{s}://" for s in sorted(_SCHEMES))
        raise RepositoryError(
            f"{m.group(1)}://...: not a supported repository (a file path, or one of {known})"
        )
    return opener(text)


def default_repository() -> ManifestStore:
    """The SQLite repository in the user's data directory (``$PROVCHECK_DATA_DIR`` if set)."""
    from .sqlite import SQLiteRepository

    return SQLiteRepository(default_repository_path())
