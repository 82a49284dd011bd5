"""Fixtures: every test gets a fresh server on a fresh database file."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from shop_support import connected, server_env, tau2_text

from server.app import build_server
from server.db import Database
from server.settings import Settings
from server.tau2 import import_into


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


@pytest.fixture
def settings(tmp_path: Path, tau2_template: Path) -> Settings:
    """Settings for a fresh copy of the τ² shop."""
    path = tmp_path / "shop.sqlite3"
    shutil.copy(tau2_template, path)
    return Settings(db_path=path)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Client]:
    async with connected(build_server(settings)) as c:
        yield c


@pytest.fixture
async def db(settings: Settings, client: Client) -> AsyncIterator[Database]:
    """A second handle on the test's database, to check what the tools wrote."""
    handle = await Database.open(settings.db_path, create=False)
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
            "server",
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
