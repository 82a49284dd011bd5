"""The schema: each named step's SQL, in the order the steps are applied (migrations.py runs them).

SQLite's dialect; PostgreSQL runs the same steps with their column types mapped (postgres.py). The fixed
choices in CHECK constraints come from domain/statuses.py. A step is never edited once released, only added.
"""

from __future__ import annotations

from ..domain.statuses import (
    AuditOutcome,
    MessageAuthor,
    OrderStatus,
    PaymentSource,
    TicketPriority,
    TicketStatus,
    TransactionType,
    sql_choices,
)
from .repositories.oauth import SCHEMA as _OAUTH_SERVER

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


# Idempotency keys belong to a token, not to its subject: the column holds the Caller's holder ("local"
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
