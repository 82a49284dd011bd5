"""shopdesk's tools next to the MCP SDK's floor, side by side in one run, over stdio and Streamable HTTP.

    .venv/bin/pip install -e '.[bench]'                     # matplotlib, for the chart (optional)
    .venv/bin/python bench/mcp_bench.py                      # 1k, 100k and 1M orders (1M: minutes, once)
    .venv/bin/python bench/mcp_bench.py --sizes 1k,100k      # a quicker run
    .venv/bin/python bench/mcp_bench.py --sizes tiny --calls 5 --no-chart   # a smoke run (what the test does)
    .venv/bin/python bench/mcp_bench.py --sizes 1k,100k --backends sqlite,postgresql   # the shop in both

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

With `--backends sqlite,postgresql` every case runs with the shop in SQLite and in PostgreSQL, side by side:
one throwaway PostgreSQL server for the whole run (tests/pg_support.py: initdb into a temporary folder, on
127.0.0.1, with fsync and synchronous_commit off, as for the tests), one database per size filled with the
same generated shop as the SQLite file (`shopdesk init --db postgresql://...` with the same customers,
orders and seed; filled and timed afresh each run, nothing kept), and `shopdesk serve --db postgresql://...`
in place of the file. Both backends' servers run during the same interleaved rounds, against one floor per
transport. Over HTTP, PostgreSQL also gets a run with `--replicas` (default 2) `--stateless` servers sharing
the database, the concurrent sessions split across them round-robin, in the same alternating phases as the
floor and the single servers.

It prints a table, writes JSON (--json) and draws the p50 ratios by tool and shop size (--chart, needs
matplotlib). Timings depend on the machine: compare ratios, and run it twice.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
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
BACKENDS = ("sqlite", "postgresql")
REPLICAS = "replicas"  # the concurrent phase of the stateless PostgreSQL replicas

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
    command = [PYTHON, "-m", "shopdesk", "init", "--db", str(partial), "--customers", str(customers)]
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


Fetch = Callable[[str, tuple[Any, ...]], Awaitable[list[Any]]]


async def samples(fetch: Fetch, count: int, rng: random.Random) -> Samples:
    """Random order and user ids, distinct pending orders, and common name prefixes, read from the shop
    (`fetch` runs one query, `?` its one placeholder): the same shop and seed give the same samples."""

    async def pick(table: str, column: str, n: int, where: str = "TRUE") -> list[str]:
        top = (await fetch(f"SELECT max(id) FROM {table}", ()))[0][0] or 0
        found: dict[str, None] = {}
        for _ in range(n * 50):
            if len(found) == n:
                break
            rows = await fetch(f"SELECT {column} FROM {table} WHERE id = ? AND {where}", (rng.randint(1, top),))
            if rows:
                found[rows[0][0]] = None
        return list(found)

    common = await fetch(
        "SELECT first_name FROM customers GROUP BY first_name ORDER BY count(*) DESC, first_name LIMIT 4", ()
    )
    return Samples(
        orders=await pick("orders", "order_id", count),
        users=await pick("customers", "user_id", count),
        pending=await pick("orders", "order_id", count, "status = 'pending'"),
        name_prefixes=[row[0][:3] for row in common],
    )


FINGERPRINT = (
    "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM orders), (SELECT count(*) FROM order_items), "
    "(SELECT count(*) FROM orders WHERE status = 'pending'), (SELECT max(order_id) FROM orders), "
    "(SELECT max(user_id) FROM customers)"
)


async def sqlite_samples(db: Path, count: int, rng: random.Random) -> tuple[Samples, list[Any]]:
    """The samples and the fingerprint (counts, highest ids) of a shop file."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:

        async def fetch(sql: str, parameters: tuple[Any, ...]) -> list[Any]:
            return conn.execute(sql, parameters).fetchall()

        return await samples(fetch, count, rng), list((await fetch(FINGERPRINT, ()))[0])
    finally:
        conn.close()


