"""Customers and their payment methods."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ...domain.models import Address, CreditCard, CustomerName, CustomerSummary, GiftCard, Paypal, User
from ...domain.money import Movement, to_dollars
from .paging import PageKey, page, where
from .rows import Connection, Row, fetch_one

PaymentMethodModel = CreditCard | Paypal | GiftCard

_ADDRESS = "address1, address2, city, state, country, zip"


def address_from_row(row: Row) -> Address:
    return Address(
        address1=row["address1"],
        address2=row["address2"],
        city=row["city"],
        state=row["state"],
        country=row["country"],
        zip=row["zip"],
    )


def payment_method_from_values(
    method_id: str, source: str, brand: str | None, last_four: str | None, balance_cents: int | None
) -> PaymentMethodModel:
    if source == "credit_card":
        return CreditCard(id=method_id, brand=brand or "", last_four=last_four or "")
    if source == "gift_card":
        return GiftCard(id=method_id, balance=to_dollars(balance_cents or 0))
    return Paypal(id=method_id)


async def internal_id(conn: Connection, user_id: str) -> int | None:
    row = await fetch_one(conn, "SELECT id FROM customers WHERE user_id = ?", (user_id,))
    return None if row is None else int(row[0])


# One statement, so the profile, payment methods and order ids come from the same committed state.
_GET_CUSTOMER = f"""
SELECT c.id, c.user_id, c.first_name, c.last_name, c.email, c.phone, {_ADDRESS},
  (SELECT json_group_array(json_array(method_id, source, brand, last_four, balance_cents))
     FROM (SELECT * FROM payment_methods WHERE customer_id = c.id ORDER BY id) part) AS methods,
  (SELECT json_group_array(order_id) FROM (
     SELECT order_id FROM orders WHERE customer_id = c.id ORDER BY coalesce(placed_at, ''), id) part)
     AS order_ids
