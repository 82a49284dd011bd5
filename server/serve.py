"""Running the server on a transport: stdio (what Claude Desktop launches) or Streamable HTTP."""

from __future__ import annotations

import asyncio
import errno
import functools
import logging
import socket
from typing import Literal

import anyio
import uvicorn

from .app import build_server
from .settings import Settings, SettingsError
from .shop import open_or_create

log = logging.getLogger("shopdesk")


async def _prepare(settings: Settings) -> None:
    """Open (creating and seeding on first start) and close the database, so a missing or corrupt
    file is reported before any client connects."""
    db = await open_or_create(settings)
    await db.close()


def serve(settings: Settings, *, transport: Literal["stdio", "http"], host: str, port: int) -> None:
    asyncio.run(_prepare(settings))
    server = build_server(settings)
    if transport == "stdio":
        log.info("serving %s over stdio", settings.db_path)
        anyio.run(server.run_stdio_async)
        return
    # Bound here rather than by uvicorn, so that a port in use is an OSError the CLI reports in one line.
    try:
        sock = socket.create_server((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise SettingsError(f"port {port} on {host} is already in use; choose another --port") from exc
        raise SettingsError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    app = server.streamable_http_app(host=host)
    log.info("serving %s on http://%s:%d/mcp", settings.db_path, host, port)
    config = uvicorn.Config(app, log_level="warning", log_config=None)
    anyio.run(functools.partial(uvicorn.Server(config).serve, sockets=[sock]))