async def postgres_samples(url: str, count: int, rng: random.Random) -> tuple[Samples, list[Any]]:
    """The same from a shop in PostgreSQL."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:

        async def fetch(sql: str, parameters: tuple[Any, ...]) -> list[Any]:
            return list(await conn.fetch(sql.replace("?", "$1"), *parameters))

        return await samples(fetch, count, rng), list((await fetch(FINGERPRINT, ()))[0])
    finally:
        await conn.close()


@dataclass
class Shop:
    """One backend's copy of a size's shop, for one run."""

    backend: str
    db: Path | str  # a scratch copy of the file, or a postgresql:// URL
    about: dict[str, Any]  # customers, orders, generate_s (for PostgreSQL: this run's fill)
    found: Samples
    name: str  # size-backend, for log file names


class PostgresShops:
    """The run's throwaway PostgreSQL server (tests/pg_support.py) and one database per size on it."""

    def __init__(self) -> None:
        self.server = pg_support().PostgresServer.start()
        self.version = ""

    async def _admin(self, *statements: str) -> str:
        import asyncpg

        conn = await asyncpg.connect(self.server.url())
        try:
            for statement in statements:
                await conn.execute(statement)
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()

    async def fill(self, size: str) -> tuple[str, dict[str, Any]]:
        """A new database holding the generated shop of this size, made with `shopdesk init` and timed."""
        customers, orders = SIZES[size]
        name = f"shop_{size}"
        self.version = await self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
        url = self.server.url(name)
        print(
            f"filling PostgreSQL with the {size} shop ({customers:,} customers, {orders:,} orders) ...", file=sys.stderr
        )
        command = [PYTHON, "-m", "shopdesk", "init", "--db", url, "--customers", str(customers)]
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            *command, "--orders", str(orders), cwd=ROOT, env=server_env(), stdout=sys.stderr
        )
        if await process.wait() != 0:
            raise RuntimeError(f"shopdesk init --db {url} failed (exit code {process.returncode})")
        seconds = time.perf_counter() - started
        return url, {"customers": customers, "orders": orders, "generate_s": round(seconds, 2), "cached": False}

    async def drop(self, url: str) -> None:
        await self._admin(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")

    def stop(self) -> None:
        self.server.stop()


def pg_support() -> Any:
    """tests/pg_support.py, which starts a throwaway PostgreSQL server."""
    if str(ROOT / "tests") not in sys.path:
        sys.path.insert(0, str(ROOT / "tests"))
    module = importlib.import_module("pg_support")

    return module


def postgres_unavailable() -> str | None:
    """Why this machine cannot run the postgresql backend, or None."""
    if importlib.util.find_spec("asyncpg") is None:
        return "asyncpg is not installed (pip install -e '.[postgres]')"
    reason: str | None = pg_support().unavailable_reason()
    return reason


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
    floor: RawSession,
    shop: RawSession,
    confirming: RawSession,
    found: Samples,
    cursors: dict[str, str],
    run: str,
    written: dict[str, str] | None = None,
) -> dict[str, Call]:
    """The calls of one transport, each taking a call number (negative during warm-up). `written`, if given,
    gets each written order's new first address line."""
    written = {} if written is None else written

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
        arguments = {"order_id": nth(found.pending, n), **address(n, run)}
        await shop.call("modify_pending_order_address", arguments)
        written[arguments["order_id"]] = arguments["address1"]

    async def write_key(n: int) -> None:
        arguments = {"order_id": nth(found.pending, n), **address(n, f"{run}-k")}
        await shop.call("modify_pending_order_address", {**arguments, "idempotency_key": f"{run}-k-{n}"})
        written[arguments["order_id"]] = arguments["address1"]

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
            written[arguments["order_id"]] = arguments["address1"]
        else:
            raise CallFailed("--confirm always wrote without asking")

    return dict(
        zip(
            (FLOOR, *TOOL_CASES),
            (noop, order, user, search, next_page, customers, tickets, write, write_key, write_confirmed),
            strict=True,
        )
    )


