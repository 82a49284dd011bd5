"""Fixtures: every test gets a fresh server on a fresh database file."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from shop_support import TAU2_DB, connected

from server.app import build_server
from server.db import Database
from server.settings import Settings
from server.tau2 import import_into


@pytest.fixture(scope="session")
def tau2_data() -> dict[str, Any]:
    """The τ²-bench retail database, as published (read-only)."""
    return json.loads(TAU2_DB.read_text())


@pytest.fixture(scope="session")
def tau2_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "tau2.sqlite3"

    async def load() -> None:
        db = await Database.open(path)
        await import_into(db, TAU2_DB.read_text())
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
