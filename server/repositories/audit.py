"""The audit log: one row per write, written in the write's own transaction."""

from __future__ import annotations

import json
from typing import Any

import aiosqlite

from ..db import utc_now


async def record(conn: aiosqlite.Connection, action: str, target: str, details: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO audit_log (at, action, target, details) VALUES (?, ?, ?, ?)",
        (utc_now(), action, target, json.dumps(details, sort_keys=True)),
    )


async def entries(conn: aiosqlite.Connection, target: str) -> list[dict[str, Any]]:
    async with conn.execute("SELECT at, action, details FROM audit_log WHERE target = ? ORDER BY id", (target,)) as cur:
        return [{"at": r[0], "action": r[1], "details": json.loads(r[2])} for r in await cur.fetchall()]
