"""Products and their variant items."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ...domain.models import ItemDetails, Product, Variant
from ...domain.money import to_dollars
from .rows import Connection, fetch_one


async def get(conn: Connection, product_id: str) -> Product | None:
    row = await fetch_one(conn, "SELECT id, product_id, name FROM products WHERE product_id = ?", (product_id,))
    if row is None:
        return None
    rows = await conn.execute_fetchall(
        "SELECT item_id, options, available, price_cents FROM variants WHERE product_id = ? ORDER BY id", (row[0],)
    )
    variants = [
        Variant(item_id=r[0], options=json.loads(r[1]), available=bool(r[2]), price=to_dollars(r[3])) for r in rows
    ]
    return Product(name=row["name"], product_id=row["product_id"], variants={v.item_id: v for v in variants})


async def items(conn: Connection, item_ids: Sequence[str]) -> dict[str, ItemDetails]:
    """The variant items among `item_ids` that exist, with their product."""
    unique = sorted(set(item_ids))
    if not unique:
        return {}
    marks = ", ".join("?" for _ in unique)
    rows = await conn.execute_fetchall(
        "SELECT v.item_id, v.options, v.available, v.price_cents, p.product_id, p.name FROM variants v "
        f"JOIN products p ON p.id = v.product_id WHERE v.item_id IN ({marks})",
        unique,
    )
    return {
        r[0]: ItemDetails(
            item_id=r[0],
            options=json.loads(r[1]),
            available=bool(r[2]),
            price=to_dollars(r[3]),
            product_id=r[4],
            product_name=r[5],
        )
        for r in rows
    }


async def product_types(conn: Connection) -> dict[str, str]:
    rows = await conn.execute_fetchall("SELECT name, product_id FROM products ORDER BY name COLLATE BINARY")
    return {r[0]: r[1] for r in rows}