async def check_writes(shop: RawSession, written: dict[str, str], count: int = 5) -> int:
    """Read back the last few orders written: each must show the address it was last given. How many."""
    checked = list(written.items())[-count:]
    for order_id, address1 in checked:
        details = json.dumps(await shop.call("get_order_details", {"order_id": order_id}))
        if address1 not in details:
            raise CallFailed(f"{order_id} does not show its new address {address1!r} after the writes")
    return len(checked)


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
    replicas: int = 0


@dataclass
class SizeResult:
    latency: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)  # transport -> case -> figures
    startup_s: dict[str, dict[str, float]] = field(default_factory=dict)
    memory_mb: dict[str, float] = field(default_factory=dict)
    concurrent: dict[str, Any] = field(default_factory=dict)
    sdk_client: dict[str, Any] = field(default_factory=dict)
    replicas: dict[str, Any] = field(default_factory=dict)
    writes_checked: dict[str, int] = field(default_factory=dict)  # transport -> orders read back after the writes


async def transport_run(
    transport: str, shops: list[Shop], options: Options, results: dict[str, SizeResult], run: str
) -> None:
    """Every case of every backend over one transport, interleaved, against one floor."""
    http = transport == "http"
    log = options.logs / f"{shops[0].name}-{transport}.log"
    port = free_port() if http else None
    started: list[Running] = []
    try:
        floor = await start(floor_command(port), transport, port, log)
        started.append(floor)
        servers: dict[str, tuple[Running, Running]] = {}
        for shop in shops:
            ports = [free_port() if http else None for _ in range(2)]
            plain = await start(shop_command(shop.db, "off", ports[0]), transport, ports[0], log)
            started.append(plain)
            confirming = await start(shop_command(shop.db, "always", ports[1]), transport, ports[1], log)
            started.append(confirming)
            servers[shop.backend] = (plain, confirming)
        cases: dict[str, Call] = {}
        written: dict[str, dict[str, str]] = {shop.backend: {} for shop in shops}
        for shop in shops:
            plain, confirming = servers[shop.backend]
            cursors = await prepare(plain.session, shop.found, tickets=60)
            where = f"{run}-{transport}-{shop.backend}"
            for name, case in tool_cases(
                floor.session, plain.session, confirming.session, shop.found, cursors, where, written[shop.backend]
            ).items():
                if name != FLOOR:
                    cases[f"{shop.backend}|{name}"] = case
                elif not cases:
                    cases[FLOOR] = case
        times = await interleaved(cases, options.calls, options.rounds, options.warmup)
        floor_figures = {**figures(times[FLOOR]), "calls": len(times[FLOOR]), "ratio": 1.0}
        for shop in shops:
            result, (plain, _) = results[shop.backend], servers[shop.backend]
            latency: dict[str, dict[str, float]] = {FLOOR: dict(floor_figures)}
            for name in TOOL_CASES:
                case_times = times[f"{shop.backend}|{name}"]
                latency[name] = {**figures(case_times), "calls": len(case_times)}
                latency[name]["ratio"] = latency[name]["p50_ms"] / floor_figures["p50_ms"]
            result.latency[transport] = latency
            if not http:
                result.memory_mb = {"shopdesk": plain.memory().get("VmRSS", 0), "floor": floor.memory().get("VmRSS", 0)}
                result.memory_mb["shopdesk_peak"] = plain.memory().get("VmHWM", 0)
            result.startup_s.setdefault(transport, {})["shopdesk_first"] = plain.startup
            result.writes_checked[transport] = await check_writes(plain.session, written[shop.backend])
        if http and options.concurrency:
            targets = {shop.backend: [servers[shop.backend][0].url] for shop in shops}
            postgres = [shop for shop in shops if shop.backend == "postgresql"]
            if postgres and options.replicas:
                replicas = []
                for _ in range(options.replicas):
                    replica_port = free_port()
                    command = shop_command(postgres[0].db, "off", replica_port, stateless=True)
                    replica = await start(command, transport, replica_port, log)
                    started.append(replica)
                    replicas.append(replica.url)
                targets[REPLICAS] = replicas
            measured = await concurrent_run(floor.url, targets, shops[0].found, options)
            for shop in shops:
                results[shop.backend].concurrent = measured[shop.backend]
            if REPLICAS in measured:
                results["postgresql"].replicas = {"replicas": options.replicas, **measured[REPLICAS]}
    finally:
        for server in reversed(started):
            await server.stop()


