"""Which database a shop lives in: a SQLite file (sqlite.py, the default) or PostgreSQL (postgres.py).

Both give the same handle (`ShopDatabase`): `read`, a connection for queries, and `transaction()`, the one
way to write. Everything else (repositories, rules, audit, idempotency) is written once against it.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Protocol

from .repositories.rows import Connection
from .sqlite import Database, Synchronous, storage_problem


class ShopDatabase(Protocol):
    @property
    def location(self) -> str:
        """The file or the URL (without its password), for messages."""
        ...

    @property
    def read(self) -> Connection: ...

    def transaction(self) -> AbstractAsyncContextManager[Connection]: ...

    async def is_empty(self) -> bool: ...

    async def close(self) -> None: ...


async def open_database(
    path: Path, url: str | None, *, create: bool = True, read_only: bool = False, synchronous: Synchronous = "FULL"
) -> ShopDatabase:
    """Open the shop at `url` (PostgreSQL) if given, else the SQLite file at `path`."""
    if url is not None:
        from .postgres import PostgresDatabase  # asyncpg is loaded only for a PostgreSQL shop

        return await PostgresDatabase.open(url, create=create, read_only=read_only)
    return await Database.open(path, create=create, read_only=read_only, synchronous=synchronous)


def is_storage_error(exc: BaseException) -> bool:
    """A failure of the database itself (SQLite's, PostgreSQL's, or the connection to it), not of the request."""
    return isinstance(exc, sqlite3.Error | ConnectionError) or type(exc).__module__.startswith("asyncpg")


def describe(exc: BaseException) -> str:
    """What a storage failure means for the person running shopdesk, in a few words."""
    if isinstance(exc, sqlite3.Error):
        return storage_problem(exc)
    from .postgres import problem

    return problem(exc)
