"""shopdesk's tools next to the MCP SDK's floor, side by side in one run, over stdio and Streamable HTTP.

    .venv/bin/pip install -e '.[bench]'                     # matplotlib, for the chart (optional)
    .venv/bin/python bench/mcp_bench.py                      # 1k, 100k and 1M orders (1M: minutes, once)
    .venv/bin/python bench/mcp_bench.py --sizes 1k,100k      # a quicker run
    .venv/bin/python bench/mcp_bench.py --sizes tiny --calls 5 --no-chart   # a smoke run (what the test does)

What it measures, per shop size:

- latency (p50, p99) and calls/s of each tool, one call after another, from a raw JSON-RPC client (no SDK
  client, so its costs are not counted) over stdio (a subprocess) and over Streamable HTTP, against the
  floor: a bare SDK server with one no-op tool (bench/floor_server.py), run as its own process the same
  way. Rounds of every case are interleaved so machine noise hits all alike; the ratio is the tool's p50
  over the floor's p50 in the same run, size and transport. The tools: get_order_details,
  get_user_details, search_orders (a status filter) and its next page, search_customers (a common name
  prefix), list_tickets, and a write, modify_pending_order_address on distinct pending orders, plain, with
  an idempotency key, and confirmed (`--confirm always`: a first call answered with a token, the same call
  again with the token, timed as one operation). Writes commit with synchronous=FULL, the default;
- start-up: process start until `initialize` has answered and the first tools/list returned (stdio);
- memory: the server's VmRSS (and peak, VmHWM) after the calls;
- 50 concurrent HTTP sessions (each its own initialize), get_order_details against the floor's no-op,
  in alternating phases: throughput ratio and errors;
- what the SDK's Python client (`mcp.Client`, over stdio) pays to validate each result against the tool's
  output schema: the same calls with its validation on and off;
- the time to generate each shop (`shopdesk init`), once: shops are kept in bench/.shops/ (git-ignored)
  with the time it took, so later runs skip it. The calls run on a scratch copy, so the kept shop stays
  as generated.

It prints a table, writes JSON (--json) and draws the p50 ratios by tool and shop size (--chart, needs
matplotlib). Timings depend on the machine: compare ratios, and run it twice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
PROTOCOL = "2025-11-25"
FLOOR = "floor (no-op)"

# name -> (customers, orders)
SIZES: dict[str, tuple[int, int]] = {
    "tiny": (60, 200),
    "1k": (500, 1_000),
    "100k": (20_000, 100_000),
    "1m": (200_000, 1_000_000),
}
TOOL_CASES = (
    "get_order_details",
    "get_user_details",
    "search_orders",
    "search_orders_next",
    "search_customers",
    "list_tickets",
    "write",
    "write_key",
    "write_confirmed",
)
STATUSES = ("pending", "processed", "delivered", "cancelled")


class CallFailed(RuntimeError):
    """A JSON-RPC error, or a tool result with isError."""


# --- raw JSON-RPC clients -------------------------------------------------------------------------------


class RawSession:
    """One MCP session spoken as plain JSON-RPC: initialize, then requests."""

    def __init__(self) -> None:
        self._next_id = 0

    def _message(self, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self._next_id, "method": method}
        if params is not None:
            message["params"] = params
        return message

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        raise NotImplementedError

    async def notify(self, method: str) -> None:
        raise NotImplementedError

    async def initialize(self) -> None:
        await self.request(
            "initialize",
            {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "mcp_bench", "version": "1"}},
        )
        await self.notify("notifications/initialized")

    async def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """A tools/call; its result, or CallFailed when the tool answered isError."""
        result = await self.request("tools/call", {"name": tool, "arguments": arguments})
        if result.get("isError"):
            text = " ".join(part.get("text", "") for part in result.get("content", []))
            raise CallFailed(text)
        return result

    async def close(self) -> None:
        pass


def _answer(message: dict[str, Any]) -> dict[str, Any]:
    if "error" in message:
        raise CallFailed(json.dumps(message["error"])[:300])
    result: dict[str, Any] = message["result"]
    return result


class StdioSession(RawSession):
    """A server subprocess speaking newline-delimited JSON-RPC on its stdin and stdout."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        super().__init__()
        self.process = process
        assert process.stdin is not None and process.stdout is not None
        self._in, self._out = process.stdin, process.stdout

    async def _send(self, message: dict[str, Any]) -> None:
        self._in.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        await self._in.drain()

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        message = self._message(method, params)
        await self._send(message)
        while True:
            line = await self._out.readline()
            if not line:
                raise CallFailed(f"the server closed its output (exit code {await self.process.wait()})")
            reply = json.loads(line)
            if reply.get("id") == message["id"] and ("result" in reply or "error" in reply):
                return _answer(reply)
            # Anything else (a log notification, say) is not this call's answer.

    async def notify(self, method: str) -> None:
        await self._send({"jsonrpc": "2.0", "method": method})

    async def close(self) -> None:
        self._in.close()


