"""A real, throw-away PostgreSQL server for tests and benchmarks (no mocks).

Debian's ``postgresql`` package (``.ci/install-postgres``): ``initdb`` into a temporary
directory, ``pg_ctl start`` listening on 127.0.0.1 on a free port with its unix socket
in that directory, trust authentication for the superuser ``provcheck``, removed when
stopped. initdb refuses to run as root, so as root the server runs as the ``postgres``
system user (created by the Debian package), else as ``nobody``, through ``runuser``.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["PostgresServer", "find_bindir", "postgres_server", "postgres_url"]

SUPERUSER = "provcheck"


def find_bindir() -> Path | None:
    """The newest Debian PostgreSQL bin directory, else the one holding initdb on PATH."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    exe = shutil.which("initdb")
    return Path(exe).parent if exe else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One PostgreSQL cluster in a temporary directory.

    ``durable=False`` (tests) turns fsync off: faster, and nothing here must survive a
    power cut. Benchmarks keep the defaults.
    """

    def __init__(self, bindir: Path, *, durable: bool = False) -> None:
        self.bindir = bindir
        self.durable = durable
        self.run_as: str | None = None
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                with contextlib.suppress(KeyError):
                    pwd.getpwnam(name)
                    self.run_as = name
                    break
            if self.run_as is None:
                raise RuntimeError("running as root with neither a postgres nor a nobody user")
        self.root = Path(tempfile.mkdtemp(prefix="provcheck-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0
        self._running = False
        if self.run_as is not None:
            user = pwd.getpwnam(self.run_as)
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self._names = itertools.count(1)

    def _run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / argv[0]), *argv[1:]]
        if self.run_as is not None:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        return subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, cwd=self.root, check=False
        )

    def start(self) -> None:
        init = self._run(
            "initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
            "-E", "UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{init.stdout}\n{init.stderr}")
        options = ["-c listen_addresses=127.0.0.1", f"-k {self.root}", "-c max_connections=60"]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        last = ""
        for _ in range(5):  # the free port may be taken between finding and binding it
            self.port = _free_port()
            started = self._run(
                "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                "-o", " ".join([*options, f"-p {self.port}"]), "start",
            )  # fmt: skip
            if started.returncode == 0:
                self._running = True
                atexit.register(self.stop)
                return
            last = started.stdout + started.stderr
            with contextlib.suppress(OSError):
                last += self.log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"pg_ctl start failed:\n{last}")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, prefix: str = "t") -> str:
        """A new, empty database; its URL."""
        import psycopg

        name = f"{prefix}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"'.encode())
        return self.url(name)

    def stop(self) -> None:
        if self._running:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
            self._running = False
        shutil.rmtree(self.root, ignore_errors=True)


def _missing(what: str) -> None:
    """Skip, or fail under PROVCHECK_REQUIRE_TOOLS=1 (CI), like conftest.require_tool."""
    if os.environ.get("PROVCHECK_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{what} is required (PROVCHECK_REQUIRE_TOOLS=1)")
    pytest.skip(f"{what} not available")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _missing("psycopg (pip install 'provcheck[postgres]')")
    bindir = find_bindir()
    if bindir is None:
        _missing("PostgreSQL server (.ci/install-postgres, or apt-get install postgresql)")
        raise AssertionError  # unreachable: skip/fail raise
    server = PostgresServer(bindir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database on the session's server."""
    return postgres_server.create_database()


@pytest.fixture(params=["sqlite", "postgresql"], name="spec")
def repository_spec(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A repository location of each backend: an SQLite file, then a real server's URL."""
    if request.param == "sqlite":
        return str(tmp_path / "repo.sqlite3")
    url: str = request.getfixturevalue("postgres_url")
    return url
