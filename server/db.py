"""The database: one SQLite file in WAL mode, its schema, and its migrations.

Connections per process: a writer, used only inside `transaction()` (one write at
a time, BEGIN IMMEDIATE, so a write never deadlocks half way), and readers for
everything else (read_pool.py: the event loop's own connection for short reads,
reader threads for long ones), which in WAL mode see the last committed state
and never wait for the writer.

A file is opened only if it is shopdesk's own or holds no tables at all: another
program's database is refused before a byte of it is written. New shops are built
in a temporary file and moved into place only when complete (`build_new`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sqlite3
import stat
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.request import pathname2url

import aiosqlite

from .oauth.store import SCHEMA as _OAUTH_SERVER
from .read_pool import READERS, ReadPool, loop_reader
from .statuses import (
    AuditOutcome,
    MessageAuthor,
    OrderStatus,
    PaymentSource,
    TicketPriority,
    TicketStatus,
    TransactionType,
    sql_choices,
)


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


# Migrations are small named steps applied in order and recorded in `schema_migrations`;
# a step is never edited once released, only added. Each step and its record commit
# together or not at all: its statements run one by one inside one transaction (SQLite's
# DDL is transactional; `executescript` is not used because it commits on its own).
Migration = Callable[[aiosqlite.Connection], Awaitable[None]]

_INITIAL_SCHEMA = f"""
CREATE TABLE customers (
    id          INTEGER PRIMARY KEY,
    user_id     TEXT NOT NULL UNIQUE,
    first_name  TEXT NOT NULL COLLATE NOCASE,
    last_name   TEXT NOT NULL COLLATE NOCASE,
    email       TEXT NOT NULL COLLATE NOCASE,
    phone       TEXT,
    address1    TEXT NOT NULL,
    address2    TEXT NOT NULL DEFAULT '',
    city        TEXT NOT NULL,
    state       TEXT NOT NULL,
    country     TEXT NOT NULL,
    zip         TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX customers_email ON customers (email);
CREATE INDEX customers_name_zip ON customers (last_name, first_name, zip);
CREATE INDEX customers_first_name ON customers (first_name);
CREATE INDEX customers_zip ON customers (zip);
CREATE INDEX customers_phone ON customers (phone);

CREATE TABLE payment_methods (
    id              INTEGER PRIMARY KEY,
    method_id       TEXT NOT NULL UNIQUE,
    customer_id     INTEGER NOT NULL REFERENCES customers (id),
    source          TEXT NOT NULL CHECK (source IN ({sql_choices(PaymentSource)})),
    brand           TEXT,
    last_four       TEXT CHECK (last_four IS NULL OR length(last_four) = 4),
    balance_cents   INTEGER CHECK (balance_cents IS NULL OR balance_cents >= 0),
    CHECK ((source = 'gift_card') = (balance_cents IS NOT NULL)),
    CHECK ((source = 'credit_card') = (last_four IS NOT NULL))
);
CREATE INDEX payment_methods_customer ON payment_methods (customer_id, id);

CREATE TABLE products (
    id          INTEGER PRIMARY KEY,
    product_id  TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL COLLATE NOCASE
);
CREATE INDEX products_name ON products (name);

CREATE TABLE variants (
    id           INTEGER PRIMARY KEY,
    item_id      TEXT NOT NULL UNIQUE,
    product_id   INTEGER NOT NULL REFERENCES products (id),
    options      TEXT NOT NULL,            -- JSON object, option name -> value
    available    INTEGER NOT NULL CHECK (available IN (0, 1)),
    price_cents  INTEGER NOT NULL CHECK (price_cents >= 0)
);
CREATE INDEX variants_product ON variants (product_id, id);

CREATE TABLE orders (
    id                          INTEGER PRIMARY KEY,
    order_id                    TEXT NOT NULL UNIQUE,
    customer_id                 INTEGER NOT NULL REFERENCES customers (id),
    status                      TEXT NOT NULL CHECK (status IN ({sql_choices(OrderStatus)})),
    address1                    TEXT NOT NULL,
    address2                    TEXT NOT NULL DEFAULT '',
    city                        TEXT NOT NULL,
    state                       TEXT NOT NULL,
    country                     TEXT NOT NULL,
    zip                         TEXT NOT NULL,
    placed_at                   TEXT,      -- ISO 8601; NULL for imported orders that had none
    updated_at                  TEXT NOT NULL,
    cancel_reason               TEXT,
    exchange_items              TEXT,      -- JSON list of item ids
    exchange_new_items          TEXT,      -- JSON list of item ids
    exchange_payment_method_id  TEXT,
    exchange_price_difference_cents INTEGER,
    return_items                TEXT,      -- JSON list of item ids
    return_payment_method_id    TEXT
);
CREATE INDEX orders_customer ON orders (customer_id, id);
CREATE INDEX orders_status ON orders (status, id);
CREATE INDEX orders_placed_at ON orders (placed_at, id);

CREATE TABLE order_items (
    id           INTEGER PRIMARY KEY,
    order_id     INTEGER NOT NULL REFERENCES orders (id),
    position     INTEGER NOT NULL,
    product_id   TEXT NOT NULL,
    item_id      TEXT NOT NULL,
    name         TEXT NOT NULL,
    options      TEXT NOT NULL,            -- JSON object, as sold
    price_cents  INTEGER NOT NULL CHECK (price_cents >= 0),
    UNIQUE (order_id, position)
);
CREATE INDEX order_items_product ON order_items (product_id, order_id);
CREATE INDEX order_items_item ON order_items (item_id, order_id);

CREATE TABLE fulfillments (
    id            INTEGER PRIMARY KEY,
    order_id      INTEGER NOT NULL REFERENCES orders (id),
    position      INTEGER NOT NULL,
    tracking_ids  TEXT NOT NULL,           -- JSON list
    item_ids      TEXT NOT NULL,           -- JSON list
    UNIQUE (order_id, position)
);

CREATE TABLE payments (
    id                 INTEGER PRIMARY KEY,
    order_id           INTEGER NOT NULL REFERENCES orders (id),
    position           INTEGER NOT NULL,
    transaction_type   TEXT NOT NULL CHECK (transaction_type IN ({sql_choices(TransactionType)})),
    amount_cents       INTEGER NOT NULL CHECK (amount_cents >= 0),
    payment_method_id  TEXT NOT NULL,
    created_at         TEXT,
    UNIQUE (order_id, position)
);
CREATE INDEX payments_method ON payments (payment_method_id);

CREATE TABLE tickets (
    id                  INTEGER PRIMARY KEY,
    customer_id         INTEGER REFERENCES customers (id),
    order_id            INTEGER REFERENCES orders (id),
    subject             TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ({sql_choices(TicketStatus)})),
    priority            TEXT NOT NULL CHECK (priority IN ({sql_choices(TicketPriority)})),
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    escalated_at        TEXT,
    escalation_reason   TEXT,
    escalation_summary  TEXT
);
CREATE INDEX tickets_customer ON tickets (customer_id, id);
CREATE INDEX tickets_order ON tickets (order_id, id);
CREATE INDEX tickets_status ON tickets (status, priority, id);

