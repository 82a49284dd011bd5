"""The fast ways of making a shop make the same shop: in a child process or in this one, in a file built by
`build_new` (no syncs, a large cache) or in one opened as usual."""

from __future__ import annotations

import contextlib
import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from shopdesk.shopdata import generator as seed
from shopdesk.storage.migrations import MIGRATIONS
from shopdesk.storage.new_file import build_new
from shopdesk.storage.repositories import bulk
from shopdesk.storage.repositories.rows import Connection
from shopdesk.storage.sqlite import Database

CUSTOMERS, ORDERS, SEED = 300, 1_000, 3


async def rows_of(db: Database) -> dict[str, list[tuple[object, ...]]]:
    return {table: [tuple(row) async for row in bulk.dump(db.read, table)] for table in bulk.TABLES}


async def made(path: Path, progress: list[int]) -> dict[str, list[tuple[object, ...]]]:
    db = await Database.open(path)
    try:
        await seed.generate_into(db, customers=CUSTOMERS, orders=ORDERS, seed=SEED, progress=progress.append)
        return await rows_of(db)
    finally:
        await db.close()


async def test_a_shop_made_in_a_child_process_is_the_shop_made_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here_progress: list[int] = []
    here = await made(tmp_path / "here.sqlite3", here_progress)
    monkeypatch.setattr(seed, "CHILD_PROCESS_FROM", 0)
    child_progress: list[int] = []
    child = await made(tmp_path / "child.sqlite3", child_progress)
    assert len(here["orders"]) == ORDERS and len(here["customers"]) == CUSTOMERS
    assert child == here
    assert child_progress == here_progress == [ORDERS]
    assert not multiprocessing.active_children()


async def test_a_failed_write_stops_the_child_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seed, "CHILD_PROCESS_FROM", 0)
    calls = 0

    async def insert(conn: Connection, rows: bulk.ShopRows) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # the first batch of customers
            raise OSError("disk full")

    monkeypatch.setattr(bulk, "insert", insert)
    db = await Database.open(tmp_path / "shop.sqlite3")
    try:
        with pytest.raises(OSError, match="disk full"):
            await seed.generate_into(db, customers=CUSTOMERS, orders=ORDERS, seed=SEED)
    finally:
        await db.close()
    assert not multiprocessing.active_children()


@pytest.mark.parametrize("in_a_child", [False, True], ids=["here", "child"])
async def test_a_shop_built_by_build_new_is_an_ordinary_file_with_the_same_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_a_child: bool
) -> None:
    expected = await made(tmp_path / "as-usual.sqlite3", [])
    if in_a_child:
        monkeypatch.setattr(seed, "CHILD_PROCESS_FROM", 0)
    path = tmp_path / "built.sqlite3"
    async with build_new(path) as db:
        await seed.generate_into(db, customers=CUSTOMERS, orders=ORDERS, seed=SEED)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["as-usual.sqlite3", "built.sqlite3"]  # no sidecars
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert {r[0] for r in conn.execute("SELECT name FROM schema_migrations")} == {n for n, _ in MIGRATIONS}
        schema = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY rowid").fetchall()
    with contextlib.closing(sqlite3.connect(tmp_path / "as-usual.sqlite3")) as conn:
        assert schema == conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY rowid").fetchall()
    db = await Database.open(path, create=False)
    try:
        assert await rows_of(db) == expected
    finally:
        await db.close()
