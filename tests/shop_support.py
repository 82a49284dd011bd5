"""Helpers for the server tests: connect a client, call tools, snapshot the database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp import Client

from shopdesk.settings import Settings
from shopdesk.shopdata.tau2 import BUNDLED_DB, export, read_text
from shopdesk.storage.database import ShopDatabase, open_database

ROOT = Path(__file__).resolve().parents[1]
# The τ² retail shop the repository ships; tests read nothing outside the repository.
TAU2_DB = BUNDLED_DB


def tau2_text() -> str:
    return read_text(TAU2_DB)


def build_wheel(source: Path, out: Path) -> Path:
    """The wheel of the project at `source`, built offline with this venv's setuptools into `out`."""
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q"]
        + ["-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = out.glob("*.whl")
    return wheel


def db_arg(settings: Settings) -> str:
    """What `--db` takes for the test's shop: its file, or its PostgreSQL URL."""
    return settings.db_url or str(settings.db_path)


async def open_shop(settings: Settings) -> ShopDatabase:
    """Another handle on the test's shop, whichever database it is in."""
    return await open_database(settings.db_path, settings.db_url, create=False)


def server_env() -> dict[str, str]:
    """The environment for a server subprocess: this checkout's packages importable."""
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@asynccontextmanager
async def connected(target: Any, **options: Any) -> AsyncIterator[Client]:
    """A connected MCP client whose connection lives in one task of its own.

    The SDK's transports use anyio cancel scopes, which must be left by the task
    that entered them; pytest-asyncio tears fixtures down in another task, so the
    client is entered and left inside a helper task.
    """
    ready: asyncio.Future[Client] = asyncio.get_running_loop().create_future()
    done = asyncio.Event()

    async def hold() -> None:
        try:
            async with Client(target, **options) as c:
                ready.set_result(c)
                await done.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            raise

    task = asyncio.create_task(hold())
    try:
        yield await ready
    finally:
        done.set()
        await task


async def snapshot(db: ShopDatabase) -> dict[str, Any]:
    """Everything a tool could change: the τ²-format shop, tickets, messages, and the audit log of writes that
    happened (a refused, declined, replayed or no-op call leaves a row of its own, but changes nothing else)."""
    state = await export(db)
    for table, where, order in (
        ("tickets", "", "id"),
        ("ticket_messages", "", "id"),
        ("audit_log", "WHERE outcome = 'done'", "id"),
        ("idempotency_keys", "", "holder, key"),
    ):
        rows = await db.read.execute_fetchall(f"SELECT * FROM {table} {where} ORDER BY {order}")
        state[table] = [tuple(row) for row in rows]
    return state


async def call(client: Client, tool: str, **arguments: Any) -> Any:
    """Call a tool that must succeed; return its structured content."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text  # type: ignore[union-attr]
    return result.structured_content


async def refused(client: Client, tool: str, **arguments: Any) -> str:
    """Call a tool that must fail; return the error text the model reads."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, f"{tool} should have been refused: {result.structured_content}"
    return result.content[0].text  # type: ignore[union-attr]


def find_order(
    data: dict[str, Any],
    status: str,
    payment_source: str | None = None,
    *,
    min_items: int = 1,
    where: Callable[[dict[str, Any], dict[str, Any]], bool] = lambda order, user: True,
) -> dict[str, Any]:
    """The first τ² order with this status, first paid from this kind of method, for which `where(order, user)`."""
    for order in data["orders"].values():
        if order["status"] != status or len(order["items"]) < min_items:
            continue
        method = order["payment_history"][0]["payment_method_id"]
        if payment_source is not None and not method.startswith(payment_source):
            continue
        if where(order, data["users"][order["user_id"]]):
            return order
    raise LookupError(f"no {status} order paid by {payment_source} that fits")


def gift_cards(user: dict[str, Any], at_least: float = 0.0) -> list[dict[str, Any]]:
    return [m for m in user["payment_methods"].values() if m["source"] == "gift_card" and m["balance"] >= at_least]
