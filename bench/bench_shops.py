"""The shops the bench runs on: generated SQLite files kept in bench/.shops, the same shops filled into a
throwaway PostgreSQL server, and the ids sampled from them."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_servers import PYTHON, ROOT, server_env

# name -> (customers, orders)
SIZES: dict[str, tuple[int, int]] = {
    "tiny": (60, 200),
    "1k": (500, 1_000),
    "100k": (20_000, 100_000),
    "1m": (200_000, 1_000_000),
}


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
