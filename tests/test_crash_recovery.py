"""A server killed with SIGKILL under a concurrent write load: no acknowledged write is lost, the file is sound,
retried writes happen once, and the audit log, replayed over the starting shop, rebuilds the shop exactly.

Each round starts `shopdesk serve --transport http` on the same database file, first checks (through the
tools) that every write acknowledged so far is there and retries, with their idempotency keys, the writes that
were in flight when the last server died; then several MCP clients write at once (tickets, messages, and
address, payment and cancel on pending orders of their own), and the server is killed at a seeded-random
write: right after an answer, or while a commit is being written (see `Killer`). Run with `-s` to see the
counts.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import sqlite3
import threading
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from http_support import running
from mcp import Client
from shop_support import connected

from shopdesk.app import build_server
from shopdesk.settings import Settings
from shopdesk.writes.plans import REPLAY_META

pytestmark = pytest.mark.slow  # kills a shopdesk HTTP server process under load

SEED = 20261126
ROUNDS = 4
CLIENTS = 4
WRITES_PER_CLIENT = 30  # at most, in one round
CALL_TIMEOUT = 30.0  # seconds: a bound on a call to a server that died, not a measurement


@dataclass
class Write:
    key: str
    tool: str
    arguments: dict[str, Any]  # without the idempotency key
    target: str | None  # the order or ticket written; a new ticket's id once known
    answer: dict[str, Any] | None = None  # the structured content the server acknowledged with
    refusal: str | None = None

    @property
    def call(self) -> dict[str, Any]:
        return {**self.arguments, "idempotency_key": self.key}


@dataclass
class Ledger:
    """Every write sent, by idempotency key, and what became of it."""

    writes: dict[str, Write] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)

    def in_flight(self) -> list[Write]:
        return [w for w in self.writes.values() if w.answer is None and w.refusal is None]

    def acknowledged(self) -> list[Write]:
        return [w for w in self.writes.values() if w.answer is not None]


class Plan:
    """What one client writes in one round: tickets of its own, messages on them, and a few pending orders of
    its own taken through a new address, a new payment method and a cancellation."""

    def __init__(self, name: str, rng: random.Random, data: dict[str, Any], orders: list[str]) -> None:
        self.name, self.rng, self.data = name, rng, data
        self.orders = orders
        self.steps: list[str] = []
        self.tickets: list[str] = []
        self.users = sorted(data["users"])
        self.n = 0

    def next(self) -> Write:
        self.n += 1
        key = f"{self.name}-{self.n}"
        choice = self.rng.choice(["ticket", "message", "message", "order", "order"])
        if choice == "message" and self.tickets:
            ticket_id = self.rng.choice(self.tickets)
            return Write(key, "add_ticket_message", {"ticket_id": ticket_id, "body": f"Note {key}"}, ticket_id)
        if choice == "order" and (self.steps or self.orders):
            if not self.steps:
                self.order_id = self.orders.pop()
                self.steps = ["modify_pending_order_address", "modify_pending_order_payment", "cancel_pending_order"]
            return self.order_write(key, self.steps.pop(0))
        arguments = {"user_id": self.rng.choice(self.users), "subject": f"Ticket {key}", "message": "Where is it?"}
        return Write(key, "create_ticket", arguments, None)

    def order_write(self, key: str, tool: str) -> Write:
        order = self.data["orders"][self.order_id]
        if tool == "modify_pending_order_address":
            address = {"address1": f"{self.n} {key} Road", "address2": "", "city": "Salem", "state": "MA"}
            arguments = {"order_id": self.order_id, **address, "country": "USA", "zip": "01970"}
        elif tool == "modify_pending_order_payment":
            arguments = {"order_id": self.order_id, "payment_method_id": other_method(self.data, order)}
        else:
            arguments = {"order_id": self.order_id, "reason": "no longer needed"}
        return Write(key, tool, arguments, self.order_id)

    def acknowledged(self, write: Write) -> None:
        if write.tool == "create_ticket" and write.answer is not None:
            self.tickets.append(write.answer["ticket_id"])


def other_method(data: dict[str, Any], order: dict[str, Any]) -> str:
    """A card or PayPal account of the order's customer other than the one that paid it."""
    paid_with = order["payment_history"][0]["payment_method_id"]
    methods = data["users"][order["user_id"]]["payment_methods"].values()
    return next(m["id"] for m in methods if m["source"] != "gift_card" and m["id"] != paid_with)


