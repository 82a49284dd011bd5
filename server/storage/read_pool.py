"""SQLite reads: on the event loop's own connection while they are short, on reader threads when not.

aiosqlite runs each connection on a thread of its own, and every call is a hand-off there and back:
two wake-ups across threads, which cost more than an indexed lookup itself (a 1-row read: ~110 us
through a thread, ~40 us on the loop). Nearly every read a tool makes is such a lookup or a page of
twenty rows. So a read runs first on a plain sqlite3 connection on the event loop's thread, with a
budget (`LOOP_BUDGET`): SQLite checks the clock every thousand steps of its virtual machine, and a
read still running when the budget is spent is interrupted there and run again from the start on a
reader thread. The loop is never held longer than the budget, whatever the read.

On the reader threads, each read goes to the connection with the fewest reads in flight, so one slow
read (an export, a wide search) holds up no other. The loop's connection never waits for a lock
(`busy_timeout` 0): a read that finds the database busy there goes to a thread too, which waits as
the other connections do. In WAL mode every connection reads the last committed state, and none
waits for the writer (sqlite.Database keeps the writer apart).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import aiosqlite

from .repositories.rows import Row

READERS = 3
LOOP_BUDGET = 0.002  # seconds a read may hold the event loop before it moves to a reader thread
_CHECK_EVERY = 1000  # SQLite virtual machine steps between looks at the clock


class ReadPool:
    def __init__(
        self,
        connections: Sequence[aiosqlite.Connection],
        loop_connection: sqlite3.Connection | None = None,
        *,
        budget: float = LOOP_BUDGET,
    ) -> None:
        self._connections = list(connections)
        self._in_flight = [0] * len(self._connections)
        self._loop = loop_connection
        self._budget = budget
        self._deadline = 0.0
        if loop_connection is not None:
            loop_connection.set_progress_handler(self._over_budget, _CHECK_EVERY)

    def _over_budget(self) -> int:
        return 1 if time.perf_counter() > self._deadline else 0

    def _least_busy(self) -> int:
        return min(range(len(self._connections)), key=self._in_flight.__getitem__)

    async def execute_fetchall(self, sql: str, parameters: Iterable[Any] = (), /) -> Iterable[Row]:
        parameters = tuple(parameters)
        if self._loop is not None:
            self._deadline = time.perf_counter() + self._budget
            try:
                rows: list[Row] = self._loop.execute(sql, parameters).fetchall()
                return rows
            except sqlite3.OperationalError:
                pass  # over budget ("interrupted") or busy: a reader thread runs it, and its answer is the one given
        index = self._least_busy()
        self._in_flight[index] += 1
        try:
            return await self._connections[index].execute_fetchall(sql, parameters)
        finally:
            self._in_flight[index] -= 1

    def execute(self, sql: str, parameters: Iterable[Any] = (), /) -> Any:
        """A cursor (awaitable, or `async with`) on the least busy reader thread, as aiosqlite gives it."""
        return self._connections[self._least_busy()].execute(sql, tuple(parameters))

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]], /) -> None:
        raise sqlite3.OperationalError("read connections cannot write; writes go through Database.transaction()")

    async def set_trace_callback(self, callback: Callable[[str], object]) -> None:
        """Every statement any read connection runs goes to `callback` (tests use it to see the SQL)."""
        if self._loop is not None:
            self._loop.set_trace_callback(callback)
        for connection in self._connections:
            await connection.set_trace_callback(callback)

    async def close(self) -> None:
        if self._loop is not None:
            self._loop.close()
        for connection in self._connections:
            await connection.close()


def loop_reader(target: str, *, uri: bool = False) -> sqlite3.Connection:
    """The event loop's read connection to `target` (see the module's docstring)."""
    conn = sqlite3.connect(target, uri=uri, timeout=0, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA query_only = ON")
    return conn