class HttpSession(RawSession):
    """Streamable HTTP: each request a POST to /mcp with the session's header; the answer JSON or SSE."""

    def __init__(self, url: str, http: httpx2.AsyncClient) -> None:
        super().__init__()
        self.url, self.http = url, http
        self.headers = {"content-type": "application/json", "accept": "application/json, text/event-stream"}

    async def _post(self, message: dict[str, Any]) -> httpx2.Response:
        response = await self.http.post(self.url, headers=self.headers, content=json.dumps(message).encode())
        if response.status_code >= 400:
            raise CallFailed(f"HTTP {response.status_code}: {response.text[:200]}")
        return response

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        message = self._message(method, params)
        response = await self._post(message)
        if "mcp-session-id" in response.headers:
            self.headers["mcp-session-id"] = response.headers["mcp-session-id"]
            self.headers["mcp-protocol-version"] = PROTOCOL
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            for line in response.text.splitlines():
                if line.startswith("data:") and line[5:].strip():
                    reply = json.loads(line[5:])
                    if reply.get("id") == message["id"]:
                        return _answer(reply)
            raise CallFailed(f"no answer to {method} in the event stream")
        return _answer(response.json())

    async def notify(self, method: str) -> None:
        await self._post({"jsonrpc": "2.0", "method": method})

    async def close(self) -> None:
        if "mcp-session-id" in self.headers:
            await self.http.delete(self.url, headers=self.headers)


# --- server processes -------------------------------------------------------------------------------------


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


def shop_command(db: Path, confirm: str, port: int | None) -> list[str]:
    command = [PYTHON, "-m", "server", "serve", "--db", str(db), "--confirm", confirm]
    return command + ([] if port is None else ["--transport", "http", "--port", str(port)])


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


# --- shops ------------------------------------------------------------------------------------------------


def shop(size: str, folder: Path) -> tuple[Path, dict[str, Any]]:
    """The generated shop of this size, made (and timed) on first use; its file and how it was made."""
    customers, orders = SIZES[size]
    path, about_path = folder / f"{size}.sqlite3", folder / f"{size}.json"
    if path.exists() and about_path.exists():
        about: dict[str, Any] = json.loads(about_path.read_text())
        if about.get("customers") == customers and about.get("orders") == orders:
            return path, about
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{size}.partial.sqlite3"
    for leftover in (path, partial):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{leftover}{suffix}").unlink(missing_ok=True)
    print(f"generating the {size} shop ({customers:,} customers, {orders:,} orders) ...", file=sys.stderr)
    command = [PYTHON, "-m", "server", "init", "--db", str(partial), "--customers", str(customers)]
    started = time.perf_counter()
    subprocess.run(command + ["--orders", str(orders)], cwd=ROOT, env=server_env(), check=True, stdout=sys.stderr)
    seconds = time.perf_counter() - started
    partial.rename(path)
    about = {"customers": customers, "orders": orders, "generate_s": round(seconds, 2), "cpus": os.cpu_count()}
    about_path.write_text(json.dumps(about) + "\n")
    return path, about


