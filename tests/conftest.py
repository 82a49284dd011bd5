"""Fixtures: every test gets a fresh server on a fresh database.

The database is a SQLite file, or with SHOPDESK_TEST_DB=postgresql a fresh PostgreSQL database (copied from
a τ² template) on a throwaway server started on 127.0.0.1 for the run (pg_support.py). In that mode only the
tests that take the `settings` fixture run (the others never touch a shop's database, and run in the SQLite
pass), less those marked `sqlite_only` (they look inside the SQLite file itself).

A run that adds, removes or changes a file of the checkout fails, naming the files (checkout_support.py).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from checkout_support import changes, fingerprint
from mcp import Client
from pg_support import PostgresServer, unavailable_reason
from shop_support import ROOT, connected, server_env, tau2_text

from shopdesk.app import build_server
from shopdesk.settings import Settings
from shopdesk.shopdata.tau2 import import_into
from shopdesk.storage.database import ShopDatabase, open_database
from shopdesk.storage.sqlite import Database


@pytest.fixture(scope="session")
def tau2_data() -> dict[str, Any]:
    """The τ²-bench retail database, as published (read-only)."""
    return json.loads(tau2_text())


@pytest.fixture(scope="session")
def tau2_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "tau2.sqlite3"

    async def load() -> None:
        db = await Database.open(path)
        await import_into(db, tau2_text())
        await db.close()

    asyncio.run(load())
    return path


BACKEND = os.environ.get("SHOPDESK_TEST_DB", "sqlite")
if BACKEND not in ("sqlite", "postgresql"):
    raise pytest.UsageError(f"SHOPDESK_TEST_DB must be sqlite or postgresql, not {BACKEND!r}")
# CI sets it: a missing PostgreSQL (like a missing peer) fails the tests that need it instead of skipping them.
REQUIRED = os.environ.get("SHOPDESK_REQUIRE_PEERS") == "1"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: looks inside the SQLite file; not run on PostgreSQL")
    config.addinivalue_line(
        "markers",
        "slow: starts a process (the CLI, a server, PostgreSQL, Node, a browser) or runs long;"
        " the inner loop runs `pytest -m 'not slow'`",
    )


CHECKOUT = pytest.StashKey[dict[str, str]]()


def may_write() -> tuple[Path, ...]:
    """The one folder of the checkout a run may write in: the screenshots' folder, when asked for (README)."""
    asked = os.environ.get("SHOPDESK_SCREENSHOTS")
    return (Path(asked),) if asked else ()


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[CHECKOUT] = fingerprint(ROOT, may_write())


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A run leaves the checkout as it found it (checkout_support.py); if not, it fails and names the files."""
    before = session.config.stash.get(CHECKOUT, None)
    if before is None:
        return
    changed = changes(before, fingerprint(ROOT, may_write()))
    if changed:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("\nthe run changed the checkout (tests write under temporary folders):", red=True)
            for line in changed:
                reporter.write_line(f"  {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if BACKEND != "postgresql":
        return
    keep, drop = [], []
    for item in items:
        uses_shop = "settings" in getattr(item, "fixturenames", ())
        (keep if uses_shop and item.get_closest_marker("sqlite_only") is None else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = keep


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the run, on 127.0.0.1 (skips without PostgreSQL, unless CI requires it)."""
    reason = unavailable_reason()
    if reason:
        if REQUIRED or BACKEND == "postgresql":
            pytest.fail(f"PostgreSQL is needed here but {reason}", pytrace=False)
        pytest.skip(reason)
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


_databases = itertools.count()


async def _admin(server: PostgresServer, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server.url())
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def new_postgres_database(server: PostgresServer, template: str = "template0") -> str:
    """A new database on `server` (a copy of `template`); returns its URL."""
    name = f"shop_{os.getpid()}_{next(_databases)}"
    asyncio.run(_admin(server, f"CREATE DATABASE {name} TEMPLATE {template}"))
    return server.url(name)


def drop_postgres_database(server: PostgresServer, url: str) -> None:
    asyncio.run(_admin(server, f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)"))


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """The name of a database holding the τ² shop, to copy for each test."""
    url = new_postgres_database(postgres_server)

    async def load() -> None:
        db = await open_database(Path("unused"), url)
        await import_into(db, tau2_text())
        await db.close()

    asyncio.run(load())
    return url.rsplit("/", 1)[1]


@pytest.fixture
def settings(tmp_path: Path, tau2_template: Path, request: pytest.FixtureRequest) -> Iterator[Settings]:
    """Settings for a fresh copy of the τ² shop (a file, or a PostgreSQL database: see the module's text)."""
    if BACKEND == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = new_postgres_database(server, request.getfixturevalue("postgres_template"))
        yield Settings(db_path=tmp_path / "shop.sqlite3", db_url=url)
        drop_postgres_database(server, url)
        return
    path = tmp_path / "shop.sqlite3"
    shutil.copy(tau2_template, path)
    yield Settings(db_path=path)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Client]:
    async with connected(build_server(settings)) as c:
        yield c


@pytest.fixture
async def db(settings: Settings, client: Client) -> AsyncIterator[ShopDatabase]:
    """A second handle on the test's database, to check what the tools wrote."""
    handle = await open_database(settings.db_path, settings.db_url, create=False)
    yield handle
    await handle.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shopdesk",
            "serve",
            "--transport",
            "http",
            "--port",
            str(port),
            "--db",
            str(tmp_path / "http.sqlite3"),
        ],
        env=server_env(),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until_listening(port, process)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    """Block until the server accepts connections (readiness, not timing: gives up after 30 s)."""
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                return
        except OSError:
            try:
                process.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                pass
    raise TimeoutError("server did not start listening")