def pending_orders(data: dict[str, Any]) -> list[str]:
    """Pending orders paid once whose customer has another card or PayPal account to pay them with."""
    found = []
    for order_id, order in sorted(data["orders"].items()):
        if order["status"] != "pending" or len(order["payment_history"]) != 1:
            continue
        try:
            other_method(data, order)
        except StopIteration:
            continue
        found.append(order_id)
    return found


# --- one round -----------------------------------------------------------------------------------------------


async def write_until_killed(url: str, plan: Plan, ledger: Ledger, kill: Any) -> None:
    try:
        async with Client(url) as client:
            for _ in range(WRITES_PER_CLIENT):
                write = plan.next()
                ledger.writes[write.key] = write
                try:
                    result = await client.call_tool(write.tool, write.call, read_timeout_seconds=CALL_TIMEOUT)
                except Exception:
                    return  # the server died with this call in flight
                if result.is_error:
                    write.refusal = result.content[0].text  # type: ignore[union-attr]
                    continue
                write.answer = result.structured_content
                write.target = write.target or write.answer["ticket_id"]  # type: ignore[index]
                ledger.counts["acknowledged"] += 1
                plan.acknowledged(write)
                kill()
    except Exception:
        return  # leaving a session with a dead server


class Killer:
    """Kills the server once, at a write of the round chosen by count: right after a client has the answer to
    its `kill_at`-th write ("acknowledged"), or, once `kill_at` writes are committed, as soon as the next one
    is writing to the log file ("writing": in the middle of a commit, or just after it, before its answer)."""

    def __init__(self, pid: int, db: Path, ledger: Ledger, kill_at: int, on: str) -> None:
        self.pid, self.db, self.ledger, self.on = pid, db, ledger, on
        self.acknowledged_at = ledger.counts["acknowledged"] + kill_at
        self.committed_at = committed(db) + kill_at
        self.killed = threading.Event()

    def kill(self) -> None:
        if not self.killed.is_set():
            self.killed.set()
            os.kill(self.pid, signal.SIGKILL)

    def acknowledged(self) -> None:
        if self.on == "acknowledged" and self.ledger.counts["acknowledged"] >= self.acknowledged_at:
            self.kill()

    def watch_the_log(self, load_over: threading.Event) -> None:
        """Poll the file until enough writes are committed, then its -wal file until it changes (bounded)."""
        wal = Path(f"{self.db}-wal")
        seen = None
        for _ in range(200_000):
            if self.killed.is_set() or load_over.is_set():
                return
            if seen is None:
                if committed(self.db) >= self.committed_at:
                    seen = wal.stat().st_size, wal.stat().st_mtime_ns
                time.sleep(0.001)
            elif (wal.stat().st_size, wal.stat().st_mtime_ns) != seen:
                self.kill()
                return


def committed(db: Path) -> int:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return int(conn.execute("SELECT count(*) FROM audit_log WHERE outcome IN ('done', 'unchanged')").fetchone()[0])


async def load(url: str, plans: list[Plan], ledger: Ledger, killer: Killer) -> None:
    load_over = threading.Event()
    watcher = threading.Thread(target=killer.watch_the_log, args=(load_over,))
    if killer.on == "writing":
        watcher.start()
    await asyncio.gather(*(write_until_killed(url, plan, ledger, killer.acknowledged) for plan in plans))
    load_over.set()
    if watcher.is_alive():
        watcher.join()
    killer.kill()  # if the load ran out first: kill the idle server


