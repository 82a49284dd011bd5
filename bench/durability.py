"""What synchronous=FULL costs next to NORMAL, measured side by side on the bundled τ² shop.

    .venv/bin/python bench/durability.py [--rounds 5] [--writes 200] [--dir /some/disk]

Two paths, each in both modes, in interleaved rounds (FULL then NORMAL, then NORMAL then FULL, ...) so
that machine noise hits both alike, every round on fresh copies of the shop:

- tools:       create_ticket and cancel_pending_order through the in-process MCP client, one after another
               (the whole write path: idempotency key, audit row, commit);
- transaction: `Database.transaction()` directly, each inserting a ticket, its message and an audit row.

Prints the latency per write (p50, p99) and writes per second for each, and the ratio FULL/NORMAL. The
database files go to --dir (default: the system's temporary folder); put it on the disk you mean to serve
from, since what a commit costs is the disk's fsync.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from mcp import Client

from shopdesk.app import build_server
from shopdesk.settings import Settings
from shopdesk.shopdata.tau2 import import_into, read_text
from shopdesk.storage.repositories import audit, tickets
from shopdesk.storage.sqlite import Database, Synchronous

MODES: tuple[Synchronous, ...] = ("FULL", "NORMAL")


async def make_template(folder: Path) -> tuple[Path, list[str], str]:
    """The τ² shop in a file; its pending orders and one customer."""
    path = folder / "template.sqlite3"
    text = read_text()
    db = await Database.open(path)
    await import_into(db, text)
    await db.finish()
    data = json.loads(text)
    pending = sorted(order_id for order_id, order in data["orders"].items() if order["status"] == "pending")
    return path, pending, next(iter(data["users"]))


def fresh_copy(template: Path, folder: Path, name: str) -> Path:
    path = folder / f"{name}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copy(template, path)
    return path


async def through_tools(path: Path, mode: Synchronous, writes: int, pending: list[str], user_id: str) -> list[float]:
    """Seconds per write: create_ticket, with a cancellation of a pending order after every fourth."""
    server = build_server(Settings(db_path=path, synchronous=mode, confirm="off", log_level="WARNING"))
    times: list[float] = []
    orders = iter(pending)
    async with Client(server) as client:
        for n in range(writes):
            if n % 4 == 3:
                tool, arguments = "cancel_pending_order", {"order_id": next(orders), "reason": "no longer needed"}
            else:
                tool, arguments = "create_ticket", {"user_id": user_id, "subject": f"Bench {n}", "message": "Hello"}
            start = time.perf_counter()
            result = await client.call_tool(tool, {**arguments, "idempotency_key": f"bench-{n}"})
            times.append(time.perf_counter() - start)
            assert not result.is_error, result.content
    return times


async def through_transactions(path: Path, mode: Synchronous, writes: int) -> list[float]:
    """Seconds per transaction: a ticket, its first message and an audit row, committed."""
    db = await Database.open(path, create=False, synchronous=mode)
    times: list[float] = []
    try:
        for n in range(writes):
            start = time.perf_counter()
            async with db.transaction() as conn:
                ticket_id = await tickets.create(
                    conn,
                    customer_key=1,
                    order_key=None,
                    subject=f"Bench {n}",
                    priority="normal",
                    first_message="Hello",
                    author="customer",
                )
                await audit.record(conn, tool="create_ticket", target=ticket_id, outcome="done", subject="bench")
            times.append(time.perf_counter() - start)
    finally:
        await db.close()
    return times


def figures(times: list[float]) -> dict[str, float]:
    cut = statistics.quantiles(times, n=100, method="inclusive")
    return {"p50": cut[49] * 1000, "p99": cut[98] * 1000, "writes/s": len(times) / sum(times)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--writes", type=int, default=200, help="writes per path, mode and round")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="shopdesk-durability-") as scratch:
        folder = Path(scratch)
        template, pending, user_id = await make_template(folder)
        if args.writes // 4 > len(pending):
            parser.error(f"--writes at most {len(pending) * 4}: the shop has {len(pending)} pending orders to cancel")
        results: dict[tuple[str, str], list[float]] = {(p, m): [] for p in ("tools", "transaction") for m in MODES}
        for round_number in range(args.rounds):
            for mode in MODES if round_number % 2 == 0 else tuple(reversed(MODES)):
                path = fresh_copy(template, folder, "tools")
                results["tools", mode] += await through_tools(path, mode, args.writes, pending, user_id)
                path = fresh_copy(template, folder, "transaction")
                results["transaction", mode] += await through_transactions(path, mode, args.writes)
    print(f"{args.rounds} rounds x {args.writes} writes per path and mode, files in {args.dir}")
    print(f"{'path':<12} {'mode':<14} {'p50 ms':>8} {'p99 ms':>8} {'writes/s':>9}")
    for path_name in ("tools", "transaction"):
        by_mode: dict[str, dict[str, Any]] = {m: figures(results[path_name, m]) for m in MODES}
        for mode in MODES:
            f = by_mode[mode]
            print(f"{path_name:<12} {mode:<14} {f['p50']:>8.2f} {f['p99']:>8.2f} {f['writes/s']:>9.0f}")
        ratio = {k: by_mode["FULL"][k] / by_mode["NORMAL"][k] for k in ("p50", "p99", "writes/s")}
        print(
            f"{path_name:<12} {'FULL/NORMAL':<14} {ratio['p50']:>8.2f} {ratio['p99']:>8.2f} {ratio['writes/s']:>9.2f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
