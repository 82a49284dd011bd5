"""The demo data generator: deterministic, consistent, any size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shopdesk.shopdata.generator import generate_into
from shopdesk.shopdata.tau2 import export
from shopdesk.storage.sqlite import Database


async def generated(path: Path, **size: int) -> dict[str, Any]:
    db = await Database.open(path)
    try:
        await generate_into(db, **size)
        return await export(db)
    finally:
        await db.close()


async def test_same_seed_same_shop_other_seed_other_shop(tmp_path: Path) -> None:
    a = await generated(tmp_path / "a.sqlite3", customers=20, orders=50, seed=1)
    b = await generated(tmp_path / "b.sqlite3", customers=20, orders=50, seed=1)
    c = await generated(tmp_path / "c.sqlite3", customers=20, orders=50, seed=2)
    assert a == b
    assert a != c


async def test_generated_orders_are_consistent(tmp_path: Path) -> None:
    shop = await generated(tmp_path / "s.sqlite3", customers=40, orders=300, seed=5)
    assert len(shop["orders"]) == 300 and len(shop["users"]) == 40
    variants = {v["item_id"]: (p["product_id"], v) for p in shop["products"].values() for v in p["variants"].values()}
    statuses = set()
    for order in shop["orders"].values():
        statuses.add(order["status"])
        user = shop["users"][order["user_id"]]
        assert order["order_id"] in user["orders"]
        total = round(sum(i["price"] for i in order["items"]), 2)
        first = order["payment_history"][0]
        assert first == {**first, "transaction_type": "payment", "amount": total}
        assert first["payment_method_id"] in user["payment_methods"]
        for item in order["items"]:
            product_id, variant = variants[item["item_id"]]
            assert item["product_id"] == product_id and item["options"] == variant["options"]
        if order["status"] in ("processed", "delivered"):
            assert order["fulfillments"]
    assert {"pending", "processed", "delivered", "cancelled"} <= statuses
    balances = [
        m["balance"]
        for u in shop["users"].values()
        for m in u["payment_methods"].values()
        if m["source"] == "gift_card"
    ]
    assert balances and min(balances) >= 0


async def test_order_ids_stay_unique_in_a_larger_shop(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "big.sqlite3")
    try:
        counts = await generate_into(db, customers=2_000, orders=25_000, seed=9)
        async with db.read.execute("SELECT count(DISTINCT order_id) FROM orders") as cur:
            distinct = (await cur.fetchone())[0]  # type: ignore[index]
    finally:
        await db.close()
    assert counts["orders"] == distinct == 25_000