def scratch_copy(path: Path, folder: Path) -> Path:
    copy = folder / path.name
    shutil.copy(path, copy)
    for suffix in ("-wal", "-shm"):
        if Path(f"{path}{suffix}").exists():
            shutil.copy(f"{path}{suffix}", f"{copy}{suffix}")
    return copy


@dataclass
class Samples:
    orders: list[str]
    users: list[str]
    pending: list[str]
    name_prefixes: list[str]


def samples(db: Path, count: int, rng: random.Random) -> Samples:
    """Random order and user ids, distinct pending orders, and common name prefixes, read from the file."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:

        def pick(table: str, column: str, n: int, where: str = "1") -> list[str]:
            top = conn.execute(f"SELECT max(id) FROM {table}").fetchone()[0] or 0
            found: dict[str, None] = {}
            for _ in range(n * 50):
                if len(found) == n:
                    break
                row = conn.execute(
                    f"SELECT {column} FROM {table} WHERE id = ? AND {where}", (rng.randint(1, top),)
                ).fetchone()
                if row is not None:
                    found[row[0]] = None
            return list(found)

        common = conn.execute(
            "SELECT first_name FROM customers GROUP BY first_name ORDER BY count(*) DESC LIMIT 4"
        ).fetchall()
        return Samples(
            orders=pick("orders", "order_id", count),
            users=pick("customers", "user_id", count),
            pending=pick("orders", "order_id", count, "status = 'pending'"),
            name_prefixes=[row[0][:3] for row in common],
        )
    finally:
        conn.close()


# --- timing -----------------------------------------------------------------------------------------------

Call = Callable[[int], Awaitable[None]]


def figures(times: list[float]) -> dict[str, float]:
    """p50 and p99 in ms, and calls/s one after another."""
    if len(times) == 1:
        times = times * 2
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return {"p50_ms": cuts[49] * 1000, "p99_ms": cuts[98] * 1000, "calls_per_s": len(times) / sum(times)}


async def interleaved(cases: dict[str, Call], calls: int, rounds: int, warmup: int) -> dict[str, list[float]]:
    """Each case's call `calls` times, in `rounds` rounds that visit every case (in a rotating order)."""
    names = list(cases)
    for name in names:
        for n in range(warmup):
            await cases[name](-1 - n)
    times: dict[str, list[float]] = {name: [] for name in names}
    per_round = max(1, calls // rounds)
    counter = 0
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            for _ in range(per_round):
                counter += 1
                started = time.perf_counter()
                await cases[name](counter)
                times[name].append(time.perf_counter() - started)
    return times


def address(n: int, run: str) -> dict[str, str]:
    return {
        "address1": f"{n} Bench Road ({run})",
        "address2": "",
        "city": "Austin",
        "state": "TX",
        "country": "USA",
        "zip": "78701",
    }


TOKEN = re.compile(r"confirmation_token='([^']+)'")


def tool_cases(
    floor: RawSession, shop: RawSession, confirming: RawSession, found: Samples, cursors: dict[str, str], run: str
) -> dict[str, Call]:
    """The calls of one transport, each taking a call number (negative during warm-up)."""

    def nth(values: list[str], n: int) -> str:
        return values[n % len(values)]

    async def noop(n: int) -> None:
        await floor.call("noop", {"order_id": nth(found.orders, n)})

    async def order(n: int) -> None:
        await shop.call("get_order_details", {"order_id": nth(found.orders, n)})

    async def user(n: int) -> None:
        await shop.call("get_user_details", {"user_id": nth(found.users, n)})

    async def search(n: int) -> None:
        await shop.call("search_orders", {"status": nth(list(STATUSES), n)})

    async def next_page(n: int) -> None:
        status = nth(list(cursors), n)
        await shop.call("search_orders", {"status": status, "cursor": cursors[status]})

    async def customers(n: int) -> None:
        await shop.call("search_customers", {"name": nth(found.name_prefixes, n)})

    async def tickets(n: int) -> None:
        await shop.call("list_tickets", {})

    # Each write changes a pending order's address to one it has not had (the number is new each call).
    async def write(n: int) -> None:
        await shop.call("modify_pending_order_address", {"order_id": nth(found.pending, n), **address(n, run)})

    async def write_key(n: int) -> None:
        arguments = {"order_id": nth(found.pending, n), **address(n, f"{run}-k")}
        await shop.call("modify_pending_order_address", {**arguments, "idempotency_key": f"{run}-k-{n}"})

    async def write_confirmed(n: int) -> None:
        arguments = {
            "order_id": nth(found.pending, n),
            **address(n, f"{run}-c"),
            "idempotency_key": f"{run}-c-{n}",
        }
        try:
            await confirming.call("modify_pending_order_address", arguments)
        except CallFailed as exc:
            token = TOKEN.search(str(exc))
            if token is None:
                raise
            await confirming.call("modify_pending_order_address", {**arguments, "confirmation_token": token[1]})
        else:
            raise CallFailed("--confirm always wrote without asking")

    return dict(
        zip(
            (FLOOR, *TOOL_CASES),
            (noop, order, user, search, next_page, customers, tickets, write, write_key, write_confirmed),
            strict=True,
        )
    )


async def prepare(shop: RawSession, found: Samples, tickets: int) -> dict[str, str]:
    """Open some tickets (a fresh shop has none), and the next-page cursor of each status's search."""
    for n in range(tickets):
        arguments = {"user_id": found.users[n % len(found.users)], "subject": f"Bench {n}", "message": "Hello"}
        await shop.call("create_ticket", arguments)
    cursors: dict[str, str] = {}
    for status in STATUSES:
        page = await shop.call("search_orders", {"status": status})
        cursor = (page.get("structuredContent") or {}).get("next_cursor")
        if cursor:
            cursors[status] = cursor
    if not cursors:
        raise RuntimeError("no search_orders status has a second page; use a bigger shop")
    return cursors


# --- the parts of a run -----------------------------------------------------------------------------------


@dataclass
class Options:
    calls: int
    rounds: int
    warmup: int
    concurrency: int
    concurrent_seconds: float
    sdk_calls: int
    starts: int
    logs: Path


@dataclass
class SizeResult:
    latency: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)  # transport -> case -> figures
    startup_s: dict[str, dict[str, float]] = field(default_factory=dict)
    memory_mb: dict[str, float] = field(default_factory=dict)
    concurrent: dict[str, Any] = field(default_factory=dict)
    sdk_client: dict[str, Any] = field(default_factory=dict)


