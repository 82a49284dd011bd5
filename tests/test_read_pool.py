"""Reads never wait: not for a write in progress, and (SQLite's read pool) not for a slow read."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from shop_support import call, connected

from shopdesk.app import build_server
from shopdesk.settings import Settings
from shopdesk.shop import Shop
from shopdesk.storage.read_pool import ReadPool, loop_reader

# Counts to a hundred million: seconds of work for SQLite, far longer than any read a test makes.
_SLOW = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000) SELECT count(*) FROM c"


async def test_reads_answer_while_a_write_is_open_and_see_only_what_is_committed(
    settings: Settings, tau2_data: dict[str, Any]
) -> None:
    shop = Shop(settings)
    user_id = next(iter(tau2_data["users"]))
    async with connected(build_server(shop=shop)) as client:
        before = await call(client, "list_tickets", user_id=user_id)
        async with shop.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO tickets (customer_id, subject, status, priority, created_at, updated_at) "
                "VALUES ((SELECT id FROM customers WHERE user_id = ?), 'Pending', 'open', 'normal', 'x', 'x')",
                (user_id,),
            )
            # The write is open (and holds the write lock); reads go on, and do not see it.
            assert await call(client, "list_tickets", user_id=user_id) == before
            order_id = tau2_data["users"][user_id]["orders"][0]
            assert (await call(client, "get_order_details", order_id=order_id))["order_id"] == order_id
        after = await call(client, "list_tickets", user_id=user_id)
    assert [t["subject"] for t in after["tickets"]] == ["Pending"]


@pytest.mark.sqlite_only
async def test_a_slow_read_holds_up_no_other_read(tau2_template: Path) -> None:
    connections = [await aiosqlite.connect(tau2_template) for _ in range(2)]
    running, stop = threading.Event(), threading.Event()

    def progress() -> int:  # SQLite calls it while the slow read runs; a non-zero answer aborts the read
        running.set()
        return 1 if stop.is_set() else 0

    await connections[0].set_progress_handler(progress, 10_000)
    pool = ReadPool(connections)
    slow = asyncio.create_task(pool.execute_fetchall(_SLOW))  # takes the first (least busy) connection
    try:
        assert await asyncio.to_thread(running.wait, 60), "the slow read never started"
        # Queued behind the slow read, the quick one would never come back (the slow one runs until stopped).
        quick = pool.execute_fetchall("SELECT count(*) FROM customers")
        rows = list(await asyncio.wait_for(quick, timeout=60))
        assert rows[0][0] == 500
        assert not slow.done()  # the quick read did not queue behind it
    finally:
        stop.set()
        with pytest.raises(sqlite3.OperationalError, match="interrupted"):
            await slow
        await pool.close()


@pytest.mark.sqlite_only
async def test_the_pool_refuses_to_write(tau2_template: Path) -> None:
    pool = ReadPool([await aiosqlite.connect(tau2_template)])
    try:
        with pytest.raises(sqlite3.OperationalError, match="cannot write"):
            await pool.executemany("DELETE FROM customers WHERE id = ?", [(1,)])
    finally:
        await pool.close()


@pytest.mark.sqlite_only
async def test_short_reads_run_on_the_loop_and_a_long_one_moves_to_a_reader_thread(tau2_template: Path) -> None:
    on_loop: list[str] = []
    on_thread: list[str] = []
    loop_connection = loop_reader(str(tau2_template))
    loop_connection.set_trace_callback(on_loop.append)
    reader = await aiosqlite.connect(tau2_template)
    await reader.set_trace_callback(on_thread.append)
    # A budget of nothing: a read is interrupted at SQLite's first look at the clock (after 1000 steps).
    pool = ReadPool([reader], loop_connection, budget=0)
    try:
        quick = "SELECT user_id FROM customers WHERE id = 1"
        assert len(list(await pool.execute_fetchall(quick))) == 1
        assert on_loop == [quick] and on_thread == []

        counting = _SLOW.replace("100000000", "200000")  # millions of steps: far past the budget
        rows = list(await pool.execute_fetchall(counting))
        assert rows[0][0] == 200_000  # answered in full, by the reader thread
        assert on_loop == [quick, counting] and on_thread == [counting]
    finally:
        await pool.close()


@pytest.mark.sqlite_only
async def test_a_read_that_finds_the_database_locked_waits_on_a_reader_thread_not_on_the_loop(
    tmp_path: Path, tau2_template: Path
) -> None:
    path = tmp_path / "shop.sqlite3"
    shutil.copy(tau2_template, path)
    # With a rollback journal, a writer's EXCLUSIVE lock keeps every reader out until it ends.
    sqlite3.connect(path).execute("PRAGMA journal_mode = DELETE").close()
    query = "SELECT count(*) FROM customers"
    waiting = threading.Event()
    reader = await aiosqlite.connect(path)
    await reader.execute("PRAGMA busy_timeout = 60000")
    loop_connection = loop_reader(str(path))
    assert loop_connection.execute("PRAGMA busy_timeout").fetchone()[0] == 0  # it never waits for a lock
    # Both read the schema now, so the lock is met in the read itself, after the reader's trace shows it.
    await reader.execute_fetchall(query)
    loop_connection.execute(query).fetchall()
    await reader.set_trace_callback(lambda statement: waiting.set())
    pool = ReadPool([reader], loop_connection)
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        read = asyncio.create_task(pool.execute_fetchall(query))
        # The loop's connection met the lock and gave up at once (the loop is free: this await returns);
        # the reader thread took the read and waits for the lock.
        assert await asyncio.to_thread(waiting.wait, 60), "the read never reached a reader thread"
        assert not read.done()
        locker.rollback()
        assert list(await asyncio.wait_for(read, timeout=60))[0][0] == 500
    finally:
        locker.close()
        await pool.close()
