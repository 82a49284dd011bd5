"""The authorization server's registered clients (RFC 7591), in oauth.py's `oauth_clients` table.

Registration is open to anyone, so what it may keep is bounded: of the clients that never got a grant, only
the newest `MAX_UNUSED_CLIENTS` are kept; a client with a grant stays until removed by hand.
"""

from __future__ import annotations

import json
from typing import Any

from .oauth import now
from .rows import Connection, fetch_one

MAX_UNUSED_CLIENTS = 500


async def save_client(conn: Connection, client_id: str, metadata: dict[str, Any]) -> None:
    """Keep a new registration (and drop the oldest unused ones beyond `MAX_UNUSED_CLIENTS`)."""
    await conn.execute(
        "INSERT INTO oauth_clients (client_id, metadata, created_at) VALUES (?, ?, ?)",
        (client_id, json.dumps(metadata, sort_keys=True), now()),
    )
    unused = await conn.execute_fetchall(
        "SELECT c.client_id FROM oauth_clients c WHERE NOT EXISTS "
        "(SELECT 1 FROM oauth_grants g WHERE g.client_id = c.client_id) ORDER BY c.created_at DESC",
    )
    for row in list(unused)[MAX_UNUSED_CLIENTS:]:
        await conn.execute("DELETE FROM oauth_clients WHERE client_id = ?", (row[0],))


async def client_metadata(conn: Connection, client_id: str) -> dict[str, Any] | None:
    row = await fetch_one(conn, "SELECT metadata FROM oauth_clients WHERE client_id = ?", (client_id,))
    return None if row is None else dict(json.loads(row[0]))
