"""Import and export of the τ²-bench retail format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from shop_support import tau2_text

from shopdesk.shopdata.generator import generate_into
from shopdesk.shopdata.tau2 import InvalidTau2File, export, import_into
from shopdesk.storage.sqlite import Database


async def test_shared_database_round_trips_exactly(tmp_path: Path, tau2_data: dict[str, Any]) -> None:
    db = await Database.open(tmp_path / "t.sqlite3")
    try:
        counts = await import_into(db, tau2_text())
        assert (counts["customers"], counts["orders"], counts["products"]) == (500, 1000, 50)
        exported = await export(db)
    finally:
        await db.close()
    assert exported == tau2_data
    # Same key order too, where the format has an order: a customer's order list, items, payments.
    for user_id, user in tau2_data["users"].items():
        assert exported["users"][user_id]["orders"] == user["orders"]
        assert list(exported["users"][user_id]["payment_methods"]) == list(user["payment_methods"])


async def test_generated_shop_exports_and_reimports_to_the_same_values(tmp_path: Path) -> None:
    import json

    first = await Database.open(tmp_path / "gen.sqlite3")
    await generate_into(first, customers=25, orders=60, seed=3)
    exported = await export(first)
    await first.close()
    second = await Database.open(tmp_path / "again.sqlite3")
    await import_into(second, json.dumps(exported))
    assert await export(second) == exported
    await second.close()


async def test_importing_into_a_shop_that_has_data_is_refused(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "t.sqlite3")
    try:
        await generate_into(db, customers=2, orders=2)
        with pytest.raises(InvalidTau2File, match="already holds a shop"):
            await import_into(db, tau2_text())
    finally:
        await db.close()


async def test_order_of_unknown_user_is_refused(tmp_path: Path, tau2_data: dict[str, Any]) -> None:
    import json

    broken = {**tau2_data, "users": dict(list(tau2_data["users"].items())[1:])}
    db = await Database.open(tmp_path / "t.sqlite3")
    try:
        with pytest.raises(InvalidTau2File, match="not among the users"):
            await import_into(db, json.dumps(broken))
        assert await db.is_empty()
    finally:
        await db.close()
