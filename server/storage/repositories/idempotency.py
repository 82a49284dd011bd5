"""Idempotency keys: the first result of a write, kept per holder and key, so a retry can be answered
with it instead of writing again. The holder is the bearer token (the Caller's holder, access/gate.py), not its subject:
a key one token used is unknown to every other."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from ..sqlite import utc_now
from .rows import Connection, fetch_one

# Keys are honoured for at least a day; older ones are cleared as new ones are stored.
KEPT_FOR = timedelta(days=7)


async def find(conn: Connection, holder: str, key: str) -> tuple[str, str, dict[str, Any]] | None:
    """(tool, fingerprint, result) stored under the holder's key, if any."""
    row = await fetch_one(
        conn, "SELECT tool, fingerprint, result FROM idempotency_keys WHERE holder = ? AND key = ?", (holder, key)
    )
    return None if row is None else (str(row[0]), str(row[1]), json.loads(row[2]))


async def store(conn: Connection, holder: str, key: str, tool: str, fingerprint: str, result: dict[str, Any]) -> None:
    cutoff = (datetime.now(UTC) - KEPT_FOR).strftime("%Y-%m-%dT%H:%M:%SZ")
    await conn.execute("DELETE FROM idempotency_keys WHERE created_at < ?", (cutoff,))
    await conn.execute(
        "INSERT INTO idempotency_keys (holder, key, tool, fingerprint, result, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (holder, key, tool, fingerprint, json.dumps(result), utc_now()),
    )