async def startup_run(shops: list[Shop], options: Options, results: dict[str, SizeResult]) -> None:
    """Start-up over stdio, a few times each, floor and each backend's shopdesk in turn: the median."""
    log = options.logs / f"{shops[0].name}-startup.log"
    commands = {"floor": floor_command(None), **{shop.backend: shop_command(shop.db, "off", None) for shop in shops}}
    measured: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(options.starts):
        for name, command in commands.items():
            server = await start(command, "stdio", None, log)
            measured[name].append(server.startup)
            await server.stop()
    for shop in shops:
        result = results[shop.backend]
        result.startup_s["stdio"] = {
            **result.startup_s.get("stdio", {}),
            "shopdesk": statistics.median(measured[shop.backend]),
            "floor": statistics.median(measured["floor"]),
        }


async def load(urls: list[str], tool: str, ids: list[str], sessions: int, seconds: float) -> dict[str, Any]:
    """`sessions` HTTP sessions (spread over `urls` round-robin) calling `tool` as fast as they can for
    `seconds`: calls, errors, latency."""
    limits = httpx2.Limits(max_connections=sessions + 10, max_keepalive_connections=sessions + 10)
    async with httpx2.AsyncClient(timeout=60, limits=limits) as http:
        clients = [HttpSession(urls[n % len(urls)], http) for n in range(sessions)]
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


async def concurrent_run(
    floor_url: str, targets: dict[str, list[str]], found: Samples, options: Options
) -> dict[str, dict[str, Any]]:
    """The floor and each target (a backend's server, or the replicas) under the same load, in alternating
    phases (floor, a, b, b, a, floor); for each target, its figures next to the floor's."""
    phases = [("floor", [floor_url], "noop"), *((name, urls, "get_order_details") for name, urls in targets.items())]
    totals: dict[str, dict[str, Any]] = {
        name: {"calls": 0, "errors": 0, "elapsed_s": 0.0, "times": [], "first_errors": []} for name, *_ in phases
    }
    for name, urls, tool in (*phases, *reversed(phases)):
        measured = await load(urls, tool, found.orders, options.concurrency, options.concurrent_seconds / 2)
        for key in ("calls", "errors", "elapsed_s", "times", "first_errors"):
            totals[name][key] += measured[key]

    def summary(total: dict[str, Any]) -> dict[str, Any]:
        return {
            "calls_per_s": total["calls"] / total["elapsed_s"],
            "errors": total["errors"],
            "calls": total["calls"],
            **({k: v for k, v in figures(total["times"]).items() if k != "calls_per_s"} if total["times"] else {}),
        }

    floor = summary(totals["floor"])
    out: dict[str, dict[str, Any]] = {}
    for name in targets:
        shopdesk = summary(totals[name])
        out[name] = {
            "sessions": options.concurrency,
            "seconds_each": options.concurrent_seconds,
            "floor": floor,
            "shopdesk": shopdesk,
            "throughput_ratio": shopdesk["calls_per_s"] / floor["calls_per_s"],
            "first_errors": (totals["floor"]["first_errors"] + totals[name]["first_errors"])[:3],
        }
    return out


