"""Random sequences of reads and writes on the τ² shop (a hypothesis state machine), with the shop's invariants
checked after every step:

- money: per order, payments minus refunds is what its items cost now; nil once it is cancelled. A return or
  an exchange that is only requested has moved no money yet, so those orders still hold what their items cost;
- gift cards: a balance never goes below zero, and moves only with a payment or refund row of that card;
- order statuses move only pending -> cancelled, pending -> pending (item modified), delivered -> return
  requested, delivered -> exchange requested, and only the order a successful write named;
- the audit log: every write that succeeds leaves exactly one row, 'done' or 'unchanged', naming the tool and
  the record; a refused one exactly one 'refused' row; a retry with its idempotency key one 'replayed' row and
  nothing else; a read none.

Each sequence runs on a fresh copy of the shop, with a server on an event loop of its own. Run with `-s` to
see how many sequences and steps ran.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import sqlite3
from collections import Counter
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import hypothesis
import pytest
from hypothesis import HealthCheck
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from mcp.types import CallToolResult
from shop_support import connected

from shopdesk.app import build_server
from shopdesk.settings import Settings
from shopdesk.writes.plans import REPLAY_META

T = TypeVar("T")

pytestmark = pytest.mark.slow  # 40 hypothesis sequences of reads and writes: about twenty seconds

SEQUENCES = 40
STEPS_PER_SEQUENCE = 50

ORDER_MOVES = {
    ("pending", "cancelled"),
    ("pending", "pending (item modified)"),
    ("delivered", "return requested"),
    ("delivered", "exchange requested"),
}
TICKET_MOVES = {
    "open": {"waiting_on_customer", "escalated", "resolved", "closed"},
    "waiting_on_customer": {"open", "escalated", "resolved", "closed"},
    "escalated": {"open", "waiting_on_customer", "resolved", "closed"},
    "resolved": {"open", "closed"},
    "closed": set(),
}
ADDRESSES = [
    {"address1": "5 Pier Road", "address2": "", "city": "Salem", "state": "MA", "country": "USA", "zip": "01970"},
    {"address1": "12 Harbour St", "address2": "Apt 3", "city": "Bath", "state": "ME", "country": "USA", "zip": "04530"},
]
REASONS = ["no longer needed", "ordered by mistake"]

MONEY = """
SELECT o.order_id, o.status,
  coalesce((SELECT sum(CASE p.transaction_type WHEN 'payment' THEN p.amount_cents ELSE -p.amount_cents END)
            FROM payments p WHERE p.order_id = o.id), 0) AS net_paid,
  coalesce((SELECT sum(i.price_cents) FROM order_items i WHERE i.order_id = o.id), 0) AS items_cost
FROM orders o
"""
GIFT_CARDS = """
SELECT m.method_id, m.balance_cents,
  coalesce((SELECT sum(CASE p.transaction_type WHEN 'refund' THEN p.amount_cents ELSE -p.amount_cents END)
            FROM payments p WHERE p.payment_method_id = m.method_id AND p.id > ?), 0) AS moved
