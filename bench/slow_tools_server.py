"""The tool server for bench/demo_concurrency.py: one read-only tool that waits, and a log of what it saw.

    .venv/bin/python bench/slow_tools_server.py               # stdio (what the bench launches)

- `wait_ms(ms, label)`: waits `ms` milliseconds (asyncio.sleep) and returns `label`. Read-only, so the
  demo client runs it without asking anyone.
- `calls_seen()`: the `wait_ms` calls since the last `calls_seen`, as JSON, and clears them: each call's
  label and ms, and the most calls that were in flight at once in the server (`peak_in_flight`). How
  many overlapped is counted here, in the server, not inferred from client timings.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import anyio
from mcp.server import MCPServer
from mcp.types import ToolAnnotations

server = MCPServer("slow-tools", log_level="WARNING")  # no log line per request on the bench's terminal

seen: list[dict[str, Any]] = []
in_flight = 0
peak_in_flight = 0


@server.tool(annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True))
async def wait_ms(ms: int, label: str) -> str:
    """Wait `ms` milliseconds, then return `label`."""
    global in_flight, peak_in_flight
    seen.append({"label": label, "ms": ms})
    in_flight += 1
    peak_in_flight = max(peak_in_flight, in_flight)
    try:
        await asyncio.sleep(ms / 1000)
    finally:
        in_flight -= 1
    return label


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def calls_seen() -> str:
    """The wait_ms calls since the last calls_seen, and the most in flight at once; clears both."""
    global peak_in_flight
    report = json.dumps({"calls": list(seen), "peak_in_flight": peak_in_flight})
    seen.clear()
    peak_in_flight = in_flight
    return report


if __name__ == "__main__":
    anyio.run(server.run_stdio_async)
