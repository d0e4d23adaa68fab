"""A throwaway PostgreSQL cluster under a temp dir (Debian's `postgresql` package), for tests and benches.

It listens on a Unix socket in its own folder only (no TCP port to collide on) with durability switched off:
a test database is disposable. Each test gets a fresh database copied from a migrated template (~50 ms).
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
from pathlib import Path

import psycopg

TEMPLATE = "harmonica_template"


def binaries() -> Path | None:
    """The folder of the newest installed PostgreSQL server's programs, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class Cluster:
    """A PostgreSQL server of its own: `start()`, `new_database()` for a URL, `stop()`."""

    def __init__(self, folder: Path, port: int = 5432):
        self.folder = Path(folder)
        self.data = self.folder / "data"
        self.port = port    # only names the socket file: nothing listens on TCP
        self.bin = binaries()
        self._names = itertools.count(1)

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:   # the server refuses to run as root: run it as the package's own user
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr or done.stdout}")

    def url(self, database: str) -> str:
        return f"postgresql://harmonica@/{database}?host={self.data}&port={self.port}"

    def start(self) -> "Cluster":
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
        self.data.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
            shutil.chown(self.data, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "harmonica", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        options = (f"-k {self.data} -p {self.port} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.data / "server.log"), "-o", options, "-w", "start")
        self._create(TEMPLATE)
        from core.postgres import PostgresDatabase

        PostgresDatabase(self.url(TEMPLATE), pool_size=1).close()   # migrated once; copies start migrated
        return self

    def _create(self, name: str, template: str = "template0") -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')

    def new_database(self) -> str:
        """The URL of a new database holding the migrated schema and no rows."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        self._create(name, TEMPLATE)
        return self.url(name)

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
