"""A real PostgreSQL server for the tests: Debian's `postgresql` package (`make postgres`),
started in a temporary folder on a free local port, and an empty database for each test.

The fixtures `postgres_server` (one a session) and `postgres_url` (a test's empty database)
are registered by importing them into a conftest.py.

initdb and postgres refuse to run as root, and this machine's tests do: as root, the server
runs as the `postgres` system user the package creates, in a folder that user owns. For tests,
durability is off (fsync, synchronous commit): a test's database outlives nothing.
"""

from __future__ import annotations

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
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SERVER_USER = "postgres"  # the system user Debian's package makes
_START_SECONDS = 30


def find_binary(name: str) -> Path | None:
    """`name` on PATH, else in the newest /usr/lib/postgresql/<version>/bin (Debian's place)."""
    found = shutil.which(name)
    if found:
        return Path(found).resolve()  # Debian's links lead to the folder of the others
    versions = sorted(
        (Path(path) for path in glob.glob(f"/usr/lib/postgresql/*/bin/{name}")),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    return versions[-1] if versions else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class PostgresServer:
    """One server in `root` (owned by the user it runs as), on 127.0.0.1:`port`."""

    root: Path
    bin_dir: Path
    port: int = field(default_factory=free_port)
    _names: Iterator[int] = field(default_factory=itertools.count)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", SERVER_USER, "--"] if os.geteuid() == 0 else []
        return subprocess.run(
            [*prefix, *command], capture_output=True, text=True, check=False, cwd=self.root
        )

    def _check(self, *command: str) -> None:
        done = self._run(*command)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{command[0]} failed: {done.stdout}{done.stderr}{tail}")

    def init(self) -> None:
        self._check(
            str(self.bin_dir / "initdb"), "--pgdata", str(self.data), "--username", SERVER_USER,
            "--auth", "trust", "--encoding", "UTF8", "--locale", "C.UTF-8", "--no-sync",
            "--no-instructions",
        )  # fmt: skip

    def start(self, durable: bool = False) -> None:
        """Start the server; not `durable` (for tests), it never waits for the disk."""
        settings = [
            f"port={self.port}",
            "listen_addresses=127.0.0.1",
            f"unix_socket_directories={self.root}",
            "max_connections=200",
        ]
        if not durable:
            settings += ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
        options = " ".join(f"-c {setting}" for setting in settings)
        self._check(
            str(self.bin_dir / "pg_ctl"), "start", "--pgdata", str(self.data), "--wait",
            "--timeout", str(_START_SECONDS), "--log", str(self.root / "server.log"),
            "--options", options,
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._check(str(self.bin_dir / "pg_ctl"), "stop", "--pgdata", str(self.data),
                    "--wait", "--mode", mode)  # fmt: skip

    def create_database(self) -> str:
        """A new empty database; its URL."""
        import psycopg

        name = f"kb_test_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE template0 STRATEGY file_copy")
        return self.url(name)


class PostgresMissing(RuntimeError):
    """PostgreSQL is not installed on this machine."""


@contextlib.contextmanager
def running_server(durable: bool = False) -> Iterator[PostgresServer]:
    """A server for the duration of the block (`make bench` uses it too, `durable`: with
    PostgreSQL's default fsync and synchronous commit, as a real deployment runs it)."""
    pg_ctl = find_binary("pg_ctl")
    if pg_ctl is None or find_binary("initdb") is None:
        raise PostgresMissing(
            "PostgreSQL is not installed: `make postgres` installs Debian's package"
        )
    root = Path(tempfile.mkdtemp(prefix="kb-postgres-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam(SERVER_USER)
        os.chown(root, user.pw_uid, user.pw_gid)
    server = PostgresServer(root, pg_ctl.parent)
    try:
        server.init()
        server.start(durable)
        yield server
    finally:
        with contextlib.suppress(RuntimeError):
            server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's server; skips the test (fails it in CI) when PostgreSQL is missing."""
    try:
        with running_server() as server:
            yield server
    except PostgresMissing as missing:
        if os.environ.get("CI"):
            pytest.fail(str(missing))
        pytest.skip(str(missing))


@pytest.fixture(scope="module")
def postgres_module_database(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database()


@pytest.fixture
def postgres_url(postgres_module_database: str) -> str:
    """A database with nothing in it, for one test: its module's, emptied (quicker than a new
    database a test)."""
    import psycopg

    with psycopg.connect(postgres_module_database, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '10s'")  # a store a test left open must not hang all
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return postgres_module_database
