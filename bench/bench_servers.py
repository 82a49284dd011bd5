"""Starting the servers the bench measures: the SDK floor (bench/floor_server.py) and `shopdesk serve`, over
stdio or HTTP, each with a raw session."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2
from bench_clients import CallFailed, HttpSession, RawSession, StdioSession

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env() -> dict[str, str]:
    """This checkout importable; no SHOPDESK_* setting of the machine running the bench, so every server runs
    with its defaults (shopdesk logs a line per call at INFO, to a file here)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPDESK_")}
    return {**env, "PYTHONPATH": str(ROOT)}


def floor_command(port: int | None) -> list[str]:
    return [PYTHON, str(BENCH / "floor_server.py")] + ([] if port is None else ["--port", str(port)])


def shop_command(db: Path | str, confirm: str, port: int | None, *, stateless: bool = False) -> list[str]:
    command = [PYTHON, "-m", "shopdesk", "serve", "--db", str(db), "--confirm", confirm]
    command += [] if port is None else ["--transport", "http", "--port", str(port)]
    return command + (["--stateless"] if stateless else [])


@dataclass
class Running:
    """A server process and a raw session with it."""

    process: asyncio.subprocess.Process
    session: RawSession
    startup: float  # seconds from process start until initialize and the first tools/list answered
    http: httpx2.AsyncClient | None = None
    url: str = ""

    def memory(self) -> dict[str, float]:
        """VmRSS and VmHWM in MB."""
        found: dict[str, float] = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) / 1024
        return found

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.session.close(), 5)
        except Exception:  # noqa: BLE001 - stopping anyway
            pass
        if self.http is not None:
            await self.http.aclose()
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def start(command: list[str], transport: str, port: int | None, log: Path) -> Running:
    with open(log, "ab") as stderr:
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE if transport == "stdio" else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE if transport == "stdio" else asyncio.subprocess.DEVNULL,
            stderr=stderr,
            cwd=ROOT,
            env=server_env(),
            limit=64 * 1024 * 1024,
        )
    try:
        if transport == "stdio":
            session: RawSession = StdioSession(process)
            await session.initialize()
            await session.request("tools/list")
            return Running(process, session, time.perf_counter() - started)
        url = f"http://127.0.0.1:{port}/mcp"
        http = httpx2.AsyncClient(timeout=60)
        deadline = started + 120
        while True:
            session = HttpSession(url, http)
            try:
                await session.initialize()
                break
            except (httpx2.TransportError, CallFailed):
                if process.returncode is not None or time.perf_counter() > deadline:
                    raise RuntimeError(f"{command} did not start; see {log}") from None
                await asyncio.sleep(0.01)
        await session.request("tools/list")
        return Running(process, session, time.perf_counter() - started, http, url)
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
