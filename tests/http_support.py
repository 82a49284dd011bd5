"""Helpers for tests over real HTTP: a `shopdesk serve --transport http` subprocess and bearer-token sessions."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
from conftest import free_port, wait_until_listening
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from shop_support import connected, server_env

from shopdesk.writes.plans import REPLAY_META

# What a raw HTTP client sends to /mcp: the headers of every POST, and a first request that opens a session.
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
}


def env() -> dict[str, str]:
    """The server's environment, without any SHOPDESK_* setting of the machine running the tests."""
    return {k: v for k, v in server_env().items() if not k.startswith("SHOPDESK_")}


def copy_shop(tau2_template: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "shop.sqlite3"
    shutil.copy(tau2_template, path)
    return path


@dataclass
class Running:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    stderr_path: Path

    def stop(self) -> str:
        """Terminate the server; its whole stderr."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        return self.stderr_path.read_text(encoding="utf-8")


@contextmanager
def running(
    db: Path | str, *args: str, folder: Path | None = None, extra_env: dict[str, str] | None = None
) -> Iterator[Running]:
    """`shopdesk serve --transport http` on a free port, stderr kept in a file beside the database (or in
    `folder`, for a PostgreSQL URL); `extra_env` adds SHOPDESK_* settings to its clean environment."""
    port = free_port()
    folder = folder or Path(db).parent
    stderr_path = folder / f"stderr-{port}.txt"
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "shopdesk", "serve", "--transport", "http", "--port", str(port), "--db", str(db)]
            + list(args),
            env={**env(), **(extra_env or {})},
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    server = Running(f"http://127.0.0.1:{port}/mcp", port, process, stderr_path)
    try:
        try:
            wait_until_listening(port, process)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}{stderr_path.read_text(encoding='utf-8')}") from None
        yield server
    finally:
        server.stop()


@asynccontextmanager
async def session(url: str, token: str) -> AsyncIterator[Client]:
    """An MCP client on `url` that sends `token` as its bearer token."""
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http:
        async with connected(streamable_http_client(url, http_client=http)) as client:
            yield client


async def transfer_keyed(url: str, token: str, key: str) -> tuple[str, bool]:
    """transfer_to_human_agents with an idempotency key: the ticket it made, and whether it was a replay."""
    async with session(url, token) as client:
        arguments = {"summary": "Wants a person.", "idempotency_key": key}
        result = await client.call_tool("transfer_to_human_agents", arguments)
    assert not result.is_error and result.structured_content is not None
    return result.structured_content["ticket_id"], bool((result.meta or {}).get(REPLAY_META))
