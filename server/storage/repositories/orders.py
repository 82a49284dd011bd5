"""Orders: their items, shipments (fulfillments) and payment history."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ...domain.errors import Conflict
from ...domain.models import Address, Fulfillment, Order, OrderItem, OrderSummary, PaymentEntry
from ...domain.money import Movement, to_cents, to_dollars
from ...domain.statuses import OrderStatus
from ..sqlite import utc_now
from .customers import address_from_row
from .paging import PageKey, page, where
from .rows import Connection, fetch_one

_ORDER_COLUMNS = (
    "o.id, o.order_id, c.user_id, o.status, o.address1, o.address2, o.city, o.state, o.country, o.zip, "
    "o.placed_at, o.cancel_reason, o.exchange_items, o.exchange_new_items, o.exchange_payment_method_id, "
    "o.exchange_price_difference_cents, o.return_items, o.return_payment_method_id"
)


# The sort key of "newest first", spelled as the indexes on it are (see schema.ORDER_PLACED_KEY).
_PLACED = "coalesce(o.placed_at, '')"


def _json_list(text: str | None) -> list[str] | None:
    return None if text is None else list(json.loads(text))


# One statement reads the order with its items, shipments and payments, so the parts always come from
# the same committed state (and it is one round trip).
_GET_ORDER = f"""
SELECT {_ORDER_COLUMNS},
  (SELECT json_group_array(json_array(name, product_id, item_id, price_cents, json(options)))
     FROM (SELECT * FROM order_items WHERE order_id = o.id ORDER BY position) part) AS items,
  (SELECT json_group_array(json_array(json(tracking_ids), json(item_ids)))
     FROM (SELECT * FROM fulfillments WHERE order_id = o.id ORDER BY position) part) AS fulfillments,
  (SELECT json_group_array(json_array(transaction_type, amount_cents, payment_method_id))
     FROM (SELECT * FROM payments WHERE order_id = o.id ORDER BY position) part) AS payments
FROM orders o JOIN customers c ON c.id = o.customer_id
WHERE o.order_id = ?
"""


async def get(conn: Connection, order_id: str) -> Order | None:
    row = await fetch_one(conn, _GET_ORDER, (order_id,))
    if row is None:
        return None
    items = [
        OrderItem(name=name, product_id=product_id, item_id=item_id, price=to_dollars(cents), options=options)
        for name, product_id, item_id, cents, options in json.loads(row["items"])
    ]
    fulfillments = [
        Fulfillment(tracking_id=tracking, item_ids=item_ids) for tracking, item_ids in json.loads(row["fulfillments"])
    ]
    payments = [
        PaymentEntry(transaction_type=kind, amount=to_dollars(cents), payment_method_id=method)
        for kind, cents, method in json.loads(row["payments"])
    ]
    difference = row["exchange_price_difference_cents"]
    return Order(
        order_id=row["order_id"],
        user_id=row["user_id"],
        address=address_from_row(row),
        items=items,
        status=row["status"],
        fulfillments=fulfillments,
        payment_history=payments,
        placed_at=row["placed_at"],
        cancel_reason=row["cancel_reason"],
        exchange_items=_json_list(row["exchange_items"]),
        exchange_new_items=_json_list(row["exchange_new_items"]),
        exchange_payment_method_id=row["exchange_payment_method_id"],
        exchange_price_difference=None if difference is None else to_dollars(difference),
        return_items=_json_list(row["return_items"]),
        return_payment_method_id=row["return_payment_method_id"],
    )


async def _update(conn: Connection, order_id: str, expected: OrderStatus, sets: str, params: Sequence[object]) -> None:
    """Update one order, but only while it still has the status the rules were checked against (policy decides
    the statuses; this guard catches a change made in between)."""
    updated = await conn.execute_fetchall(
        f"UPDATE orders SET {sets}, updated_at = ? WHERE order_id = ? AND status = ? RETURNING id",
        (*params, utc_now(), order_id, expected),
    )
    if len(list(updated)) != 1:
        raise Conflict(
            f"Order {order_id} changed while this request was being handled.", "Read it again with get_order_details."
        )


async def mark_cancelled(conn: Connection, order: Order, status: OrderStatus, reason: str) -> None:
    await _update(conn, order.order_id, order.status, "status = ?, cancel_reason = ?", (status, reason))


async def set_address(conn: Connection, order: Order, address: Address) -> None:
    await _update(
        conn,
        order.order_id,
        order.status,
        "address1 = ?, address2 = ?, city = ?, state = ?, country = ?, zip = ?",
        (address.address1, address.address2, address.city, address.state, address.country, address.zip),
    )


async def append_payments(conn: Connection, order_id: str, movements: Sequence[Movement]) -> None:
    """Append the movements to the order's payment history."""
    now = utc_now()
    await conn.executemany(
        "INSERT INTO payments (order_id, position, transaction_type, amount_cents, payment_method_id, created_at) "
        "SELECT o.id, (SELECT coalesce(max(position), -1) + 1 FROM payments WHERE order_id = o.id), ?, ?, ?, ? "
        "FROM orders o WHERE o.order_id = ?",
        [(m.kind, m.cents, m.method_id, now, order_id) for m in movements],
    )