async def transport_run(
    transport: str, db: Path, found: Samples, options: Options, result: SizeResult, run: str
) -> None:
    ports = [free_port() if transport == "http" else None for _ in range(3)]
    log = options.logs / f"{db.stem}-{transport}.log"
    floor = await start(floor_command(ports[0]), transport, ports[0], log)
    shop = await start(shop_command(db, "off", ports[1]), transport, ports[1], log)
    confirming = await start(shop_command(db, "always", ports[2]), transport, ports[2], log)
    try:
        cursors = await prepare(shop.session, found, tickets=60)
        cases = tool_cases(floor.session, shop.session, confirming.session, found, cursors, f"{run}-{transport}")
        times = await interleaved(cases, options.calls, options.rounds, options.warmup)
        floor_p50 = figures(times[FLOOR])["p50_ms"]
        result.latency[transport] = {}
        for name, case_times in times.items():
            result.latency[transport][name] = {**figures(case_times), "calls": len(case_times)}
            result.latency[transport][name]["ratio"] = result.latency[transport][name]["p50_ms"] / floor_p50
        if transport == "stdio":
            result.memory_mb = {"shopdesk": shop.memory().get("VmRSS", 0), "floor": floor.memory().get("VmRSS", 0)}
            result.memory_mb["shopdesk_peak"] = shop.memory().get("VmHWM", 0)
        result.startup_s.setdefault(transport, {})["shopdesk_first"] = shop.startup
        if transport == "http" and options.concurrency:
            result.concurrent = await concurrent_run(floor.url, shop.url, found, options)
    finally:
        for server in (confirming, shop, floor):
            await server.stop()


