"""The audit log: a row for every write (in the write's own transaction), every refused write and every
declined confirmation (each in a transaction of its own)."""

from __future__ import annotations

import json
from typing import Any

from ..db import utc_now
from ..statuses import AuditOutcome
from .paging import PageKey, page, where
from .rows import Connection, Row


async def record(
    conn: Connection,
    *,
    tool: str,
    target: str,
    outcome: AuditOutcome,
    subject: str,
    customer: str | None = None,
    arguments: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO audit_log (at, action, target, details, subject, customer, outcome, reason, arguments) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            utc_now(),
            tool,
            target,
            json.dumps(details or {}, sort_keys=True),
            subject,
            customer,
            outcome,
            reason,
            json.dumps(arguments or {}, sort_keys=True),
        ),
    )


_COLUMNS = "id, at, action, target, subject, customer, outcome, reason, arguments, details"


def _entry(row: Row) -> dict[str, Any]:
    return {
        "at": row["at"],
        "tool": row["action"],
        "target": row["target"],
        "subject": row["subject"],
        "customer": row["customer"],
        "outcome": row["outcome"],
        "reason": row["reason"],
        "arguments": json.loads(row["arguments"]),
        "details": json.loads(row["details"]),
    }


async def entries(conn: Connection, target: str) -> list[dict[str, Any]]:
    """Every row about one record, oldest first."""
    rows = await conn.execute_fetchall(f"SELECT {_COLUMNS} FROM audit_log WHERE target = ? ORDER BY id", (target,))
    return [_entry(r) for r in rows]


async def search(
    conn: Connection,
    *,
    since: str | None = None,
    customer: str | None = None,
    target: str | None = None,
    after: PageKey | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], PageKey | None]:
    """Rows matching every given filter, oldest first; the page and where it ended if more follow."""
    clause, params = where(
        [
            ("id > ?", after[0] if after else None),
            ("at >= ?", since),
            ("customer = ?", customer),
            ("target = ?", target),
        ]
    )
    rows, last = await page(conn, f"SELECT {_COLUMNS} FROM audit_log {clause} ORDER BY id LIMIT ?", params, limit)
    return [_entry(r) for r in rows], last
