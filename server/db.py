"""The database: one SQLite file in WAL mode, its schema, and its migrations.

Two connections per process: a writer, used only inside `transaction()` (one
write at a time, BEGIN IMMEDIATE, so a write never deadlocks half way), and a
reader for everything else, which in WAL mode sees the last committed state and
never waits for the writer.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite


class DatabaseUnavailable(Exception):
    """The database file is missing, unreadable or not a shopdesk database."""


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Migrations are small named steps applied in order and recorded in
# `schema_migrations`; a step is never edited once released, only added.
Migration = Callable[[aiosqlite.Connection], Awaitable[None]]

_INITIAL_SCHEMA = """
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
    source          TEXT NOT NULL CHECK (source IN ('credit_card', 'paypal', 'gift_card')),
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
    status                      TEXT NOT NULL CHECK (status IN (
                                    'pending', 'pending (item modified)', 'processed', 'delivered',
                                    'cancelled', 'return requested', 'exchange requested')),
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
    transaction_type   TEXT NOT NULL CHECK (transaction_type IN ('payment', 'refund')),
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
    status              TEXT NOT NULL CHECK (status IN (
                            'open', 'waiting_on_customer', 'escalated', 'resolved', 'closed')),
    priority            TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
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
    author      TEXT NOT NULL CHECK (author IN ('customer', 'agent', 'system')),
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


async def _initial_schema(conn: aiosqlite.Connection) -> None:
    await conn.executescript(_INITIAL_SCHEMA)


MIGRATIONS: list[tuple[str, Migration]] = [
    ("0001_initial_schema", _initial_schema),
]


async def _configure(conn: aiosqlite.Connection) -> None:
    conn.row_factory = aiosqlite.Row
    await conn.execute("PRAGMA foreign_keys = ON")
    await conn.execute("PRAGMA busy_timeout = 5000")
    await conn.execute("PRAGMA synchronous = NORMAL")


async def _apply_migrations(conn: aiosqlite.Connection) -> None:
    await conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    async with conn.execute("SELECT name FROM schema_migrations") as cursor:
        applied = {row[0] for row in await cursor.fetchall()}
    for name, migrate in MIGRATIONS:
        if name in applied:
            continue
        # executescript commits on its own, so each step runs in an explicit transaction.
        await conn.execute("BEGIN IMMEDIATE")
        try:
            await migrate(conn)
            await conn.execute("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)", (name, utc_now()))
            await conn.commit()
        except BaseException:
            await conn.rollback()
            raise


class Database:
    """An open shopdesk database: `read` for queries, `transaction()` for writes."""

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self.path = path
        self._writer = writer
        self.read = reader
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path, *, create: bool = True) -> Database:
        """Open (and migrate) the database at `path`; create it only when `create` is true."""
        if not path.exists() and not create:
            raise DatabaseUnavailable(f"no database at {path}; create one with `shopdesk init --db {path}`")
        if path.exists() and path.is_dir():
            raise DatabaseUnavailable(f"{path} is a directory, not a database file")
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = await aiosqlite.connect(path, isolation_level=None)
        try:
            await _configure(writer)
            await writer.execute("PRAGMA journal_mode = WAL")
            await _apply_migrations(writer)
        except sqlite3.DatabaseError as exc:
            await writer.close()
            raise DatabaseUnavailable(
                f"{path} is not a usable shopdesk database ({exc}); point --db at another file or move this one away"
            ) from exc
        reader = await aiosqlite.connect(path, isolation_level=None)
        await _configure(reader)
        await reader.execute("PRAGMA query_only = ON")
        return cls(path, writer, reader)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """The one way to write: everything inside commits together or not at all."""
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
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
