"""SQLite reads on several connections, so one slow read (an export, a wide search) holds up no other.

aiosqlite runs each connection on a thread of its own and its calls one after another; with one read
connection, every read queued behind the slowest. Here each read goes to the connection with the fewest
reads in flight. In WAL mode every connection reads the last committed state and none waits for the
writer (db.Database keeps the writer apart).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import aiosqlite

from .repositories.rows import Row

READERS = 3


class ReadPool:
    def __init__(self, connections: Sequence[aiosqlite.Connection]) -> None:
        self._connections = list(connections)
        self._in_flight = [0] * len(self._connections)

    def _least_busy(self) -> int:
        return min(range(len(self._connections)), key=self._in_flight.__getitem__)

    async def execute_fetchall(self, sql: str, parameters: Iterable[Any] = (), /) -> Iterable[Row]:
        index = self._least_busy()
        self._in_flight[index] += 1
        try:
            return await self._connections[index].execute_fetchall(sql, tuple(parameters))
        finally:
            self._in_flight[index] -= 1

    def execute(self, sql: str, parameters: Iterable[Any] = (), /) -> Any:
        """A cursor (awaitable, or `async with`) on the least busy connection, as aiosqlite gives it."""
        return self._connections[self._least_busy()].execute(sql, tuple(parameters))

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]], /) -> None:
        raise sqlite3.OperationalError("read connections cannot write; writes go through Database.transaction()")

    async def set_trace_callback(self, callback: Callable[[str], object]) -> None:
        """Every statement any read connection runs goes to `callback` (tests use it to see the SQL)."""
        for connection in self._connections:
            await connection.set_trace_callback(callback)

    async def close(self) -> None:
        for connection in self._connections:
            await connection.close()