async def recover(url: str, ledger: Ledger) -> int:
    """Check every acknowledged write is there; retry the writes in flight with their keys. Returns how many
    acknowledged writes were missing."""
    lost = 0
    async with Client(url) as client:
        for write in ledger.in_flight():
            result = await client.call_tool(write.tool, write.call, read_timeout_seconds=CALL_TIMEOUT)
            assert not result.is_error, (write, result.content)
            write.answer = result.structured_content
            write.target = write.target or write.answer["ticket_id"]  # type: ignore[index]
            replayed = bool((result.meta or {}).get(REPLAY_META))
            ledger.counts["in flight, had committed" if replayed else "in flight, had not committed"] += 1
        tickets: dict[str, dict[str, Any]] = {}
        orders: dict[str, dict[str, Any]] = {}
        for write in ledger.acknowledged():
            assert write.target is not None
            if write.tool in ("create_ticket", "add_ticket_message"):
                if write.target not in tickets:
                    found = await client.call_tool("get_ticket", {"ticket_id": write.target})
                    tickets[write.target] = {} if found.is_error else found.structured_content or {}
                present = there(write, tickets[write.target])
            else:
                if write.target not in orders:
                    found = await client.call_tool("get_order_details", {"order_id": write.target})
                    orders[write.target] = {} if found.is_error else found.structured_content or {}
                present = there(write, orders[write.target])
            lost += not present
    return lost


def there(write: Write, record: dict[str, Any]) -> bool:
    """Whether the record, as read back, shows the write."""
    if not record:
        return False
    if write.tool == "create_ticket":
        return bool(record["subject"] == write.arguments["subject"])
    if write.tool == "add_ticket_message":
        return write.arguments["body"] in [m["body"] for m in record["messages"]]
    if write.tool == "modify_pending_order_address":
        return bool(record["address"]["address1"] == write.arguments["address1"])
    if write.tool == "modify_pending_order_payment":
        return write.arguments["payment_method_id"] in [p["payment_method_id"] for p in record["payment_history"]]
    return bool(record["status"] == "cancelled")


# --- the shop as data, the audit log replayed ------------------------------------------------------------------

SHOP_STATE = {
    "orders": "SELECT order_id, status, address1, address2, city, state, country, zip, cancel_reason FROM orders "
    "ORDER BY id",
    "payments": "SELECT o.order_id, p.position, p.transaction_type, p.amount_cents, p.payment_method_id "
    "FROM payments p JOIN orders o ON o.id = p.order_id ORDER BY p.id",
    "gift cards": "SELECT method_id, balance_cents FROM payment_methods WHERE source = 'gift_card' ORDER BY id",
    "tickets": "SELECT id, customer_id, order_id, subject, status, priority FROM tickets ORDER BY id",
    "messages": "SELECT id, ticket_id, author, body FROM ticket_messages ORDER BY id",
    "audit": "SELECT action, target, outcome, customer, arguments, details FROM audit_log WHERE outcome = 'done' "
    "ORDER BY id",
}