async def replace_items(
    conn: Connection, order: Order, status: OrderStatus, replacements: Sequence[tuple[int, OrderItem]]
) -> None:
    """Swap the items at the given positions and give the order `status` (policy says which)."""
    await conn.executemany(
        "UPDATE order_items SET item_id = ?, price_cents = ?, options = ? "
        "WHERE position = ? AND order_id = (SELECT id FROM orders WHERE order_id = ?)",
        [
            (item.item_id, to_cents(item.price), json.dumps(item.options), position, order.order_id)
            for position, item in replacements
        ],
    )
    await _update(conn, order.order_id, order.status, "status = ?", (status,))


async def request_return(
    conn: Connection, order: Order, status: OrderStatus, item_ids: Sequence[str], method_id: str
) -> None:
    await _update(
        conn,
        order.order_id,
        order.status,
        "status = ?, return_items = ?, return_payment_method_id = ?",
        (status, json.dumps(sorted(item_ids)), method_id),
    )


async def request_exchange(
    conn: Connection,
    order: Order,
    status: OrderStatus,
    item_ids: Sequence[str],
    new_item_ids: Sequence[str],
    method_id: str,
    difference_cents: int,
) -> None:
    await _update(
        conn,
        order.order_id,
        order.status,
        "status = ?, exchange_items = ?, exchange_new_items = ?, "
        "exchange_payment_method_id = ?, exchange_price_difference_cents = ?",
        (status, json.dumps(sorted(item_ids)), json.dumps(sorted(new_item_ids)), method_id, difference_cents),
    )


def _filters(
    user_id: str | None,
    status: str | None,
    placed_from: str | None,
    placed_to: str | None,
    product_id: str | None,
    item_id: str | None,
) -> list[tuple[str, object]]:
    return [
        ("c.user_id = ?", user_id),
        ("o.status = ?", status),
        (f"{_PLACED} >= ?", placed_from),
        ("o.placed_at < ?", placed_to),
        ("o.id IN (SELECT order_id FROM order_items WHERE product_id = ?)", product_id),
        ("o.id IN (SELECT order_id FROM order_items WHERE item_id = ?)", item_id),
    ]


async def count(
    conn: Connection,
    *,
    user_id: str | None = None,
    status: str | None = None,
    placed_from: str | None = None,
    placed_to: str | None = None,
) -> int:
    """How many orders match every given filter (what search would page through)."""
    clause, params = where(_filters(user_id, status, placed_from, placed_to, None, None))
    sql = f"SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id {clause}"
    row = await fetch_one(conn, sql, params)
    return int(row[0]) if row else 0


async def search(
    conn: Connection,
    *,
    user_id: str | None,
    status: str | None,
    placed_from: str | None,
    placed_to: str | None,
    product_id: str | None,
    item_id: str | None,
    after: PageKey | None,
    limit: int,
) -> tuple[list[OrderSummary], PageKey | None]:
    """Orders matching every given filter, newest first (by placed date, then id); returns the page and
    where it ended, (placed date, id), if more follow."""
    clause, params = where(
        [
            # After the last page's (date, id): `date <= ?` lets the index skip to it; the rest breaks ties.
            (f"{_PLACED} <= ? AND ({_PLACED} < ? OR o.id < ?)", (after[0], after[0], after[1]) if after else None),
            *_filters(user_id, status, placed_from, placed_to, product_id, item_id),
        ]
    )
    rows, last = await page(
        conn,
        "SELECT o.id, o.order_id, c.user_id, c.first_name, c.last_name, o.status, o.placed_at, "
        f"{_PLACED} AS placed_key "
        f"FROM orders o JOIN customers c ON c.id = o.customer_id {clause} ORDER BY {_PLACED} DESC, o.id DESC LIMIT ?",
        params,
        limit,
        key=lambda row: (row["placed_key"], int(row["id"])),
    )
    items: dict[int, list[tuple[str, int]]] = {row["id"]: [] for row in rows}
    if rows:
        marks = ", ".join("?" for _ in rows)
        for r in await conn.execute_fetchall(
            f"SELECT order_id, name, price_cents FROM order_items WHERE order_id IN ({marks}) "
            "ORDER BY order_id, position",
            list(items),
        ):
            items[r[0]].append((r[1], r[2]))
    summaries = [
        OrderSummary(
            order_id=r["order_id"],
            user_id=r["user_id"],
            customer_name=f"{r['first_name']} {r['last_name']}",
            status=r["status"],
            placed_at=r["placed_at"],
            item_count=len(items[r["id"]]),
            total=to_dollars(sum(cents for _, cents in items[r["id"]])),
            item_names=[name for name, _ in items[r["id"]]],
        )
        for r in rows
    ]
    return summaries, last


async def key_and_owner(conn: Connection, order_id: str) -> tuple[int, str] | None:
    """The order's internal key and its customer's user id."""
    row = await fetch_one(
        conn,
        "SELECT o.id, c.user_id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.order_id = ?",
        (order_id,),
    )
    return None if row is None else (int(row[0]), str(row[1]))
