"""Memory of a `shopdesk serve --transport http` process as sessions open and end.

Starts the server on a copy of the bundled τ² shop (with the PYTHONMALLOC this script is run with:
PYTHONMALLOC=malloc as the Dockerfile sets it, unset for CPython's default) and reads its resident set size
(VmRSS) at rest, with N sessions open (each initialized, one tool call made), after they are all ended
by DELETE, and after a second round, ended by DELETE again or, with --expire, by the idle timeout.
Prints the figures and their ratios to the resting size; asserts nothing.

    .venv/bin/python bench/http_memory.py --sessions 1000 [--expire]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parent.parent
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}},
}
CALL = {
    "jsonrpc": "2.0",
    "id": 2,
    "method": "tools/call",
    "params": {"name": "list_all_product_types", "arguments": {}},
}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def open_session(http: httpx2.AsyncClient, url: str) -> str:
    opened = await http.post(url, headers=HEADERS, content=json.dumps(INITIALIZE))
    opened.raise_for_status()
    session_id = opened.headers["mcp-session-id"]
    headers = {**HEADERS, "mcp-session-id": session_id, "mcp-protocol-version": "2025-06-18"}
    await http.post(url, headers=headers, content=json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    (await http.post(url, headers=headers, content=json.dumps(CALL))).raise_for_status()
    return session_id


async def open_many(url: str, n: int) -> list[str]:
    limits = httpx2.Limits(max_connections=50)
    async with httpx2.AsyncClient(timeout=60, limits=limits) as http:
        gate = asyncio.Semaphore(50)

        async def one() -> str:
            async with gate:
                return await open_session(http, url)

        return list(await asyncio.gather(*(one() for _ in range(n))))


async def delete_all(url: str, session_ids: list[str]) -> None:
    async with httpx2.AsyncClient(timeout=60, limits=httpx2.Limits(max_connections=50)) as http:
        gate = asyncio.Semaphore(50)

        async def one(session_id: str) -> None:
            async with gate:
                headers = {"mcp-session-id": session_id, "mcp-protocol-version": "2025-06-18"}
                await http.delete(url, headers=headers)

        await asyncio.gather(*(one(s) for s in session_ids))


def open_sessions(port: int) -> float:
    text = httpx2.get(f"http://127.0.0.1:{port}/metrics", timeout=30).text
    return next(float(line.split()[1]) for line in text.splitlines() if line.startswith("shopdesk_sessions_open "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--settle", type=float, default=12.0, help="seconds to let the server react before measuring")
    parser.add_argument("--expire", action="store_true", help="also measure sessions ended by the idle timeout")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "shop.sqlite3"
        subprocess.run(
            [sys.executable, "-m", "shopdesk", "import-tau2", "--db", str(db)],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPDESK_")}
        env["SHOPDESK_LOG_LEVEL"] = "WARNING"
        idle = "5" if args.expire else "600"
        command = [
            sys.executable,
            "-m",
            "shopdesk",
            "serve",
            "--transport",
            "http",
            "--port",
            str(port),
            "--db",
            str(db),
            "--max-sessions",
            str(args.sessions + 10),
            "--session-idle-timeout",
            idle,
        ]
        server = subprocess.Popen(command, cwd=ROOT, env=env)
        try:
            url = f"http://127.0.0.1:{port}/mcp"
            for _ in range(300):
                try:
                    httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx2.TransportError:
                    time.sleep(0.1)
            asyncio.run(open_many(url, 5))  # warm up: code paths loaded, caches filled
            asyncio.run(delete_all(url, []))
            figures = {"at rest": rss_mb(server.pid)}
            session_ids = asyncio.run(open_many(url, args.sessions))
            figures[f"{args.sessions} sessions open"] = rss_mb(server.pid)
            asyncio.run(delete_all(url, session_ids))
            time.sleep(args.settle)  # the server looks at its sessions every few seconds (server/transport/memory.py)
            figures["after DELETE of all"] = rss_mb(server.pid)
            session_ids = asyncio.run(open_many(url, args.sessions))
            figures[f"{args.sessions} open again"] = rss_mb(server.pid)
            if args.expire:
                while open_sessions(port) > 0:
                    time.sleep(0.5)
                time.sleep(args.settle)
                figures["after idle expiry of all"] = rss_mb(server.pid)
            else:
                asyncio.run(delete_all(url, session_ids))
                time.sleep(args.settle)
                figures["after DELETE again"] = rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    rest = figures["at rest"]
    for label, mb in figures.items():
        print(f"{label:>28}: {mb:7.1f} MB  ({mb / rest:.2f}x at rest)")


if __name__ == "__main__":
    main()