FROM customers c WHERE c.user_id = ?
"""


async def get(conn: Connection, user_id: str) -> User | None:
    row = await fetch_one(conn, _GET_CUSTOMER, (user_id,))
    if row is None:
        return None
    methods = [
        payment_method_from_values(method_id, source, brand, last_four, balance)
        for method_id, source, brand, last_four, balance in json.loads(row["methods"])
    ]
    order_ids = json.loads(row["order_ids"])
    return User(
        user_id=row["user_id"],
        name=CustomerName(first_name=row["first_name"], last_name=row["last_name"]),
        address=address_from_row(row),
        email=row["email"],
        phone=row["phone"],
        payment_methods={m.id: m for m in methods},
        orders=order_ids,
    )


async def find_user_id_by_email(conn: Connection, email: str) -> str | None:
    # `email` is COLLATE NOCASE, so this is a case-insensitive match that uses the index.
    row = await fetch_one(conn, "SELECT user_id FROM customers WHERE email = ? ORDER BY id LIMIT 1", (email,))
    return None if row is None else str(row[0])


async def find_user_id_by_name_zip(conn: Connection, first: str, last: str, zip_code: str) -> str | None:
    row = await fetch_one(
        conn,
        "SELECT user_id FROM customers WHERE last_name = ? AND first_name = ? AND zip = ? ORDER BY id LIMIT 1",
        (last, first, zip_code),
    )
    return None if row is None else str(row[0])


# Everything that starts with a prefix sorts at or after it and before it followed by this character. As a
# range, "starts with" is answered from the column's index on both databases (the name and email columns
# compare case-insensitively: NOCASE in SQLite, citext in PostgreSQL), where PostgreSQL cannot use an
# index for citext's LIKE.
_AFTER_PREFIX = "\U0010ffff"


def _starts_with(column: str, prefix: str) -> tuple[str, tuple[str, str]]:
    return f"({column} >= ? AND {column} < ?)", (prefix, prefix + _AFTER_PREFIX)


async def search(
    conn: Connection,
    *,
    name: str | None,
    email: str | None,
    phone: str | None,
    zip_code: str | None,
    after: PageKey | None,
    limit: int,
) -> tuple[list[CustomerSummary], PageKey | None]:
    """Customers matching every given filter, by internal id; returns the page and where it ended if more follow."""
    filters: list[tuple[str, object | None]] = []
    # Each word of `name` must start the first or the last name.
    for word in (name or "").split():
        first, first_range = _starts_with("c.first_name", word)
        surname, surname_range = _starts_with("c.last_name", word)
        filters.append((f"({first} OR {surname})", first_range + surname_range))
    if email:
        filters.append(_starts_with("c.email", email))
    if phone:  # phone numbers have no case: the range is on the (binary) phone index
        filters.append(_starts_with("c.phone", phone))
    filters.append(("c.zip = ?", zip_code or None))
    start = int(after[0]) if after else 0
    if any(value is not None for _, value in filters):
        # A common prefix ("No") matches thousands of customers, and sorting them all by id to return a page
        # costs more than the rest of the call. Such matches are dense: the next ids hold a page of them.
        # So look there first, by the primary key alone; only if too few match ask the filters' indexes.
        window = ("c.id > ? AND c.id <= ?", (start, start + _WINDOW))
        rows, ended = await _search_page(conn, [window, *filters], limit)
        if ended is not None:
            return _summaries(rows), ended
    # `+c.id`: the page position must not steer the planner away from the filters' own indexes.
    rows, last = await _search_page(conn, [("+c.id > ?", start), *filters], limit)
    return _summaries(rows), last


# How many ids after the page position a search first looks through in id order (see search()).
_WINDOW = 1000


async def _search_page(
    conn: Connection, conditions: list[tuple[str, object | None]], limit: int
) -> tuple[list[Row], PageKey | None]:
    clause, params = where(conditions)
    return await page(
        conn,
        # Order counts are taken for the page's rows only, not for every match before the sort.
        "SELECT c.*, (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) AS order_count FROM ("
        "SELECT c.id, c.user_id, c.first_name, c.last_name, c.email, c.phone, c.city, c.state, c.zip "
        f"FROM customers c {clause} ORDER BY c.id LIMIT ?) c ORDER BY c.id",
        params,
        limit,
    )


def _summaries(rows: list[Row]) -> list[CustomerSummary]:
    return [
        CustomerSummary(
            user_id=r["user_id"],
            name=f"{r['first_name']} {r['last_name']}",
            email=r["email"],
            phone=r["phone"],
            city=r["city"],
            state=r["state"],
            zip=r["zip"],
            order_count=r["order_count"],
        )
        for r in rows
    ]


async def update_address(conn: Connection, user_id: str, address: Address) -> None:
    await conn.execute(
        "UPDATE customers SET address1 = ?, address2 = ?, city = ?, state = ?, country = ?, zip = ? WHERE user_id = ?",
        (address.address1, address.address2, address.city, address.state, address.country, address.zip, user_id),
    )


async def payment_method(conn: Connection, method_id: str) -> tuple[str, PaymentMethodModel] | None:
    """The payment method `method_id` with its owner's user id."""
    row = await fetch_one(
        conn,
        "SELECT c.user_id, p.method_id, p.source, p.brand, p.last_four, p.balance_cents FROM payment_methods p "
        "JOIN customers c ON c.id = p.customer_id WHERE p.method_id = ?",
        (method_id,),
    )
    return None if row is None else (str(row[0]), payment_method_from_values(*row[1:]))


async def adjust_gift_card_balances(conn: Connection, movements: Sequence[Movement]) -> None:
    """Apply each movement to its method's balance if that is a gift card; other methods keep none."""
    await conn.executemany(
        "UPDATE payment_methods SET balance_cents = balance_cents + ? WHERE method_id = ? AND source = 'gift_card'",
        [(m.balance_change, m.method_id) for m in movements],
    )
