"""The database itself: WAL, foreign keys, recorded migrations, an index under every id lookup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shop_support import connected

from server.app import build_server
from server.db import MIGRATIONS, Database
from server.settings import Settings
from server.shop import Shop


async def test_new_database_is_wal_with_foreign_keys_and_recorded_migrations(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "x.sqlite3")
    try:
        async with db.read.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone())[0] == "wal"  # type: ignore[index]
        async with db.read.execute("PRAGMA foreign_keys") as cur:
            assert (await cur.fetchone())[0] == 1  # type: ignore[index]
        async with db.read.execute("SELECT name FROM schema_migrations ORDER BY name") as cur:
            assert [r[0] for r in await cur.fetchall()] == [name for name, _ in MIGRATIONS]
    finally:
        await db.close()
    again = await Database.open(tmp_path / "x.sqlite3")  # reopening applies nothing twice
    await again.close()


async def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "x.sqlite3")
    try:
        try:
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO products (product_id, name) VALUES ('1', 'Lamp')")
                await conn.execute(
                    "INSERT INTO variants (item_id, product_id, options, available, price_cents) "
                    "VALUES ('2', 999, '{}', 1, 100)"
                )  # no product 999: foreign key fails
        except Exception:
            pass
        async with db.read.execute("SELECT count(*) FROM products") as cur:
            assert (await cur.fetchone())[0] == 0  # type: ignore[index]
    finally:
        await db.close()


LOOKUPS = [
    ("find_user_id_by_email", lambda d: {"email": next(iter(d["users"].values()))["email"]}),
    ("find_user_id_by_name_zip", lambda d: {"first_name": "Noah", "last_name": "Brown", "zip": "80279"}),
    ("get_user_details", lambda d: {"user_id": next(iter(d["users"]))}),
    ("get_order_details", lambda d: {"order_id": next(iter(d["orders"]))}),
    ("get_product_details", lambda d: {"product_id": next(iter(d["products"]))}),
    ("get_item_details", lambda d: {"item_id": next(iter(next(iter(d["products"].values()))["variants"]))}),
    ("search_orders", lambda d: {"user_id": next(iter(d["users"]))}),
    ("search_orders", lambda d: {"status": "pending"}),
    ("search_orders", lambda d: {"product_id": next(iter(d["products"]))}),
    ("list_tickets", lambda d: {"status": "open"}),
    ("search_customers", lambda d: {"name": "noah bro"}),
    ("search_customers", lambda d: {"email": "noah.b"}),
    ("search_customers", lambda d: {"phone": "+1-555"}),
    ("search_customers", lambda d: {"zip": "80279"}),
]


async def test_every_id_lookup_uses_an_index(settings: Settings, tau2_data: dict[str, Any]) -> None:
    shop = Shop(settings)
    statements: list[str] = []
    async with connected(build_server(shop=shop)) as client:
        await shop.db.read.set_trace_callback(statements.append)
        for tool, arguments in LOOKUPS:
            statements.clear()
            result = await client.call_tool(tool, arguments(tau2_data))
            assert not result.is_error, result.content[0].text  # type: ignore[union-attr]
            selects = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
            assert selects, tool
            for sql in selects:
                async with shop.db.read.execute(f"EXPLAIN QUERY PLAN {sql}") as cur:
                    plan = [r[3] for r in await cur.fetchall()]
                # A scan of a table is a missing index; a scan of a subquery's own few rows is not.
                subqueries = {p.split()[1] for p in plan if p.startswith("CO-ROUTINE")}
                full_scans = [
                    p
                    for p in plan
                    if p.startswith("SCAN")
                    and "USING" not in p
                    and "subquery" not in p
                    and p.split()[1] not in subqueries
                ]
                # Walking the primary key from the first page's position is a full scan too.
                full_scans += [p for p in plan if "PRIMARY KEY (rowid>?)" in p or "PRIMARY KEY (rowid<?)" in p]
                assert not full_scans, f"{tool}: {sql}\n{plan}"