async def startup_run(db: Path, options: Options, result: SizeResult) -> None:
    """Start-up over stdio, a few times each, floor and shopdesk alternately: the median."""
    log = options.logs / f"{db.stem}-startup.log"
    measured: dict[str, list[float]] = {"shopdesk": [], "floor": []}
    for _ in range(options.starts):
        for name, command in (("floor", floor_command(None)), ("shopdesk", shop_command(db, "off", None))):
            server = await start(command, "stdio", None, log)
            measured[name].append(server.startup)
            await server.stop()
    result.startup_s["stdio"] = {
        **result.startup_s.get("stdio", {}),
        "shopdesk": statistics.median(measured["shopdesk"]),
        "floor": statistics.median(measured["floor"]),
    }


async def load(url: str, tool: str, ids: list[str], sessions: int, seconds: float) -> dict[str, Any]:
    """`sessions` HTTP sessions calling `tool` as fast as they can for `seconds`: calls, errors, latency."""
    limits = httpx2.Limits(max_connections=sessions + 10, max_keepalive_connections=sessions + 10)
    async with httpx2.AsyncClient(timeout=60, limits=limits) as http:
        clients = [HttpSession(url, http) for _ in range(sessions)]
        await asyncio.gather(*(c.initialize() for c in clients))
        times: list[float] = []
        errors: list[str] = []
        deadline = time.perf_counter() + seconds

        async def worker(n: int, client: HttpSession) -> None:
            while time.perf_counter() < deadline:
                n += sessions
                started = time.perf_counter()
                try:
                    await client.call(tool, {"order_id": ids[n % len(ids)]})
                    times.append(time.perf_counter() - started)
                except (CallFailed, httpx2.HTTPError) as exc:
                    errors.append(str(exc)[:200])

        started = time.perf_counter()
        await asyncio.gather(*(worker(n, c) for n, c in enumerate(clients)))
        elapsed = time.perf_counter() - started
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    return {
        "calls": len(times),
        "errors": len(errors),
        "elapsed_s": elapsed,
        "times": times,
        "first_errors": errors[:3],
    }


async def concurrent_run(floor_url: str, shop_url: str, found: Samples, options: Options) -> dict[str, Any]:
    """Floor and shopdesk under the same load, in alternating phases (floor, shop, shop, floor)."""
    phases = (("floor", floor_url, "noop"), ("shopdesk", shop_url, "get_order_details"))
    totals: dict[str, dict[str, Any]] = {
        name: {"calls": 0, "errors": 0, "elapsed_s": 0.0, "times": []} for name, *_ in phases
    }
    first_errors: list[str] = []
    for name, url, tool in (*phases, *reversed(phases)):
        measured = await load(url, tool, found.orders, options.concurrency, options.concurrent_seconds / 2)
        for key in ("calls", "errors", "elapsed_s", "times"):
            totals[name][key] += measured[key]
        first_errors += measured["first_errors"]
    out: dict[str, Any] = {"sessions": options.concurrency, "seconds_each": options.concurrent_seconds}
    for name, total in totals.items():
        out[name] = {
            "calls_per_s": total["calls"] / total["elapsed_s"],
            "errors": total["errors"],
            "calls": total["calls"],
            **({k: v for k, v in figures(total["times"]).items() if k != "calls_per_s"} if total["times"] else {}),
        }
    out["throughput_ratio"] = out["shopdesk"]["calls_per_s"] / out["floor"]["calls_per_s"]
    out["first_errors"] = first_errors[:3]
    return out


