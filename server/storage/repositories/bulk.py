"""Bulk loading and dumping of whole shops (seed data, τ² import and export).

Rows are plain tuples in the column order of the constants below (an order's, the named `OrderRow`); ids
are given by the caller, so related rows can point at each other without lookups.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import NamedTuple

from .rows import Connection, Row, fetch_one

CUSTOMER_COLUMNS = (
    "id",
    "user_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "address1",
    "address2",
    "city",
    "state",
    "country",
    "zip",
    "created_at",
)
PAYMENT_METHOD_COLUMNS = ("id", "method_id", "customer_id", "source", "brand", "last_four", "balance_cents")
PRODUCT_COLUMNS = ("id", "product_id", "name")
VARIANT_COLUMNS = ("id", "item_id", "product_id", "options", "available", "price_cents")


class OrderRow(NamedTuple):
    """One row of `orders`, by column name: a producer (the demo generator, the τ² import) names what it fills,
    and a new column with a default needs no change there."""

    id: int
    order_id: str
    customer_id: int
    status: str
    address1: str
    address2: str
    city: str
    state: str
    country: str
    zip: str
    placed_at: str | None
    updated_at: str
    cancel_reason: str | None = None
    exchange_items: str | None = None  # JSON lists of item ids
    exchange_new_items: str | None = None
    exchange_payment_method_id: str | None = None
    exchange_price_difference_cents: int | None = None
    return_items: str | None = None
    return_payment_method_id: str | None = None


ORDER_COLUMNS = OrderRow._fields
ORDER_ITEM_COLUMNS = ("order_id", "position", "product_id", "item_id", "name", "options", "price_cents")
FULFILLMENT_COLUMNS = ("order_id", "position", "tracking_ids", "item_ids")
PAYMENT_COLUMNS = ("order_id", "position", "transaction_type", "amount_cents", "payment_method_id", "created_at")

TABLES: dict[str, tuple[str, ...]] = {
    "customers": CUSTOMER_COLUMNS,
    "payment_methods": PAYMENT_METHOD_COLUMNS,
    "products": PRODUCT_COLUMNS,
    "variants": VARIANT_COLUMNS,
    "orders": ORDER_COLUMNS,
    "order_items": ORDER_ITEM_COLUMNS,
    "fulfillments": FULFILLMENT_COLUMNS,
    "payments": PAYMENT_COLUMNS,
}


@dataclass
class ShopRows:
    """A batch of rows for every table, inserted parents first."""

    customers: list[tuple[object, ...]] = field(default_factory=list)
    payment_methods: list[tuple[object, ...]] = field(default_factory=list)
    products: list[tuple[object, ...]] = field(default_factory=list)
    variants: list[tuple[object, ...]] = field(default_factory=list)
    orders: list[OrderRow] = field(default_factory=list)
    order_items: list[tuple[object, ...]] = field(default_factory=list)
    fulfillments: list[tuple[object, ...]] = field(default_factory=list)
    payments: list[tuple[object, ...]] = field(default_factory=list)


async def insert(conn: Connection, rows: ShopRows) -> None:
    for table, columns in TABLES.items():
        batch = getattr(rows, table)
        if batch:
            marks = ", ".join("?" for _ in columns)
            await conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", batch)


async def dump(conn: Connection, table: str) -> AsyncIterator[Row]:
    """Every row of one of the bulk tables: by id, or for an order's parts by order and position."""
    columns = TABLES[table]  # table names come from this fixed map, never from input
    order = "order_id, position" if "position" in columns else "id"
    for row in await conn.execute_fetchall(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}"):
        yield row


async def counts(conn: Connection) -> dict[str, int]:
    result = {}
    for table in (*TABLES, "tickets"):
        row = await fetch_one(conn, f"SELECT count(*) FROM {table}")
        result[table] = int(row[0]) if row else 0
    return result
