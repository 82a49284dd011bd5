"""The audit log: a row for every write (in the write's own transaction), every refused write and every
declined confirmation (each in a transaction of its own). Every value is masked by its kind on the way in
and again on the way out (rows written before the masking included): see domain/masking.py."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ...domain.masking import masked, masked_reason
from ...domain.statuses import AuditOutcome
from ..sqlite import utc_now
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
    arguments: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """One row; `target` and `customer` are ids of records, kept as they are; the arguments, details and
    reason are masked here."""
    arguments = {name: value for name, value in (arguments or {}).items() if value is not None}
    await conn.execute(
        "INSERT INTO audit_log (at, action, target, details, subject, customer, outcome, reason, arguments) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            utc_now(),
            tool,
            target,
            json.dumps(masked(details or {}), sort_keys=True),
            subject,
            customer,
            outcome,
            None if reason is None else masked_reason(reason, arguments),
            json.dumps(masked(arguments), sort_keys=True),
        ),
    )


_COLUMNS = "id, at, action, target, subject, customer, outcome, reason, arguments, details"


def _entry(row: Row) -> dict[str, Any]:
    arguments = json.loads(row["arguments"])
    return {
        "at": row["at"],
        "tool": row["action"],
        "target": row["target"],
        "subject": row["subject"],
        "customer": row["customer"],
        "outcome": row["outcome"],
        "reason": None if row["reason"] is None else masked_reason(row["reason"], arguments),
        "arguments": masked(arguments),
        "details": masked(json.loads(row["details"])),
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