async def sdk_client_run(db: Path, found: Samples, options: Options) -> dict[str, Any]:
    """`mcp.Client` over stdio, validation on and off, against the floor through the same client."""
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters, stdio_client

    env = server_env()
    floor_params = StdioServerParameters(command=PYTHON, args=floor_command(None)[1:], env=env, cwd=ROOT)
    shop_params = StdioServerParameters(command=PYTHON, args=shop_command(db, "off", None)[1:], env=env, cwd=ROOT)
    with open(options.logs / f"{db.stem}-sdk.log", "a") as log:
        return await _sdk_client_calls(
            Client(stdio_client(floor_params, errlog=log)),
            Client(stdio_client(shop_params, errlog=log)),
            found,
            options,
        )


async def _sdk_client_calls(floor_client: Any, shop_client: Any, found: Samples, options: Options) -> dict[str, Any]:
    from mcp import Client

    async with floor_client as floor, shop_client as shop:
        await floor.list_tools()
        await shop.list_tools()

        async def skip(name: str, result: Any) -> None:
            return None

        def setter(client: Client, on: bool) -> None:
            # The SDK has no switch for it: off, this session's own validation step is shadowed by a no-op.
            if on:
                vars(client.session).pop("validate_tool_result", None)
            else:
                client.session.validate_tool_result = skip  # type: ignore[method-assign]

        calls: dict[str, tuple[Client, str, Callable[[int], dict[str, Any]]]] = {
            FLOOR: (floor, "noop", lambda n: {"order_id": found.orders[n % len(found.orders)]}),
            "get_order_details": (
                shop,
                "get_order_details",
                lambda n: {"order_id": found.orders[n % len(found.orders)]},
            ),
            "get_user_details": (shop, "get_user_details", lambda n: {"user_id": found.users[n % len(found.users)]}),
            "search_orders": (shop, "search_orders", lambda n: {"status": STATUSES[n % len(STATUSES)]}),
        }
        cases: dict[str, Call] = {}
        for name, (client, tool, arguments) in calls.items():
            for on in (True, False):

                async def call(
                    n: int, client: Client = client, tool: str = tool, on: bool = on, arguments: Any = arguments
                ) -> None:
                    setter(client, on)
                    result = await client.call_tool(tool, arguments(n))
                    if result.is_error:
                        raise CallFailed(str(result.content)[:200])

                cases[f"{name}|{'validated' if on else 'unvalidated'}"] = call
        times = await interleaved(cases, options.sdk_calls, options.rounds, options.warmup)
        for client in (floor, shop):
            setter(client, True)
    floor_p50 = figures(times[f"{FLOOR}|validated"])["p50_ms"]
    out: dict[str, Any] = {}
    for name in calls:
        validated = figures(times[f"{name}|validated"])["p50_ms"]
        unvalidated = figures(times[f"{name}|unvalidated"])["p50_ms"]
        out[name] = {
            "validated_p50_ms": validated,
            "unvalidated_p50_ms": unvalidated,
            "validation_us": (validated - unvalidated) * 1000,  # the difference of the medians
            "validation_ratio": validated / unvalidated,
            "ratio_to_floor": validated / floor_p50,
        }
    return out


async def size_run(
    size: str, args: argparse.Namespace, options: Options, scratch: Path
) -> tuple[dict[str, Any], SizeResult]:
    path, about = shop(size, args.shops)
    db = scratch_copy(path, scratch)
    rng = random.Random(size)
    found = samples(db, max(50, min(2000, args.calls * 2)), rng)
    result = SizeResult()
    run = f"{int(time.time())}-{size}"
    print(f"[{size}] start-up ...", file=sys.stderr)
    await startup_run(db, options, result)
    for transport in args.transports:
        print(f"[{size}] {transport}: {len(TOOL_CASES) + 1} cases x {args.calls} calls ...", file=sys.stderr)
        await transport_run(transport, db, found, options, result, run)
    if args.sdk_calls:
        print(f"[{size}] SDK client validation ...", file=sys.stderr)
        result.sdk_client = await sdk_client_run(db, found, options)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return about, result


