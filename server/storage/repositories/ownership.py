"""Who owns a record: the user id of the customer an order, ticket or payment method belongs to."""

from __future__ import annotations

from typing import Literal

from .rows import Connection, fetch_one
from .tickets import ticket_key

RecordKind = Literal["customer", "order", "ticket", "payment_method"]

_OWNER_SQL: dict[RecordKind, str] = {
    "customer": "SELECT user_id FROM customers WHERE user_id = ?",
    "order": "SELECT c.user_id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.order_id = ?",
    "ticket": "SELECT c.user_id FROM tickets t JOIN customers c ON c.id = t.customer_id WHERE t.id = ?",
    "payment_method": "SELECT c.user_id FROM payment_methods p JOIN customers c ON c.id = p.customer_id "
    "WHERE p.method_id = ?",
}


async def owner(conn: Connection, kind: RecordKind, record_id: str) -> str | None:
    """The owner's user id; None when the record does not exist or belongs to no customer."""
    key: str | int | None = ticket_key(record_id) if kind == "ticket" else record_id
    if key is None:
        return None
    row = await fetch_one(conn, _OWNER_SQL[kind], (key,))
    return None if row is None else str(row[0])