async def sdk_client_run(shop: Shop, options: Options) -> dict[str, Any]:
    """`mcp.Client` over stdio, validation on and off, against the floor through the same client."""
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters, stdio_client

    env = server_env()
    floor_params = StdioServerParameters(command=PYTHON, args=floor_command(None)[1:], env=env, cwd=ROOT)
    shop_args = shop_command(shop.db, "off", None)[1:]
    shop_params = StdioServerParameters(command=PYTHON, args=shop_args, env=env, cwd=ROOT)
    with open(options.logs / f"{shop.name}-sdk.log", "a") as log:
        return await _sdk_client_calls(
            Client(stdio_client(floor_params, errlog=log)),
            Client(stdio_client(shop_params, errlog=log)),
            shop.found,
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
    size: str, args: argparse.Namespace, options: Options, scratch: Path, postgres: PostgresShops | None
) -> dict[str, tuple[dict[str, Any], SizeResult]]:
    """Every part of the bench at one shop size, for each backend: backend -> (how the shop was made, results)."""
    count = max(50, min(2000, args.calls * 2))
    shops: list[Shop] = []
    dropped: list[str] = []  # PostgreSQL databases to drop afterwards
    fingerprints: dict[str, list[Any]] = {}
    try:
        if "sqlite" in args.backends:
            path, about = shop(size, args.shops)
            db = scratch_copy(path, scratch)
            found, fingerprints["sqlite"] = await sqlite_samples(db, count, random.Random(size))
            shops.append(Shop("sqlite", db, about, found, f"{size}-sqlite"))
        if postgres is not None:
            url, about = await postgres.fill(size)
            dropped.append(url)
            found, fingerprints["postgresql"] = await postgres_samples(url, count, random.Random(size))
            shops.append(Shop("postgresql", url, about, found, f"{size}-postgresql"))
            if "sqlite" in fingerprints:
                # The same generated shop: the same counts and highest ids, so the same samples were drawn.
                same = fingerprints["postgresql"] == fingerprints["sqlite"] and found == shops[0].found
                about["same_as_sqlite"] = same
                if not same:
                    print(
                        f"[{size}] the PostgreSQL shop differs from the SQLite one: "
                        f"{fingerprints['postgresql']} vs {fingerprints['sqlite']}",
                        file=sys.stderr,
                    )
        results = {shop.backend: SizeResult() for shop in shops}
        run = f"{int(time.time())}-{size}"
        print(f"[{size}] start-up ...", file=sys.stderr)
        await startup_run(shops, options, results)
        for transport in args.transports:
            cases = len(shops) * len(TOOL_CASES) + 1
            print(f"[{size}] {transport}: {cases} cases x {args.calls} calls ...", file=sys.stderr)
            await transport_run(transport, shops, options, results, run)
        if args.sdk_calls:
            for one in shops:
                print(f"[{size}] {one.backend}: SDK client validation ...", file=sys.stderr)
                results[one.backend].sdk_client = await sdk_client_run(one, options)
        return {one.backend: (one.about, results[one.backend]) for one in shops}
    finally:
        for one in shops:
            if one.backend == "sqlite":
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{one.db}{suffix}").unlink(missing_ok=True)
        for url in dropped:
            assert postgres is not None
            await postgres.drop(url)


# --- output -----------------------------------------------------------------------------------------------


def backend_sizes(report: dict[str, Any], backend: str) -> dict[str, Any]:
    """A backend's results by size: SQLite's where they always were (report["sizes"]), PostgreSQL's in
    report["postgresql"]["sizes"]; each entry says its "backend"."""
    if backend == "sqlite":
        found: dict[str, Any] = report["sizes"]
        return found
    return dict(report.get(backend, {}).get("sizes", {}))


