"""The database: one SQLite file in WAL mode, opened, checked and migrated.

Connections per process: a writer, used only inside `transaction()` (one write at
a time, BEGIN IMMEDIATE, so a write never deadlocks half way), and readers for
everything else (read_pool.py: the event loop's own connection for short reads,
reader threads for long ones), which in WAL mode see the last committed state
and never wait for the writer.

A file is opened only if it is shopdesk's own or holds no tables at all: another
program's database is refused before a byte of it is written. New shops are built
in a temporary file and moved into place only when complete (`build_new`, in new_file.py).
The tables are in schema.py, the steps that make them in migrations.py; they are applied here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.request import pathname2url

import aiosqlite

from .migrations import _FIRST_MIGRATION, MIGRATIONS
from .read_pool import READERS, ReadPool, loop_reader
from .schema import MIGRATION_SCRIPTS


class DatabaseUnavailable(Exception):
    """The database file is missing, unreadable, not a shopdesk database, or cannot be made."""


def storage_problem(exc: sqlite3.Error) -> str:
    """What a SQLite failure means for the person running shopdesk, in a few words."""
    name = getattr(exc, "sqlite_errorname", "")
    if name.startswith("SQLITE_FULL"):
        return "the disk is full"
    if name.startswith("SQLITE_READONLY"):
        return "the database file is read-only"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return "the database is busy: another program holds a lock on it"
    if name.startswith("SQLITE_IOERR"):
        return "the disk refused a write (it may be full, or the file over a size limit)"
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return "the database file is damaged"
    if name.startswith("SQLITE_CANTOPEN"):
        return "the database file cannot be opened"
    return str(exc)


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# FULL: a write acknowledged to a client survives a power cut, not only a crash of the process
# (in WAL mode, NORMAL may lose the last transactions on power loss). NORMAL is faster; see bench/.
Synchronous = Literal["FULL", "NORMAL"]


async def _configure(conn: aiosqlite.Connection, synchronous: Synchronous = "FULL") -> None:
    conn.row_factory = aiosqlite.Row
    await conn.execute("PRAGMA foreign_keys = ON")
    await conn.execute("PRAGMA busy_timeout = 5000")
    await conn.execute(f"PRAGMA synchronous = {'FULL' if synchronous == 'FULL' else 'NORMAL'}")


async def _apply_migrations(conn: aiosqlite.Connection) -> None:
    for name, migrate in MIGRATIONS:
        await conn.execute("BEGIN IMMEDIATE")
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            async with conn.execute("SELECT 1 FROM schema_migrations WHERE name = ?", (name,)) as cursor:
                applied = await cursor.fetchone() is not None
            if not applied:
                await migrate(conn)
                await conn.execute("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)", (name, utc_now()))
            await conn.commit()
        except BaseException:
            await conn.rollback()
            raise


def _no_wal(path: Path) -> bool:
    """No -wal file beside it: no connection has the database open in WAL mode, all of it is in the file."""
    return not Path(f"{path}-wal").exists()


def _folder_read_only(path: Path) -> bool:
    """A folder nobody may write to (mode bits, or a read-only mount): no writer can make a -wal beside the
    file. Not merely one this user may not write to: its owner may start a server there, whose writes a
    reader must see. The bits count even for root, who could write anyway: they say nothing belongs there."""
    folder = path.resolve().parent
    return not folder.stat().st_mode & 0o222 or bool(os.statvfs(folder).f_flag & os.ST_RDONLY)


def read_only_uri(path: Path) -> str:
    """SQLite's read-only mode, which still makes -wal and -shm files beside a WAL database; `immutable` (no
    locks, no files made) where no writer can be there: no -wal beside the file, in a read-only folder."""
    mode = "immutable=1" if _no_wal(path) and _folder_read_only(path) else "mode=ro"
    return f"file:{pathname2url(str(path.resolve()))}?{mode}"


def refuse_special_file(path: Path) -> None:
    """A directory, device, pipe or socket is no database: SQLite would wait on a pipe, and make a -journal
    beside a device (`--db /dev/null` made /dev/null-journal)."""
    if path.exists() and not path.is_file():
        mode = path.stat().st_mode
        kinds = {"a directory": stat.S_ISDIR, "a pipe": stat.S_ISFIFO, "a socket": stat.S_ISSOCK}
        kind = next((name for name, test in kinds.items() if test(mode)), "a device")
        raise DatabaseUnavailable(f"{path} is {kind}, not a database file")


def check_is_shopdesk(path: Path) -> set[str]:
    """The schema steps applied to the file at `path`; refuses, without writing to it or beside it, a file
    that holds another program's tables or a newer shopdesk's."""
    refuse_special_file(path)
    # Where no -wal is beside it, the whole database is in the file: read it as immutable, which makes no
    # -wal and -shm (a read-only connection does, and leaves them beside a file it then refuses).
    peek = f"file:{pathname2url(str(path.resolve()))}?immutable=1" if _no_wal(path) else read_only_uri(path)
    try:
        with contextlib.closing(sqlite3.connect(peek, uri=True)) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            tables -= {"sqlite_sequence", "sqlite_stat1"}
            columns = {row[0] for row in conn.execute("SELECT name FROM pragma_table_info('schema_migrations')")}
            # Other programs keep a table of this name too (Rails, for one): ours has these two columns.
            ours = columns == {"name", "applied_at"}
            applied = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")} if ours else set()
    except sqlite3.Error as exc:
        raise DatabaseUnavailable(
            f"{path} is not a usable shopdesk database ({storage_problem(exc)}); "
            "point --db at another file or move this one away"
        ) from exc
    return schema_verdict(str(path), tables, applied, instead="a new file")


def schema_verdict(location: str, tables: set[str], applied: set[str], *, instead: str) -> set[str]:
    """The schema steps applied in a database (SQLite's or PostgreSQL's) with these tables and recorded steps;
    refuses another program's tables, and a newer shopdesk's schema, before anything is written."""
    if not tables:
        return set()  # empty: shopdesk may make its tables in it
    if _FIRST_MIGRATION not in applied:
        raise DatabaseUnavailable(
            f"{location} holds another program's tables ({', '.join(sorted(tables)[:3])}...), not a shopdesk "
            f"database; nothing was written to it. Point --db at a shopdesk database or {instead}"
        )
    newer = applied - {name for name, _ in MIGRATION_SCRIPTS}
    if newer:
        raise DatabaseUnavailable(
            f"{location} was made by a newer shopdesk (schema step {sorted(newer)[0]}); upgrade shopdesk to open it"
        )
    return applied


def readable(path: Path) -> bool:
    """Whether the shopdesk database at `path` opens and answers a query (a health check)."""
    try:
        with contextlib.closing(sqlite3.connect(read_only_uri(path), uri=True, timeout=1)) as conn:
            conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
        return True
    except sqlite3.Error:
        return False


class Database:
    """An open shopdesk database: `read` for queries, `transaction()` for writes."""

    def __init__(
        self,
        path: Path,
        writer: aiosqlite.Connection,
        readers: list[aiosqlite.Connection],
        loop_connection: sqlite3.Connection | None = None,
    ) -> None:
        self.path = path
        self.location = str(path)
        self._writer = writer
        self.read = ReadPool(readers, loop_connection)
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(
        cls, path: Path, *, create: bool = True, read_only: bool = False, synchronous: Synchronous = "FULL"
    ) -> Database:
        """Open (and migrate) the shopdesk database at `path`; make a new one only when `create` is true.

        `read_only` opens both connections read-only at the SQLite level: nothing is created or
        migrated, and any write fails. Raises DatabaseUnavailable, with a one-line reason, for
        anything that stops it.
        """
        if read_only:
            return await cls._open_read_only(path)
        refuse_special_file(path)
        if not path.exists():
            if not create:
                raise DatabaseUnavailable(f"no database at {path}; create one with `shopdesk init --db {path}`")
            if not path.parent.is_dir():
                raise DatabaseUnavailable(f"the folder {path.parent} does not exist; create it or choose another --db")
        else:
            check_is_shopdesk(path)
        try:
            # Opened once without aiosqlite first: a failed aiosqlite.connect leaves its worker thread
            # to report into a closed event loop, so failures to open are found here instead.
            sqlite3.connect(path).close()
            writer = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise DatabaseUnavailable(f"cannot open {path}: {storage_problem(exc)}") from exc
        try:
            await _configure(writer, synchronous)
            await writer.execute("PRAGMA journal_mode = WAL")
            await _apply_migrations(writer)
            readers = [await aiosqlite.connect(path, isolation_level=None) for _ in range(READERS)]
            loop_connection = loop_reader(str(path))
        except sqlite3.DatabaseError as exc:
            await writer.close()
            raise DatabaseUnavailable(f"cannot use {path} as a shopdesk database: {exc}") from exc
        for reader in readers:
            await _configure(reader)
            await reader.execute("PRAGMA query_only = ON")
        return cls(path, writer, readers, loop_connection)

    @classmethod
    async def _open_read_only(cls, path: Path) -> Database:
        refuse_special_file(path)
        if not path.is_file():
            raise DatabaseUnavailable(f"no database at {path}; a read-only server needs an existing one")
        pending = [name for name, _ in MIGRATIONS if name not in check_is_shopdesk(path)]
        if pending:
            raise DatabaseUnavailable(
                f"{path} needs its schema brought up to date ({pending[0]}); start shopdesk once without --read-only"
            )
        uri = read_only_uri(path)
        connections: list[aiosqlite.Connection] = []
        try:
            sqlite3.connect(uri, uri=True).close()  # see open(): fail here, not in aiosqlite
            for _ in range(1 + READERS):
                conn = await aiosqlite.connect(uri, uri=True, isolation_level=None)
                connections.append(conn)
                await _configure(conn)
                await conn.execute("PRAGMA query_only = ON")
            loop_connection = loop_reader(uri, uri=True)
        except sqlite3.Error as exc:
            for conn in connections:
                await conn.close()
            raise DatabaseUnavailable(f"cannot open {path} read-only: {storage_problem(exc)}") from exc
        return cls(path, connections[0], connections[1:], loop_connection)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """The one way to write: everything inside commits together or not at all."""
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                # SQLite has already rolled back after some errors (a full disk, say); then there is
                # nothing left to roll back, and the original error is the one to report.
                with contextlib.suppress(sqlite3.Error):
                    await self._writer.rollback()
                raise
            await self._writer.commit()

    async def is_empty(self) -> bool:
        async with self.read.execute("SELECT NOT EXISTS (SELECT 1 FROM customers)") as cursor:
            row = await cursor.fetchone()
        return bool(row[0]) if row else True

    async def close(self) -> None:
        await self.read.close()
        await self._writer.close()

    async def finish(self) -> None:
        """Close, with everything written into the main file (no -wal file left beside it)."""
        try:
            async with self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cursor:
                row = await cursor.fetchone()
        finally:
            await self.close()
        if row is None or row[0] != 0:
            raise DatabaseUnavailable(f"could not complete {self.path}: the database was busy")