# --- output -----------------------------------------------------------------------------------------------


def table(report: dict[str, Any]) -> str:
    lines: list[str] = []
    sizes = report["sizes"]
    for transport in report["transports"]:
        lines.append(f"\n{transport}: p50 ms / p99 ms / calls/s, and p50 ratio to the floor")
        header = f"{'case':<22}" + "".join(f"{size:>36}" for size in sizes)
        lines.append(header)
        for case in (FLOOR, *TOOL_CASES):
            row = f"{case:<22}"
            for size in sizes:
                f = sizes[size]["latency"].get(transport, {}).get(case)
                row += (
                    f"{f['p50_ms']:>9.2f}{f['p99_ms']:>9.2f}{f['calls_per_s']:>8.0f}{f['ratio']:>8.2f}x"
                    if f
                    else f"{'-':>36}"
                )
            lines.append(row)
    lines.append("\nper size")
    for size, s in sizes.items():
        start = s["startup_s"].get("stdio", {})
        memory = s["memory_mb"]
        lines.append(
            f"  {size}: {s['orders']:,} orders, generated in {s['generate_s']} s; "
            f"start-up {start.get('shopdesk', 0):.2f} s (floor {start.get('floor', 0):.2f} s); "
            f"RSS {memory.get('shopdesk', 0):.0f} MB (peak {memory.get('shopdesk_peak', 0):.0f}, "
            f"floor {memory.get('floor', 0):.0f})"
        )
        c = s.get("concurrent")
        if c:
            shopdesk, floor = c["shopdesk"], c["floor"]
            lines.append(
                f"    HTTP x{c['sessions']} sessions: shopdesk {shopdesk['calls_per_s']:.0f} calls/s, "
                f"floor {floor['calls_per_s']:.0f} calls/s, ratio {c['throughput_ratio']:.2f}; "
                f"errors {shopdesk['errors']} (floor {floor['errors']}); "
                f"p50/p99 {shopdesk.get('p50_ms', 0):.1f}/{shopdesk.get('p99_ms', 0):.1f} ms "
                f"(floor {floor.get('p50_ms', 0):.1f}/{floor.get('p99_ms', 0):.1f})"
            )
        for case, v in s.get("sdk_client", {}).items():
            lines.append(
                f"    mcp.Client {case:<18} p50 validated {v['validated_p50_ms']:.2f} ms, "
                f"unvalidated {v['unvalidated_p50_ms']:.2f} ms; validation {v['validation_us']:.0f} us "
                f"({v['validation_ratio']:.2f}x); {v['ratio_to_floor']:.2f}x the floor"
            )
    return "\n".join(lines)