FROM payment_methods m WHERE m.source = 'gift_card'
"""

ran: Counter[str] = Counter()  # sequences and steps
tried: Counter[str] = Counter()  # writes, by tool
done: Counter[str] = Counter()  # writes that succeeded (not replays), by tool


class ShopMachine(RuleBasedStateMachine):
    """One sequence: a fresh copy of the τ² shop, its server, and what the sequence has done to it."""

    template: Path
    folder: Path
    data: dict[str, Any]
    copies = itertools.count()

    def __init__(self) -> None:
        super().__init__()
        path = self.folder / f"shop-{next(self.copies)}.sqlite3"
        shutil.copy(self.template, path)
        self.loop = asyncio.new_event_loop()
        self.session = connected(build_server(Settings(db_path=path)))
        self.client = self.run(self.session.__aenter__())
        self.reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # sees what the server committed
        self.statuses = dict(self.rows("SELECT order_id, status FROM orders"))
        self.start_balances = dict(
            self.rows("SELECT method_id, balance_cents FROM payment_methods WHERE balance_cents IS NOT NULL")
        )
        self.last_payment = self.rows("SELECT coalesce(max(id), 0) FROM payments")[0][0]
        self.last_audit = 0
        self.orders: list[str] = []
        self.tickets: dict[str, str] = {}  # ticket id -> status
        self.keyed: tuple[str, dict[str, Any], CallToolResult] | None = None  # the last write with a key that succeeded
        self.moved: str | None = None  # the order the last successful write named
        self.keys = itertools.count()
        ran["sequences"] += 1

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self.reader.execute(sql, params).fetchall()

    def teardown(self) -> None:
        self.reader.close()
        self.run(self.session.__aexit__(None, None, None))
        self.loop.close()

    # --- calling the tools ---------------------------------------------------------------------------------

    def new_audit_rows(self) -> list[tuple[str, str, str]]:
        found = self.rows(
            "SELECT id, action, target, outcome FROM audit_log WHERE id > ? ORDER BY id", (self.last_audit,)
        )
        if found:
            self.last_audit = found[-1][0]
        return [(action, target, outcome) for _, action, target, outcome in found]

    def read(self, tool: str, **arguments: Any) -> CallToolResult:
        ran["steps"] += 1
        result = self.run(self.client.call_tool(tool, arguments))
        assert self.new_audit_rows() == [], f"{tool} is a read, yet wrote to the audit log"
        return result

    def write(self, tool: str, target: str | None, data: st.DataObject, **arguments: Any) -> CallToolResult:
        """Call a write, with an idempotency key or not, and check the audit rows it left."""
        ran["steps"] += 1
        tried[tool] += 1
        if data.draw(st.booleans(), label="with a key"):
            arguments["idempotency_key"] = f"k{next(self.keys)}"
        result = self.run(self.client.call_tool(tool, arguments))
        self.moved = None
        rows = self.new_audit_rows()
        if result.is_error:
            assert [(a, o) for a, _, o in rows] == [(tool, "refused")], (tool, rows, result.content)
            return result
        target = target or result.structured_content["ticket_id"]  # type: ignore[index]
        assert len(rows) == 1 and rows[0][:2] == (tool, target) and rows[0][2] in ("done", "unchanged"), rows
        ran["writes done"] += 1
        done[tool] += 1
        self.moved = target
        if "idempotency_key" in arguments:
            self.keyed = (tool, arguments, result)
        return result

    def order(self, data: st.DataObject) -> dict[str, Any]:
        return self.data["orders"][data.draw(st.sampled_from(self.orders), label="order")]

    def methods_of(self, order: dict[str, Any]) -> list[str]:
        return sorted(self.data["users"][order["user_id"]]["payment_methods"])

    def swap(self, data: st.DataObject, order: dict[str, Any]) -> tuple[list[str], list[str]]:
        """Some items of the order and, for each, a variant of its product: mostly an available one, now and
        then any (itself, or one out of stock)."""
        chosen = data.draw(st.lists(st.sampled_from(order["items"]), min_size=1, max_size=3), label="items")
        new_item_ids = []
        for item in chosen:
            variants = self.data["products"][item["product_id"]]["variants"].values()
            available = sorted(v["item_id"] for v in variants if v["available"] and v["item_id"] != item["item_id"])
            any_variant = st.sampled_from(sorted(v["item_id"] for v in variants))
            pick = st.sampled_from(available) | st.sampled_from(available) | any_variant if available else any_variant
            new_item_ids.append(data.draw(pick, label="new item"))
        return [item["item_id"] for item in chosen], new_item_ids

    # --- the steps -------------------------------------------------------------------------------------------

    @initialize(data=st.data())
    def choose_orders(self, data: st.DataObject) -> None:
        """The orders this sequence works on: mostly pending and delivered, some processed and cancelled."""
        by_status: dict[str, list[str]] = {}
        for order_id, order in sorted(self.data["orders"].items()):
            by_status.setdefault(order["status"], []).append(order_id)
        for status, count in (("pending", 5), ("delivered", 4), ("processed", 1), ("cancelled", 1)):
            pool = st.sampled_from(by_status[status])
            self.orders += data.draw(st.lists(pool, min_size=count, max_size=count, unique=True), label=status)

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        order = self.order(data)
        before = self.statuses[order["order_id"]]
        result = self.write(
            "cancel_pending_order",
            order["order_id"],
            data,
            order_id=order["order_id"],
            reason=data.draw(st.sampled_from(REASONS)),
        )
        assert result.is_error == (before != "pending"), result.content

    @rule(data=st.data())
    def modify_address(self, data: st.DataObject) -> None:
        order = self.order(data)
        address = data.draw(st.sampled_from([*ADDRESSES, order["address"]]), label="address")
        before = self.statuses[order["order_id"]]
        result = self.write(
            "modify_pending_order_address", order["order_id"], data, order_id=order["order_id"], **address
        )
        assert result.is_error == (before not in ("pending", "pending (item modified)")), result.content

    @rule(data=st.data())
    def modify_payment(self, data: st.DataObject) -> None:
        order = self.order(data)
        method = data.draw(st.sampled_from(self.methods_of(order)), label="method")
        self.write(
            "modify_pending_order_payment",
            order["order_id"],
            data,
            order_id=order["order_id"],
            payment_method_id=method,
        )

    @rule(data=st.data())
    def modify_items(self, data: st.DataObject) -> None:
        order = self.order(data)
        item_ids, new_item_ids = self.swap(data, order)
        method = data.draw(st.sampled_from(self.methods_of(order)), label="method")
        self.write(
            "modify_pending_order_items",
            order["order_id"],
            data,
            order_id=order["order_id"],
            item_ids=item_ids,
            new_item_ids=new_item_ids,
            payment_method_id=method,
        )

    @rule(data=st.data())
    def return_items(self, data: st.DataObject) -> None:
        order = self.order(data)
        item_ids, _ = self.swap(data, order)
        method = data.draw(st.sampled_from(self.methods_of(order)), label="method")
        self.write(
            "return_delivered_order_items",
            order["order_id"],
            data,
            order_id=order["order_id"],
            item_ids=item_ids,
            payment_method_id=method,
        )

    @rule(data=st.data())
    def exchange_items(self, data: st.DataObject) -> None:
        order = self.order(data)
        item_ids, new_item_ids = self.swap(data, order)
        method = data.draw(st.sampled_from(self.methods_of(order)), label="method")
        self.write(
            "exchange_delivered_order_items",
            order["order_id"],
            data,
            order_id=order["order_id"],
            item_ids=item_ids,
            new_item_ids=new_item_ids,
            payment_method_id=method,
        )

    @rule(data=st.data())
    def create_ticket(self, data: st.DataObject) -> None:
        order = self.order(data)
        about = {"order_id": order["order_id"]} if data.draw(st.booleans(), label="about the order") else {}
        result = self.write(
            "create_ticket", None, data, user_id=order["user_id"], subject="Parcel", message="Where is it?", **about
        )
        self.tickets[result.structured_content["ticket_id"]] = "open"  # type: ignore[index]

    @precondition(lambda self: self.tickets)
    @rule(data=st.data())
    def work_on_ticket(self, data: st.DataObject) -> None:
        ticket_id = data.draw(st.sampled_from(sorted(self.tickets)), label="ticket")
        status = self.tickets[ticket_id]
        how = data.draw(st.sampled_from(["message", "status", "escalate"]), label="how")
        if how == "message":
            author = data.draw(st.sampled_from(["customer", "agent"]))
            result = self.write(
                "add_ticket_message", ticket_id, data, ticket_id=ticket_id, body="Any news?", author=author
            )
            assert result.is_error == (status == "closed")
        elif how == "status":
            new = data.draw(st.sampled_from(sorted(TICKET_MOVES)), label="status")
            result = self.write("set_ticket_status", ticket_id, data, ticket_id=ticket_id, status=new)
            assert result.is_error == (new != status and new not in TICKET_MOVES[status]), (status, new)
            self.tickets[ticket_id] = status if result.is_error else new
        else:
            result = self.write(
                "escalate_ticket", ticket_id, data, ticket_id=ticket_id, reason="Angry", summary="Lost parcel"
            )
            assert result.is_error == (status != "escalated" and "escalated" not in TICKET_MOVES[status]), status
            self.tickets[ticket_id] = status if result.is_error else "escalated"

    @precondition(lambda self: self.keyed is not None)
    @rule()
    def retry_last_keyed_write(self) -> None:
        """The same call with the same key: the first answer again, marked as a replay, and nothing written."""
        assert self.keyed is not None
        tool, arguments, first = self.keyed
        ran["steps"] += 1
        before = self.rows("SELECT count(*) FROM payments UNION ALL SELECT count(*) FROM ticket_messages")
        again = self.run(self.client.call_tool(tool, arguments))
        assert not again.is_error and (again.meta or {}).get(REPLAY_META) is True
        assert again.structured_content == first.structured_content
        assert [(a, o) for a, _, o in self.new_audit_rows()] == [(tool, "replayed")]
        assert self.rows("SELECT count(*) FROM payments UNION ALL SELECT count(*) FROM ticket_messages") == before
        self.moved = None

    @rule(data=st.data())
    def read_order(self, data: st.DataObject) -> None:
        order_id = self.order(data)["order_id"]
        result = self.read("get_order_details", order_id=order_id)
        assert not result.is_error and result.structured_content["status"] == self.statuses[order_id]  # type: ignore[index]
        self.moved = None

    @rule(data=st.data())
    def read_customer(self, data: st.DataObject) -> None:
        user_id = self.order(data)["user_id"]
        profile = self.read("get_user_details", user_id=user_id).structured_content
        assert profile is not None
        shown = {
            m["id"]: round(m["balance"] * 100)
            for m in profile["payment_methods"].values()
            if m["source"] == "gift_card"
        }
        stored = self.rows(
            "SELECT m.method_id, m.balance_cents FROM payment_methods m JOIN customers c ON c.id = m.customer_id "
            "WHERE c.user_id = ? AND m.source = 'gift_card'",
            (user_id,),
        )
        assert shown == dict(stored)
        self.moved = None

    # --- the invariants --------------------------------------------------------------------------------------

    @invariant()
    def every_order_holds_what_its_items_cost(self) -> None:
        for order_id, status, net_paid, items_cost in self.rows(MONEY):
            expected = 0 if status == "cancelled" else items_cost
            assert net_paid == expected, f"{order_id} ({status}) holds {net_paid} cents, not {expected}"

    @invariant()
    def gift_cards_move_only_with_their_payments_and_never_below_zero(self) -> None:
        for method_id, balance, moved in self.rows(GIFT_CARDS, (self.last_payment,)):
            assert balance >= 0, f"{method_id} is at {balance} cents"
            assert balance == self.start_balances[method_id] + moved, f"{method_id} moved without a payment row"

    @invariant()
    def statuses_move_only_along_the_allowed_transitions(self) -> None:
        now = dict(self.rows("SELECT order_id, status FROM orders"))
        changed = {
            order_id: (self.statuses[order_id], status)
            for order_id, status in now.items()
            if status != self.statuses[order_id]
        }
        for order_id, move in changed.items():
            assert move in ORDER_MOVES, f"{order_id} moved {move[0]!r} -> {move[1]!r}"
            assert order_id == self.moved, f"{order_id} moved, but the last write was about {self.moved}"
        self.statuses = now


def test_random_sequences_of_reads_and_writes_keep_the_shop_consistent(
    tau2_template: Path, tau2_data: dict[str, Any], tmp_path: Path
) -> None:
    ShopMachine.template, ShopMachine.folder, ShopMachine.data = tau2_template, tmp_path, tau2_data
    for counter in (ran, tried, done):
        counter.clear()
    run_state_machine_as_test(
        ShopMachine,
        settings=hypothesis.settings(
            max_examples=SEQUENCES,
            stateful_step_count=STEPS_PER_SEQUENCE,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )
    print(f"\nstateful: {ran['sequences']} sequences, {ran['steps']} steps, {ran['writes done']} writes done")
    print("\n".join(f"  {tool}: {done[tool]} done of {tried[tool]}" for tool in sorted(tried)))
    assert ran["writes done"] > 0
