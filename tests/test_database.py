"""The database itself: WAL, foreign keys, recorded migrations, an index under every id lookup."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from shop_support import connected

from shopdesk.app import build_server
from shopdesk.settings import Settings
from shopdesk.shop import Shop, open_or_create
from shopdesk.shopdata.generator import generate_into
from shopdesk.storage import sqlite as db_module
from shopdesk.storage.migrations import MIGRATIONS, script_step, statements
from shopdesk.storage.new_file import build_new
from shopdesk.storage.sqlite import Database, DatabaseUnavailable
from shopdesk.tools.cursors import encode_cursor


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
    # Later pages: the cursor's (placed date, id) must be a range on the index, not a walk from the top.
    ("search_orders", lambda d: {"cursor": encode_cursor("o", ("", 500))}),
    ("search_orders", lambda d: {"status": "pending", "cursor": encode_cursor("o", ("", 500))}),
    ("search_orders", lambda d: {"user_id": next(iter(d["users"])), "cursor": encode_cursor("o", ("", 10**6))}),
    ("list_tickets", lambda d: {"status": "open"}),
    ("search_customers", lambda d: {"name": "noah bro"}),
    ("search_customers", lambda d: {"email": "noah.b"}),
    ("search_customers", lambda d: {"phone": "+1-555"}),
    ("search_customers", lambda d: {"zip": "80279"}),
]


@pytest.mark.sqlite_only  # reads SQLite's query plans
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


def tables_and_steps(path: Path) -> tuple[list[str], list[str]]:
    with closing(sqlite3.connect(path)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master ORDER BY name")]
        steps = []
        if "schema_migrations" in tables:
            steps = [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY name")]
    return tables, steps


async def test_a_failing_migration_leaves_the_database_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "x.sqlite3"
    await (await Database.open(path)).close()
    before = tables_and_steps(path)
    # The second statement fails (the table exists) after the first has made a table.
    broken = script_step("CREATE TABLE half_made (x INTEGER);\nCREATE TABLE customers (y INTEGER);")
    monkeypatch.setattr(db_module, "MIGRATIONS", [*MIGRATIONS, ("9999_broken", broken)])
    with pytest.raises(DatabaseUnavailable, match="already exists"):
        await Database.open(path)
    assert tables_and_steps(path) == before


async def test_a_failing_first_migration_leaves_a_new_file_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = script_step("CREATE TABLE half_made (x INTEGER);\nCREATE TABLE half_made (y INTEGER);")
    monkeypatch.setattr(db_module, "MIGRATIONS", [("0001_initial_schema", broken)])
    with pytest.raises(DatabaseUnavailable):
        await Database.open(tmp_path / "x.sqlite3")
    assert tables_and_steps(tmp_path / "x.sqlite3") == ([], [])


def test_statements_split_on_whole_statements_only() -> None:
    script = "CREATE TABLE a (x TEXT DEFAULT ';');\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n  SELECT 1;\nEND;\n"
    assert len(statements(script)) == 2


@pytest.mark.parametrize(
    "schema",
    [
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('mine');",
        # Rails keeps a table of this very name.
        "CREATE TABLE schema_migrations (version TEXT PRIMARY KEY); INSERT INTO schema_migrations VALUES ('1');",
    ],
)
async def test_another_programs_database_is_refused_without_a_byte_written(tmp_path: Path, schema: str) -> None:
    path = tmp_path / "theirs.sqlite3"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(schema)
    before = path.read_bytes()
    with pytest.raises(DatabaseUnavailable, match="another program's tables"):
        await Database.open(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["theirs.sqlite3"]


async def test_a_database_from_a_newer_shopdesk_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    await (await Database.open(path)).close()
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("INSERT INTO schema_migrations VALUES ('9999_from_the_future', '2030-01-01')")
    with pytest.raises(DatabaseUnavailable, match="newer shopdesk"):
        await Database.open(path)


async def test_an_existing_empty_file_becomes_an_empty_shop_without_demo_data(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    path.touch()
    db = await open_or_create(Settings(db_path=path))
    try:
        assert await db.is_empty()
    finally:
        await db.close()


async def test_a_new_path_gets_a_demo_shop_built_aside_and_moved_in(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    db = await open_or_create(Settings(db_path=path, seed_customers=5, seed_orders=7))
    try:
        assert not await db.is_empty()
    finally:
        await db.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.sqlite3"]  # no temporary file left


async def test_a_folder_that_does_not_exist_is_an_error_not_a_new_shop(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnavailable, match="does not exist"):
        await open_or_create(Settings(db_path=tmp_path / "missing" / "shop.sqlite3"))
    assert not (tmp_path / "missing").exists()


async def test_a_failed_build_leaves_nothing_and_the_next_try_succeeds(tmp_path: Path) -> None:
    path = tmp_path / "shop.sqlite3"
    with pytest.raises(ValueError, match="at least one customer"):
        async with build_new(path) as db:
            await generate_into(db, customers=0, orders=1)
    assert list(tmp_path.iterdir()) == []
    async with build_new(path) as db:
        await generate_into(db, customers=3, orders=4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.sqlite3"]


@pytest.mark.sqlite_only  # reads SQLite's query plans
@pytest.mark.parametrize(
    "filters", [{}, {"status": "pending"}, {"user_id": "noah_brown_6181"}], ids=["all", "status", "customer"]
)
async def test_a_later_page_of_orders_starts_at_its_cursor_in_the_index(
    settings: Settings, filters: dict[str, str]
) -> None:
    shop = Shop(settings)
    statements: list[str] = []
    async with connected(build_server(shop=shop)) as client:
        await shop.db.read.set_trace_callback(statements.append)
        cursor = encode_cursor("o", ("2026-01-01T00:00:00", 500))
        result = await client.call_tool("search_orders", {**filters, "cursor": cursor})
        assert not result.is_error, result.content[0].text  # type: ignore[union-attr]
        (search,) = [sql for sql in statements if "ORDER BY" in sql and "FROM orders o" in sql]
        async with shop.db.read.execute(f"EXPLAIN QUERY PLAN {search}") as cur:
            plan = [r[3] for r in await cur.fetchall()]
    # A range on the placed-date key, not a walk down the index from the newest order.
    assert any(p.startswith("SEARCH o USING INDEX") and "<expr><" in p for p in plan), plan
    assert not any("TEMP B-TREE" in p for p in plan), plan


async def test_the_schema_admits_exactly_the_statuses_the_models_name(tmp_path: Path) -> None:
    from typing import get_args

    from shopdesk.domain.statuses import OrderStatus, TicketStatus

    db = await Database.open(tmp_path / "x.sqlite3")
    try:
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO tickets (id, subject, status, priority, created_at, updated_at) "
                "VALUES (1, 's', 'open', 'low', '', '')"
            )
        for table, statuses in (("tickets", get_args(TicketStatus)), ("orders", get_args(OrderStatus))):
            async with db.read.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)) as cur:
                sql = (await cur.fetchone())[0]  # type: ignore[index]
            assert all(f"'{status}'" in sql for status in statuses)
        for status in (*get_args(TicketStatus), "archived"):
            try:
                async with db.transaction() as conn:
                    await conn.execute("UPDATE tickets SET status = ? WHERE id = 1", (status,))
                accepted = True
            except sqlite3.IntegrityError:
                accepted = False
            assert accepted == (status != "archived"), status
    finally:
        await db.close()