def chart(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = list(report["sizes"])
    transports = report["transports"]
    fig, axes = plt.subplots(1, len(transports), figsize=(7 * len(transports), 4.8), squeeze=False)
    width = 0.8 / max(1, len(sizes))
    for ax, transport in zip(axes[0], transports, strict=True):
        for i, size in enumerate(sizes):
            latency = report["sizes"][size]["latency"].get(transport, {})
            ratios = [latency.get(case, {}).get("ratio", 0) for case in TOOL_CASES]
            positions = [x + (i - (len(sizes) - 1) / 2) * width for x in range(len(TOOL_CASES))]
            ax.bar(positions, ratios, width, label=f"{report['sizes'][size]['orders']:,} orders")
        ax.axhline(1, color="black", linewidth=0.8)
        # The targets over a raw client: id lookups 1.2x, searches 2x, writes 3x.
        for target in (1.2, 2, 3):
            ax.axhline(target, color="grey", linewidth=0.7, linestyle="--")
        ax.set_xticks(range(len(TOOL_CASES)))
        ax.set_xticklabels(TOOL_CASES, rotation=35, ha="right", fontsize=8)
        ax.set_title(f"{transport}: p50 latency / the SDK floor's (dashed: targets 1.2x, 2x, 3x)", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("x the no-op tool on a bare SDK server, same transport")
    axes[0][0].legend()
    fig.suptitle(f"shopdesk {report['version']} ({report['machine']['cpus']} CPUs, {report['date']})", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]) if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sizes", default="1k,100k,1m", help=f"shop sizes, comma-separated, of {', '.join(SIZES)} (default 1k,100k,1m)"
    )
    parser.add_argument("--transports", default="stdio,http", help="stdio, http or both (default stdio,http)")
    parser.add_argument("--calls", type=int, default=500, help="timed calls per case, transport and size (default 500)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds the calls are split into (default 5)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed calls per case first (default 10)")
    parser.add_argument("--concurrency", type=int, default=50, help="HTTP sessions at once (default 50; 0: skip)")
    parser.add_argument(
        "--concurrent-seconds", type=float, default=6.0, help="seconds of load each for floor and shopdesk (default 6)"
    )
    parser.add_argument(
        "--sdk-calls", type=int, default=300, help="mcp.Client calls per case and mode (default 300; 0: skip)"
    )
    parser.add_argument(
        "--starts", type=int, default=3, help="start-ups timed per server and size; the median counts (default 3)"
    )
    parser.add_argument(
        "--shops", type=Path, default=BENCH / ".shops", help="where generated shops are kept (default bench/.shops)"
    )
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "latest.json", help="write the results here")
    parser.add_argument("--chart", type=Path, default=BENCH / "results" / "latency.png", help="draw the chart here")
    parser.add_argument("--no-chart", action="store_true", help="draw no chart")
    args = parser.parse_args(argv)
    args.sizes = [s.strip().lower() for s in args.sizes.split(",") if s.strip()]
    args.transports = [t.strip() for t in args.transports.split(",") if t.strip()]
    if unknown := [s for s in args.sizes if s not in SIZES]:
        parser.error(f"unknown size {unknown[0]!r}; choose from {', '.join(SIZES)}")
    if unknown := [t for t in args.transports if t not in ("stdio", "http")]:
        parser.error(f"unknown transport {unknown[0]!r}; choose stdio or http")
    if args.calls < 1 or args.rounds < 1:
        parser.error("--calls and --rounds must be at least 1")
    return args


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    from server import __version__

    report: dict[str, Any] = {
        "version": __version__,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_before": os.getloadavg()[0],
        },
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "transports": args.transports,
        "sizes": {},
    }
    with tempfile.TemporaryDirectory(prefix="shopdesk-bench-") as scratch_dir:
        scratch = Path(scratch_dir)
        options = Options(
            calls=args.calls,
            rounds=args.rounds,
            warmup=args.warmup,
            concurrency=args.concurrency if "http" in args.transports else 0,
            concurrent_seconds=args.concurrent_seconds,
            sdk_calls=args.sdk_calls,
            starts=args.starts,
            logs=scratch,
        )
        for size in args.sizes:
            about, result = await size_run(size, args, options, scratch)
            concurrent = result.concurrent
            for name in ("floor", "shopdesk"):
                concurrent.get(name, {}).pop("times", None)
            report["sizes"][size] = {
                "orders": about["orders"],
                "customers": about["customers"],
                "generate_s": about.get("generate_s"),
                "latency": result.latency,
                "startup_s": result.startup_s,
                "memory_mb": result.memory_mb,
                "concurrent": concurrent,
                "sdk_client": result.sdk_client,
            }
    report["machine"]["load_after"] = os.getloadavg()[0]
    return report


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.concurrency == 0 or "http" not in args.transports:
        args.concurrency = 0
    report = asyncio.run(bench(args))
    print(table(report))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nwrote {args.json}")
    if not args.no_chart:
        try:
            chart(report, args.chart)
            print(f"drew {args.chart}")
        except ImportError:
            print("no chart: matplotlib is not installed (pip install -e '.[bench]')", file=sys.stderr)


if __name__ == "__main__":
    main()
