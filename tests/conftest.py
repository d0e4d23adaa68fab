"""Shared fixtures: every test gets its own database (a DuckDB file in a temp dir, or for the tests marked
`both_backends` also a fresh PostgreSQL database) and secrets folder."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from core import config
from core import db as dbmod
from core.accounts import register
from core.db import open_database

# Fixtures shared by every folder: one browser for all browser tests, one fake OpenAI server process.
from tests.browser import browser, new_page, pages, playwright_driver, pytest_runtest_makereport, shown_exceptions  # noqa: F401
from tests.fakes.fixtures import fake_openai  # noqa: F401


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    monkeypatch.setattr("core.accounts.BCRYPT_ROUNDS", 4)


@pytest.fixture(autouse=True)
def refresh_stays_on(monkeypatch):
    """The CLI switches the automatic refresh off for its whole process: a test running a command in-process must
    not switch it off for the tests after it on the same worker."""
    from core import refresh

    monkeypatch.setattr(refresh, "_switched_off", refresh._switched_off)


@pytest.fixture(autouse=True)
def fresh_model_gates():
    """Each test starts with no model call counted: the fake server is shared, a breaker opened by one test's
    failures must not refuse the next test's calls."""
    from core.llm.gate import forget_gates

    forget_gates()
    yield


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `both_backends` run once on DuckDB and once on PostgreSQL."""
    if "db_path" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_backends"):
        metafunc.parametrize("backend", ["duckdb", "postgresql"], indirect=True)


@pytest.fixture
def backend(request) -> str:
    return getattr(request, "param", "duckdb")


@pytest.fixture(scope="session")
def pg_cluster():
    """One throwaway PostgreSQL server per test process (CI requires one; elsewhere its tests skip without it)."""
    from tests.pg import Cluster, binaries

    if binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is required in CI (apt-get install postgresql)")
        pytest.skip("PostgreSQL is not installed")
    # Not under pytest's temp dir: the server runs as the `postgres` user, who cannot enter root's 0700 folders.
    folder = Path(tempfile.mkdtemp(prefix="harmonica-pg-"))
    cluster = Cluster(folder).start()
    yield cluster
    cluster.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def db_path(tmp_path, monkeypatch, backend, request):
    """The configured database: a DuckDB file's path, or a new PostgreSQL database's URL."""
    if backend == "duckdb":
        path = tmp_path / "harmonica.duckdb"
    else:
        path = request.getfixturevalue("pg_cluster").new_database()
    monkeypatch.setenv("HARMONICA_DB", str(path))
    monkeypatch.setenv("HARMONICA_SECRETS_DIR", str(tmp_path / "secrets"))
    monkeypatch.setenv("HARMONICA_BACKUP_EVERY_H", "0")   # no snapshot at each test's first page run
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "HARMONICA_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    config.settings.cache_clear()
    yield path
    dbmod.close_all()
    config.settings.cache_clear()


@pytest.fixture
def db(db_path):
    return open_database(db_path)


@pytest.fixture
def creator(db):
    return register(db, "alice", "alice@example.org", "Alice", "correct horse", "correct horse")


@pytest.fixture
def other_user(db, creator):
    return register(db, "bob", "bob@example.org", "Bob", "battery staple", "battery staple")


SLOW_FIXTURES = {"new_page", "browser", "server", "seeded_server", "api", "demo_server", "replicas"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files that start servers or browsers first: xdist hands out whole files in this order (--dist loadfile), so
    the long ones no longer land last on one worker while the other waits."""
    slow = {item.path for item in items if SLOW_FIXTURES & set(item.fixturenames)}
    items.sort(key=lambda item: item.path not in slow)   # stable: the order within each group is kept
