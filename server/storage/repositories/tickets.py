"""Support tickets and their message threads.

A ticket's public id is its key, 'TCK-' and at least six digits. New tickets get a random 12-digit key, so
that the id a customer is given says nothing about how many tickets the shop has; tickets made before that
kept their sequential keys ('TCK-000042'), which still work. Lists go newest first by creation time.
"""

from __future__ import annotations

import re
import secrets

from ...domain.models import Escalation, Ticket, TicketMessage, TicketSummary
from ...domain.statuses import MessageAuthor, TicketPriority, TicketStatus
from ..sqlite import utc_now
from .paging import PageKey, page, where
from .rows import Connection, Row, fetch_one

# ASCII digits, and the whole string: `$` would also let a trailing newline through.
_TICKET_ID = re.compile(r"TCK-([0-9]{1,12})")


def ticket_id(key: int) -> str:
    return f"TCK-{key:06d}"


def ticket_key(public_id: str) -> int | None:
    match = _TICKET_ID.fullmatch(public_id)
    return int(match.group(1)) if match else None


NEW_KEYS = range(10**11, 10**12)  # every new ticket's key: 12 digits, drawn at random
_DRAWS = 8  # a clash needs a key already taken: about one in 10**11 / tickets


def new_key() -> int:
    return NEW_KEYS.start + secrets.randbelow(len(NEW_KEYS))


_SUMMARY_COLUMNS = (
    "t.id, c.user_id, o.order_id, t.subject, t.status, t.priority, t.created_at, t.updated_at, "
    "t.escalated_at, t.escalation_reason, t.escalation_summary"
)
_FROM = "FROM tickets t LEFT JOIN customers c ON c.id = t.customer_id LEFT JOIN orders o ON o.id = t.order_id"


def _summary(row: Row) -> TicketSummary:
    return TicketSummary(
        ticket_id=ticket_id(row["id"]),
        user_id=row["user_id"],
        order_id=row["order_id"],
        subject=row["subject"],
        status=row["status"],
        priority=row["priority"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def create(
    conn: Connection,
    *,
    customer_key: int | None,
    order_key: int | None,
    subject: str,
    priority: TicketPriority,
    first_message: str,
    author: MessageAuthor,
) -> str:
    now = utc_now()
    for _ in range(_DRAWS):
        row = await fetch_one(
            conn,
            "INSERT INTO tickets (id, customer_id, order_id, subject, status, priority, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, 'open', ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id",
            (new_key(), customer_key, order_key, subject, priority, now, now),
        )
        if row is not None:
            break
    else:
        raise RuntimeError(f"no free ticket key in {_DRAWS} random draws")
    key = int(row[0])
    await _add_message(conn, key, author, first_message)
    return ticket_id(key)


async def get(conn: Connection, public_id: str) -> Ticket | None:
    key = ticket_key(public_id)
    if key is None:
        return None
    row = await fetch_one(conn, f"SELECT {_SUMMARY_COLUMNS} {_FROM} WHERE t.id = ?", (key,))
    if row is None:
        return None
    rows = await conn.execute_fetchall(
        "SELECT author, body, created_at FROM ticket_messages WHERE ticket_id = ? ORDER BY id", (key,)
    )
    messages = [TicketMessage(author=r[0], body=r[1], created_at=r[2]) for r in rows]
    escalation = None
    if row["escalated_at"] is not None:
        escalation = Escalation(
            escalated_at=row["escalated_at"], reason=row["escalation_reason"], summary=row["escalation_summary"]
        )
    return Ticket(**_summary(row).model_dump(), escalation=escalation, messages=messages)


def _key(public_id: str) -> int:
    key = ticket_key(public_id)
    if key is None:
        raise ValueError(f"not a ticket id: {public_id!r}")
    return key


async def add_message(conn: Connection, public_id: str, author: MessageAuthor, body: str) -> None:
    await _add_message(conn, _key(public_id), author, body)


async def _add_message(conn: Connection, key: int, author: MessageAuthor, body: str) -> None:
    now = utc_now()
    await conn.execute(
        "INSERT INTO ticket_messages (ticket_id, author, body, created_at) VALUES (?, ?, ?, ?)",
        (key, author, body, now),
    )
    await conn.execute("UPDATE tickets SET updated_at = ? WHERE id = ?", (now, key))


async def set_status(conn: Connection, public_id: str, status: TicketStatus) -> None:
    await conn.execute(
        "UPDATE tickets SET status = ?, updated_at = ? WHERE id = ?", (status, utc_now(), _key(public_id))
    )


async def escalate(conn: Connection, public_id: str, reason: str, summary: str) -> None:
    now = utc_now()
    await conn.execute(
        "UPDATE tickets SET status = 'escalated', escalated_at = ?, escalation_reason = ?, escalation_summary = ?, "
        "updated_at = ? WHERE id = ?",
        (now, reason, summary, now, _key(public_id)),
    )


async def search(
    conn: Connection,
    *,
    customer_key: int | None,
    order_key: int | None,
    status: TicketStatus | None,
    priority: TicketPriority | None,
    after: PageKey | None,
    limit: int,
) -> tuple[list[TicketSummary], PageKey | None]:
    """Tickets matching every given filter, newest first (by creation time, then key); returns the page and
    where it ended if more follow."""
    clause, params = where(
        [
            ("t.created_at <= ? AND (t.created_at < ? OR t.id < ?)", (after[0], after[0], after[1]) if after else None),
            ("t.customer_id = ?", customer_key),
            ("t.order_id = ?", order_key),
            ("t.status = ?", status),
            ("t.priority = ?", priority),
        ]
    )
    rows, last = await page(
        conn,
        f"SELECT {_SUMMARY_COLUMNS} {_FROM} {clause} ORDER BY t.created_at DESC, t.id DESC LIMIT ?",
        params,
        limit,
        key=lambda row: (str(row["created_at"]), int(row["id"])),
    )
    return [_summary(r) for r in rows], last
