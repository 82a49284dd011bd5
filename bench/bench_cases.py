"""The cases the bench times (each tool call, and the floor's no-op), how they are timed in interleaved
rounds, and the run's options."""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bench_clients import CallFailed, RawSession
from bench_shops import Samples

FLOOR = "floor (no-op)"
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
