"""How much an id lookup costs next to the MCP SDK's own no-op tool call, measured side by side.

    .venv/bin/python bench/lookups.py --db data/million.sqlite3 [--calls 2000]

Make a big shop first: `shopdesk init --db data/million.sqlite3 --customers 200000 --orders 1000000`.
Prints mean microseconds per call through the in-memory MCP client and the ratio to the no-op call.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from pathlib import Path
from typing import Any

from mcp import Client
from mcp.server import MCPServer

from shopdesk.app import build_server
from shopdesk.settings import Settings
from shopdesk.storage.sqlite import Database


def noop_server() -> MCPServer:
    mcp = MCPServer("noop")

    @mcp.tool()
    def noop(order_id: str) -> str:
        """Does nothing."""
        return order_id

    return mcp


async def sample_ids(db_path: Path, count: int) -> dict[str, list[str]]:
    db = await Database.open(db_path, create=False)
    try:
        ids: dict[str, list[str]] = {}
        for key, sql in (
            ("order", "SELECT order_id FROM orders"),
            ("user", "SELECT user_id FROM customers"),
            ("email", "SELECT email FROM customers"),
        ):
            async with db.read.execute(f"{sql} ORDER BY random() LIMIT ?", (count,)) as cur:
                ids[key] = [r[0] for r in await cur.fetchall()]
        return ids
    finally:
        await db.close()


async def timed(client: Client, tool: str, argument_sets: list[dict[str, Any]]) -> list[float]:
    times = []
    for arguments in argument_sets:
        start = time.perf_counter()
        result = await client.call_tool(tool, arguments)
        times.append(time.perf_counter() - start)
        assert not result.is_error, result
    return times


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    ids = await sample_ids(args.db, args.calls)
    rng = random.Random(1)
    async with Client(noop_server()) as noop, Client(build_server(Settings(db_path=args.db))) as shop:
        cases = {
            "noop (SDK baseline)": (noop, "noop", [{"order_id": i} for i in ids["order"]]),
            "get_order_details": (shop, "get_order_details", [{"order_id": i} for i in ids["order"]]),
            "get_user_details": (shop, "get_user_details", [{"user_id": i} for i in ids["user"]]),
            "find_user_id_by_email": (shop, "find_user_id_by_email", [{"email": e.upper()} for e in ids["email"]]),
        }
        results: dict[str, list[float]] = {name: [] for name in cases}
        # Interleave rounds so that machine noise hits every case alike.
        for _ in range(5):
            for name, (client, tool, argument_sets) in cases.items():
                rng.shuffle(argument_sets)
                results[name] += await timed(client, tool, argument_sets[: args.calls // 5])
    base = statistics.mean(results["noop (SDK baseline)"])
    print(f"{'tool':28} {'mean us':>9} {'p95 us':>9} {'x no-op':>8}")
    for name, times in results.items():
        p95 = statistics.quantiles(times, n=20)[18]
        print(f"{name:28} {statistics.mean(times) * 1e6:9.0f} {p95 * 1e6:9.0f} {statistics.mean(times) / base:8.2f}")


if __name__ == "__main__":
    asyncio.run(main())