def table(report: dict[str, Any]) -> str:
    lines: list[str] = []
    backends: list[str] = report.get("backends", ["sqlite"])
    by_backend = {backend: backend_sizes(report, backend) for backend in backends}
    sizes = list(dict.fromkeys(size for results in by_backend.values() for size in results))
    for transport in report["transports"]:
        lines.append(f"\n{transport}: p50 ms / p99 ms / calls/s, and p50 ratio to the floor (same run and transport)")
        lines.append(f"{'case':<22}{'backend':<12}" + "".join(f"{size:>36}" for size in sizes))
        rows = [(FLOOR, backends[0])] + [(case, backend) for case in TOOL_CASES for backend in backends]
        for case, backend in rows:
            label = ("-" if len(backends) > 1 else backend) if case == FLOOR else backend
            row = f"{case:<22}{label:<12}"
            for size in sizes:
                entry = by_backend[backend].get(size)
                if entry is None and case == FLOOR:  # the floor is shared: take it from any backend run
                    entry = next((r[size] for r in by_backend.values() if size in r), None)
                f = (entry or {}).get("latency", {}).get(transport, {}).get(case)
                row += (
                    f"{f['p50_ms']:>9.2f}{f['p99_ms']:>9.2f}{f['calls_per_s']:>8.0f}{f['ratio']:>8.2f}x"
                    if f
                    else f"{'-':>36}"
                )
            lines.append(row)
    lines.append("\nper size")
    for size in sizes:
        for backend in backends:
            s = by_backend[backend].get(size)
            if s is None:
                continue
            start = s["startup_s"].get("stdio", {})
            memory = s["memory_mb"]
            made = (
                f"filled in {s['generate_s']} s (this run)"
                + ("" if s.get("same_as_sqlite") is None else f", same shop as SQLite's: {s['same_as_sqlite']}")
                if backend == "postgresql"
                else f"generated in {s['generate_s']} s"
            )
            lines.append(
                f"  {size} {backend}: {s['orders']:,} orders, {made}; "
                f"start-up {start.get('shopdesk', 0):.2f} s (floor {start.get('floor', 0):.2f} s); "
                f"RSS {memory.get('shopdesk', 0):.0f} MB (peak {memory.get('shopdesk_peak', 0):.0f}, "
                f"floor {memory.get('floor', 0):.0f})"
            )
            concurrent, replicas = s.get("concurrent") or {}, s.get("replicas") or {}
            for title, c in (
                (f"HTTP x{concurrent.get('sessions')} sessions", concurrent),
                (
                    f"HTTP x{replicas.get('sessions')} sessions on {replicas.get('replicas')} stateless replicas",
                    replicas,
                ),
            ):
                if not c:
                    continue
                shopdesk, floor = c["shopdesk"], c["floor"]
                lines.append(
                    f"    {title}: shopdesk {shopdesk['calls_per_s']:.0f} calls/s, "
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

    backends: list[str] = report.get("backends", ["sqlite"])
    by_backend = {backend: backend_sizes(report, backend) for backend in backends}
    sizes = list(dict.fromkeys(size for results in by_backend.values() for size in results))
    # One bar per size and backend: a colour per size; SQLite solid, PostgreSQL hatched and paler.
    bars = [(size, backend) for size in sizes for backend in backends if size in by_backend[backend]]
    transports = report["transports"]
    wide = 7 if len(backends) == 1 else 9
    fig, axes = plt.subplots(1, len(transports), figsize=(wide * len(transports), 4.8), squeeze=False)
    width = 0.8 / max(1, len(bars))
    for ax, transport in zip(axes[0], transports, strict=True):
        for i, (size, backend) in enumerate(bars):
            entry = by_backend[backend][size]
            latency = entry["latency"].get(transport, {})
            ratios = [latency.get(case, {}).get("ratio", 0) for case in TOOL_CASES]
            positions = [x + (i - (len(bars) - 1) / 2) * width for x in range(len(TOOL_CASES))]
            colour = f"C{sizes.index(size)}"
            label = f"{entry['orders']:,} orders" + ("" if len(backends) == 1 else f", {backend}")
            if backend == "sqlite":
                ax.bar(positions, ratios, width, label=label, color=colour)
            else:
                ax.bar(positions, ratios, width, label=label, color=colour, alpha=0.45, hatch="///", edgecolor=colour)
        ax.axhline(1, color="black", linewidth=0.8)
        # The targets over a raw client: id lookups 1.2x, searches 2x, writes 3x.
        for target in (1.2, 2, 3):
            ax.axhline(target, color="grey", linewidth=0.7, linestyle="--")
        ax.set_xticks(range(len(TOOL_CASES)))
        ax.set_xticklabels(TOOL_CASES, rotation=35, ha="right", fontsize=8)
        ax.set_title(f"{transport}: p50 latency / the SDK floor's (dashed: targets 1.2x, 2x, 3x)", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("x the no-op tool on a bare SDK server, same transport")
    axes[0][0].legend(fontsize=8)
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
    parser.add_argument(
        "--backends",
        default="sqlite",
        help="where the shop is: sqlite, postgresql or both, comma-separated (default sqlite)",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        default=2,
        help="stateless PostgreSQL replicas sharing the concurrent HTTP load (default 2; 0: skip)",
    )
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
    args.backends = [b.strip().lower() for b in args.backends.split(",") if b.strip()]
    if unknown := [s for s in args.sizes if s not in SIZES]:
        parser.error(f"unknown size {unknown[0]!r}; choose from {', '.join(SIZES)}")
    if unknown := [t for t in args.transports if t not in ("stdio", "http")]:
        parser.error(f"unknown transport {unknown[0]!r}; choose stdio or http")
    if unknown := [b for b in args.backends if b not in BACKENDS]:
        parser.error(f"unknown backend {unknown[0]!r}; choose sqlite or postgresql")
    if not args.backends:
        parser.error("--backends needs sqlite, postgresql or both")
    args.backends = [b for b in BACKENDS if b in args.backends]  # SQLite first, whatever the order given
    if args.replicas < 0:
        parser.error("--replicas must be 0 or more")
    if args.calls < 1 or args.rounds < 1:
        parser.error("--calls and --rounds must be at least 1")
    return args


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    from shopdesk import __version__

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
        "backends": args.backends,
        "transports": args.transports,
        "sizes": {},  # SQLite's results by size (where they have always been)
    }
    postgres = PostgresShops() if "postgresql" in args.backends else None
    if postgres is not None:
        report["postgresql"] = {
            "server": "throwaway, tests/pg_support.py: 127.0.0.1, fsync=off, synchronous_commit=off, "
            "full_page_writes=off, shared_buffers=64MB",
            "sizes": {},  # PostgreSQL's results by size, as report["sizes"] for SQLite
        }
    try:
        await _bench_sizes(args, report, postgres)
    finally:
        if postgres is not None:
            report["postgresql"]["server_version"] = postgres.version
            postgres.stop()
    report["machine"]["load_after"] = os.getloadavg()[0]
    return report


async def _bench_sizes(args: argparse.Namespace, report: dict[str, Any], postgres: PostgresShops | None) -> None:
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
            replicas=args.replicas,
        )
        for size in args.sizes:
            for backend, (about, result) in (await size_run(size, args, options, scratch, postgres)).items():
                for measured in (result.concurrent, result.replicas):
                    for name in ("floor", "shopdesk"):
                        measured.get(name, {}).pop("times", None)
                entry: dict[str, Any] = {
                    "backend": backend,
                    "orders": about["orders"],
                    "customers": about["customers"],
                    "generate_s": about.get("generate_s"),  # PostgreSQL: this run's fill
                    "latency": result.latency,
                    "startup_s": result.startup_s,
                    "memory_mb": result.memory_mb,
                    "concurrent": result.concurrent,
                    "sdk_client": result.sdk_client,
                    "writes_checked": result.writes_checked,
                }
                if backend == "postgresql":
                    entry["same_as_sqlite"] = about.get("same_as_sqlite")
                    entry["replicas"] = result.replicas
                    report["postgresql"]["sizes"][size] = entry
                else:
                    report["sizes"][size] = entry


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.concurrency == 0 or "http" not in args.transports:
        args.concurrency = 0
    if "postgresql" in args.backends and (reason := postgres_unavailable()):
        print(f"mcp_bench: cannot run the postgresql backend: {reason}", file=sys.stderr)
        sys.exit(2)
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
