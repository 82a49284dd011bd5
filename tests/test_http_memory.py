"""After an HTTP session ends, nothing of it is kept: its transport is collected (server/transport/memory.py gives the
allocators' free pages back; bench/http_memory.py measures the process's size)."""

from __future__ import annotations

import asyncio
import gc
import json
import weakref
from pathlib import Path

import httpx2
import uvicorn
from conftest import free_port
from http_support import INITIALIZE, MCP_HEADERS, copy_shop

from shopdesk.app import build_server
from shopdesk.settings import Settings
from shopdesk.transport.serve import http_app, listening_socket


async def collected(ref: weakref.ref[object], turns: int = 2_000) -> bool:
    """Whether `ref`'s object is collected once the session's task has wound down: the event loop is given turns
    (not time) until it is, at most `turns` of them."""
    for turn in range(turns):
        if turn % 20 == 0:
            gc.collect()
            if ref() is None:
                return True
        await asyncio.sleep(0)
    return False


async def test_a_session_ended_by_delete_leaves_nothing_of_it_behind(tmp_path: Path, tau2_template: Path) -> None:
    settings = Settings(db_path=copy_shop(tau2_template, tmp_path), port=free_port(), auth_file=None)
    server = build_server(settings)
    http = uvicorn.Server(uvicorn.Config(http_app(server, settings), log_level="warning", log_config=None))
    serving = asyncio.create_task(http.serve(sockets=[listening_socket("127.0.0.1", settings.port)]))
    try:
        url = f"http://127.0.0.1:{settings.port}/mcp"
        async with httpx2.AsyncClient(timeout=30) as client:
            while not http.started:  # the task above starts it; this waits for it, not for a time
                await asyncio.sleep(0)
            opened = await client.post(url, headers=MCP_HEADERS, content=json.dumps(INITIALIZE))
            session_id = opened.headers["mcp-session-id"]
            # The SDK's own table of sessions, read only to hold a weak reference to this one's transport.
            transport = weakref.ref(server.session_manager._server_instances[session_id])
            ended = await client.delete(
                url, headers={"mcp-session-id": session_id, "mcp-protocol-version": "2025-06-18"}
            )
            assert ended.status_code == 200
        assert await collected(transport)
    finally:
        http.should_exit = True
        await serving
