"""What the repositories talk to: a connection, on SQLite or PostgreSQL, and the rows it gives.

Repositories write one SQL text for both databases: `?` placeholders and the SQL the two share; the
PostgreSQL connection (`postgres.PgConnection`) translates the few spellings that differ. An aiosqlite
connection is a `Connection` as it is.

Reading rows with as few trips to the connection's thread as possible: aiosqlite runs each connection's
calls on a thread of its own, and every call is a hand-off there and back. `async with conn.execute(...)
as cur: await cur.fetchone()` makes three (execute, fetch, close); `conn.execute_fetchall` and
`fetch_one` make one, which is most of what an id lookup costs beyond SQLite itself (128 -> 52 us
measured side by side). Every read in the repositories goes that way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Iterator
from typing import Any, Protocol


class Row(Protocol):
    """A result row: by position, by column name, or unpacked (sqlite3.Row and asyncpg.Record both are)."""

    def __getitem__(self, key: Any, /) -> Any: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __len__(self) -> int: ...
    def keys(self) -> Any: ...


class Connection(Protocol):
    def execute(self, sql: str, parameters: Iterable[Any] = ..., /) -> Awaitable[Any]: ...

    def execute_fetchall(self, sql: str, parameters: Iterable[Any] = ..., /) -> Awaitable[Iterable[Row]]: ...

    def executemany(self, sql: str, parameters: Iterable[Iterable[Any]], /) -> Awaitable[Any]: ...


async def fetch_one(conn: Connection, sql: str, params: Iterable[object] = ()) -> Row | None:
    """The first row `sql` gives (a query meant to give at most one), in one hand-off."""
    rows = await conn.execute_fetchall(sql, tuple(params))
    return next(iter(rows), None)