def shop_state(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Orders, payments, gift card balances, tickets, messages and the audit rows of writes done, without
    timestamps, in the order they were written."""
    with closing(sqlite3.connect(path)) as conn:
        return {name: conn.execute(sql).fetchall() for name, sql in SHOP_STATE.items()}


def integrity(path: Path) -> str:
    with closing(sqlite3.connect(path)) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def writes_done_in_order(path: Path, ledger: Ledger) -> list[Write]:
    """The writes the audit log says were done, in the order they were done.

    An audit row holds masked arguments and no key, but the key is stored in the same transaction: the n-th
    row of a write (done or unchanged) and the n-th idempotency key belong to the same write."""
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute(
            "SELECT action, target, outcome FROM audit_log WHERE outcome IN ('done', 'unchanged') ORDER BY id"
        ).fetchall()
        keys = conn.execute("SELECT key, tool, result FROM idempotency_keys ORDER BY rowid").fetchall()
    assert len(rows) == len(keys), "a write without its key, or a key without its write"
    done = []
    for (action, target, outcome), (key, tool, kept) in zip(rows, keys, strict=True):
        write = ledger.writes[key]
        assert (action, target) == (tool, json.loads(kept)["target"]) == (write.tool, write.target)
        if outcome == "done":
            done.append(write)
    return done


async def replay(path: Path, writes: list[Write]) -> dict[str, str]:
    """The writes made again, in order, on the shop at `path`; the ids of the tickets they opened there, each
    mapped to the id the same ticket had in the served shop (new tickets get random ids)."""
    opened: dict[str, str] = {}  # served id -> replayed id
    async with connected(build_server(Settings(db_path=path))) as client:
        for write in writes:
            arguments = write.call
            if isinstance(arguments.get("ticket_id"), str):
                arguments["ticket_id"] = opened[arguments["ticket_id"]]
            result = await client.call_tool(write.tool, arguments)
            assert not result.is_error and not (result.meta or {}).get(REPLAY_META), (write, result.content)
            if write.tool == "create_ticket":
                assert write.target is not None and result.structured_content is not None
                opened[write.target] = result.structured_content["ticket_id"]
    return {replayed: served for served, replayed in opened.items()}


def renamed(state: dict[str, list[tuple[Any, ...]]], ids: dict[str, str]) -> dict[str, list[tuple[Any, ...]]]:
    """`state` with each ticket id in `ids` (public, or its key) replaced by its value; tickets sorted by id."""
    keys = {int(new.removeprefix("TCK-")): int(old.removeprefix("TCK-")) for new, old in ids.items()}

    def value(v: Any) -> Any:
        if isinstance(v, int) and v in keys:
            return keys[v]
        if isinstance(v, str):
            for new, old in ids.items():
                v = v.replace(new, old)
        return v

    out = {name: [tuple(value(v) for v in row) for row in rows] for name, rows in state.items()}
    out["tickets"].sort()
    return out


# --- the test ------------------------------------------------------------------------------------------------


def test_a_server_killed_under_load_loses_no_acknowledged_write_and_its_audit_log_rebuilds_the_shop(
    tau2_template: Path, tau2_data: dict[str, Any], tmp_path: Path
) -> None:
    db = tmp_path / "served" / "shop.sqlite3"
    db.parent.mkdir()
    shutil.copy(tau2_template, db)
    rng = random.Random(SEED)
    orders = pending_orders(tau2_data)
    rng.shuffle(orders)
    ledger = Ledger()
    lost = kills = 0
    for number in range(ROUNDS + 1):
        with running(db) as server:  # a restart on the same file, but the first time
            lost += asyncio.run(recover(server.url, ledger))
            if number == ROUNDS:
                break
            plans = [
                Plan(f"r{number}c{c}", random.Random(rng.random()), tau2_data, [orders.pop() for _ in range(4)])
                for c in range(CLIENTS)
            ]
            kill_at = rng.randint(5, CLIENTS * WRITES_PER_CLIENT // 2)
            on = "acknowledged" if number % 2 == 0 else "writing"
            acknowledged_before = ledger.counts["acknowledged"]
            asyncio.run(load(server.url, plans, ledger, Killer(server.process.pid, db, ledger, kill_at, on)))
            assert ledger.counts["acknowledged"] > acknowledged_before, "no write was acknowledged in this round"
            assert server.process.wait(timeout=30) == -signal.SIGKILL
            kills += 1
        assert integrity(db) == "ok"
    replayed = tmp_path / "replayed.sqlite3"
    shutil.copy(tau2_template, replayed)
    ticket_ids = asyncio.run(replay(replayed, writes_done_in_order(db, ledger)))
    counts = ledger.counts
    refused = sum(w.refusal is not None for w in ledger.writes.values())
    print(
        f"\ncrash recovery: {kills} kills survived, {counts['acknowledged']} writes acknowledged, {lost} lost; "
        f"{counts['in flight, had committed']} in flight had committed, "
        f"{counts['in flight, had not committed']} had not (retried once each); {refused} refused"
    )
    assert lost == 0
    assert refused == 0, [w for w in ledger.writes.values() if w.refusal]
    assert integrity(db) == "ok"
    assert renamed(shop_state(replayed), ticket_ids) == renamed(shop_state(db), {})