CREATE TABLE ticket_messages (
    id          INTEGER PRIMARY KEY,
    ticket_id   INTEGER NOT NULL REFERENCES tickets (id),
    author      TEXT NOT NULL CHECK (author IN ({sql_choices(MessageAuthor)})),
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, id);

-- Every write a tool makes leaves one row here, in the same transaction.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    details   TEXT NOT NULL            -- JSON object
);
CREATE INDEX audit_log_target ON audit_log (target, id);
"""


# An order's place in "newest first" lists: its placed date, orders without one (imported
# from τ², which has no dates) last, ties by id. Queries must spell it exactly like this
# for SQLite to use the indexes built on it.
ORDER_PLACED_KEY = "coalesce(placed_at, '')"

_ORDER_DATE_INDEXES = f"""
DROP INDEX orders_customer;
DROP INDEX orders_status;
DROP INDEX orders_placed_at;
CREATE INDEX orders_customer_placed ON orders (customer_id, {ORDER_PLACED_KEY}, id);
CREATE INDEX orders_status_placed ON orders (status, {ORDER_PLACED_KEY}, id);
CREATE INDEX orders_placed ON orders ({ORDER_PLACED_KEY}, id);
"""


# Who did each write and to whom, what became of refused and declined ones; idempotency keys;
# confirmation tokens already spent; per-database secrets (the key that signs confirmation tokens).
_WRITE_TRAIL = f"""
ALTER TABLE audit_log ADD COLUMN subject TEXT NOT NULL DEFAULT 'local';
ALTER TABLE audit_log ADD COLUMN customer TEXT;
ALTER TABLE audit_log ADD COLUMN outcome TEXT NOT NULL DEFAULT 'done' CHECK (outcome IN ({sql_choices(AuditOutcome)}));
ALTER TABLE audit_log ADD COLUMN reason TEXT;
ALTER TABLE audit_log ADD COLUMN arguments TEXT NOT NULL DEFAULT '{{}}';
CREATE INDEX audit_log_customer ON audit_log (customer, id);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE TABLE idempotency_keys (
    subject      TEXT NOT NULL,
    key          TEXT NOT NULL,
    tool         TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,            -- of the tool and its arguments
    result       TEXT NOT NULL,            -- JSON: the first call's structured content and text
    created_at   TEXT NOT NULL,
    PRIMARY KEY (subject, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
CREATE TABLE spent_confirmations (
    token_id  TEXT PRIMARY KEY,
    spent_at  TEXT NOT NULL
);
CREATE TABLE shop_secrets (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
"""


# Idempotency keys belong to a token, not to its subject: the column holds writes.caller_holder() ("local"
# for the local operator, as the subject did, so its keys carry over).
_KEYS_PER_TOKEN = """
ALTER TABLE idempotency_keys RENAME COLUMN subject TO holder;
"""


# Ticket keys are drawn at random now (repositories/tickets.py): lists of tickets go newest first by creation time.
_TICKETS_BY_CREATION = """
DROP INDEX tickets_customer;
DROP INDEX tickets_order;
DROP INDEX tickets_status;
CREATE INDEX tickets_customer ON tickets (customer_id, created_at, id);
CREATE INDEX tickets_order ON tickets (order_id, created_at, id);
CREATE INDEX tickets_status ON tickets (status, priority, created_at, id);
CREATE INDEX tickets_created ON tickets (created_at, id);
"""


def statements(script: str) -> list[str]:
    """Split a SQL script into whole statements (a `;` inside a string or trigger does not split)."""
    found: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            found.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement: {pending.strip()[:60]}")
    return found


def script_step(script: str) -> Migration:
    async def run(conn: aiosqlite.Connection) -> None:
        for statement in statements(script):
            await conn.execute(statement)

    return run


# The schema steps, in order, as SQL scripts; PostgreSQL runs the same steps (postgres.py translates
# their column types).
MIGRATION_SCRIPTS: list[tuple[str, str]] = [
    ("0001_initial_schema", _INITIAL_SCHEMA),
    ("0002_orders_by_placed_date", _ORDER_DATE_INDEXES),
    ("0003_write_trail", _WRITE_TRAIL),
    ("0004_keys_per_token", _KEYS_PER_TOKEN),
    ("0005_tickets_by_creation", _TICKETS_BY_CREATION),
    ("0006_oauth_server", _OAUTH_SERVER),
]
MIGRATIONS: list[tuple[str, Migration]] = [(name, script_step(script)) for name, script in MIGRATION_SCRIPTS]
_FIRST_MIGRATION = MIGRATIONS[0][0]


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


def _remove_with_sidecars(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@asynccontextmanager
async def build_new(path: Path) -> AsyncIterator[Database]:
    """A new database at `path`, built in a temporary file beside it and moved into place only when
    the block completes; on any failure (bad input, a full disk, Ctrl-C) nothing is left at `path`."""
    if path.exists():
        raise DatabaseUnavailable(f"{path} already exists; choose another --db path or move it away first")
    if not path.parent.is_dir():
        raise DatabaseUnavailable(f"the folder {path.parent} does not exist; create it or choose another --db")
    building = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.building")
    try:
        try:
            db = await Database.open(building)
        except DatabaseUnavailable as exc:
            raise DatabaseUnavailable(f"cannot create {path}: {exc.__cause__ or exc}") from exc
        try:
            # Nothing relies on this file until it is moved into place, and a failed build is deleted
            # whole, so while the shop is written the writer syncs nothing to disk (the file is synced
            # once, below), and its cache holds the indexes a large shop's rows land all over instead of
            # writing and re-reading their pages in every batch (memory taken only as used; a million
            # orders use most of it). A million orders: 10 GB written and 35 s of system time -> 1.6 GB, 6 s.
            # Settings of this connection, not of the file: the finished file is an ordinary one.
            await db._writer.execute("PRAGMA synchronous = OFF")
            await db._writer.execute("PRAGMA cache_size = -524288")  # in KiB: at most 512 MiB
            yield db
        except BaseException:
            await db.close()
            raise
        await db.finish()
        with open(building, "rb+") as built:  # all of it on disk before it is moved into place
            os.fsync(built.fileno())
        try:
            os.link(building, path)  # unlike rename, never replaces a file that appeared meanwhile
        except FileExistsError:
            raise DatabaseUnavailable(
                f"{path} already exists; choose another --db path or move it away first"
            ) from None
        except OSError:
            if path.exists():
                raise
            os.rename(building, path)  # a file system without hard links
    except sqlite3.Error as exc:
        raise DatabaseUnavailable(f"could not create {path}: {storage_problem(exc)}; nothing was left behind") from exc
    finally:
        _remove_with_sidecars(building)
