"""Ids that start with what the person has typed so far, for argument completion: a range on an index."""

from __future__ import annotations

import re

from .rows import Connection
from .tickets import ticket_id as public_ticket_id

# A range [prefix, prefix + this) holds every string starting with prefix (ids are ASCII).
_AFTER_LAST = "\U0010ffff"
# What may follow "TCK-" in a prefix of a ticket id: ASCII digits only (str.isdigit() also takes '²' or '٣').
_TICKET_DIGITS = re.compile(r"[0-9]{1,6}")
# The longest id of any kind (user ids, as the tools' UserId argument bounds them).
MAX_ID_LENGTH = 80


def may_start_an_id(prefix: str) -> bool:
    """Whether some id could start with `prefix`: ids are short and printable, and a control character or
    a lone surrogate (which JSON can carry) cannot be sent to the database at all."""
    return len(prefix) <= MAX_ID_LENGTH and prefix.isprintable()


async def order_ids(conn: Connection, prefix: str, customer: str | None, limit: int) -> list[str]:
    """Order ids starting with `prefix`, in order; only `customer`'s when one is given."""
    if customer is None:
        sql = "SELECT order_id FROM orders WHERE order_id >= ? AND order_id < ? ORDER BY order_id LIMIT ?"
        args: tuple[object, ...] = (prefix, prefix + _AFTER_LAST, limit)
    else:
        sql = (
            "SELECT o.order_id FROM orders o JOIN customers c ON c.id = o.customer_id "
            "WHERE c.user_id = ? AND o.order_id >= ? AND o.order_id < ? ORDER BY o.order_id LIMIT ?"
        )
        args = (customer, prefix, prefix + _AFTER_LAST, limit)
    return [str(row[0]) for row in await conn.execute_fetchall(sql, args)]


async def user_ids(conn: Connection, prefix: str, customer: str | None, limit: int) -> list[str]:
    if customer is not None:
        return [customer] if customer.startswith(prefix) else []
    sql = "SELECT user_id FROM customers WHERE user_id >= ? AND user_id < ? ORDER BY user_id LIMIT ?"
    return [str(row[0]) for row in await conn.execute_fetchall(sql, (prefix, prefix + _AFTER_LAST, limit))]


_WIDTHS = range(6, 13)  # a public ticket id has 6 digits (padded) up to 12 (every new one: 12)


def _key_ranges(prefix: str) -> list[tuple[int, int]]:
    """The ranges of ticket keys whose public id ('TCK-' and the key, padded to six digits) starts with
    `prefix`: one for each width of key the prefix fits; none when it cannot start a ticket id."""
    typed = prefix.upper()
    digits = "" if "TCK-".startswith(typed) else typed.removeprefix("TCK-")
    if digits and (not typed.startswith("TCK-") or not re.fullmatch("[0-9]+", digits)):
        return []
    ranges = []
    for width in _WIDTHS:  # each width apart: within one, the order of keys is the order of ids
        if len(digits) > width:
            continue
        scale = 10 ** (width - len(digits))
        low = max(int(digits or 0) * scale, 0 if width == 6 else 10 ** (width - 1))
        high = min((int(digits or 0) + 1) * scale if digits else 10**width, 10**width)
        if low < high:
            ranges.append((low, high))
    return ranges


async def ticket_ids(conn: Connection, prefix: str, customer: str | None, limit: int) -> list[str]:
    """Ticket ids starting with `prefix`, in order; only `customer`'s when one is given."""
    found: list[str] = []
    for keys in _key_ranges(prefix):
        if customer is None:
            sql = "SELECT id FROM tickets WHERE id >= ? AND id < ? ORDER BY id LIMIT ?"
            args: tuple[object, ...] = (*keys, limit)
        else:
            sql = (
                "SELECT t.id FROM tickets t JOIN customers c ON c.id = t.customer_id "
                "WHERE c.user_id = ? AND t.id >= ? AND t.id < ? ORDER BY t.id LIMIT ?"
            )
            args = (customer, *keys, limit)
        found += [public_ticket_id(int(row[0])) for row in await conn.execute_fetchall(sql, args)]
    return sorted(found)[:limit]
