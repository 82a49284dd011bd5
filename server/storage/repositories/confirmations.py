"""What confirmation tokens need kept in the shop: the key they are signed with, and the tokens already spent."""

from __future__ import annotations

from .rows import Connection, fetch_one


async def signing_key_hex(conn: Connection) -> str | None:
    row = await fetch_one(conn, "SELECT value FROM shop_secrets WHERE name = 'confirmation_key'")
    return None if row is None else str(row[0])


async def offer_signing_key(conn: Connection, key_hex: str) -> None:
    """Keep `key_hex` as the key unless another process kept one first."""
    await conn.execute(
        "INSERT INTO shop_secrets (name, value) VALUES ('confirmation_key', ?) ON CONFLICT DO NOTHING", (key_hex,)
    )


async def mark_spent(conn: Connection, token_id: str, at: str) -> bool:
    """Record the token as spent; False when it was spent already."""
    spent = await conn.execute_fetchall(
        "INSERT INTO spent_confirmations (token_id, spent_at) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING token_id",
        (token_id, at),
    )
    return bool(list(spent))
