"""Sign-in links and the browser sessions they open (oauth/links.py), and when a grant's refresh ends (for
`token list`): the tables are in oauth.py's SCHEMA, which is near its size. Links and sessions are kept as the
SHA-256 of their secret, as codes and tokens are (oauth.digest)."""

from __future__ import annotations

from .oauth import digest, now
from .rows import Connection, fetch_one


async def add_link(conn: Connection, token: str, email: str, expires_at: int) -> None:
    """Keep a new one-time link for `email` (and drop the ones that expired)."""
    await conn.execute("DELETE FROM oauth_signin_links WHERE expires_at < ?", (now(),))
    await conn.execute(
        "INSERT INTO oauth_signin_links (hash, email, expires_at) VALUES (?, ?, ?)", (digest(token), email, expires_at)
    )


async def spend_link(conn: Connection, token: str) -> str | None:
    """Mark a live, unused link used: the operator's address, or None (call inside a transaction)."""
    row = await fetch_one(
        conn,
        "SELECT email FROM oauth_signin_links WHERE hash = ? AND used_at IS NULL AND expires_at >= ?",
        (digest(token), now()),
    )
    if row is None:
        return None
    await conn.execute("UPDATE oauth_signin_links SET used_at = ? WHERE hash = ?", (now(), digest(token)))
    return str(row[0])


async def add_session(conn: Connection, session: str, email: str, expires_at: int) -> None:
    """Keep a browser's new session (and drop the ones that expired)."""
    await conn.execute("DELETE FROM oauth_sessions WHERE expires_at < ?", (now(),))
    await conn.execute(
        "INSERT INTO oauth_sessions (hash, email, expires_at) VALUES (?, ?, ?)", (digest(session), email, expires_at)
    )


async def session_operator(conn: Connection, session: str) -> str | None:
    """The operator a live session belongs to (one still an operator), or None."""
    row = await fetch_one(
        conn,
        "SELECT s.email FROM oauth_sessions s JOIN oauth_operators o ON o.email = s.email "
        "WHERE s.hash = ? AND s.expires_at >= ?",
        (digest(session), now()),
    )
    return None if row is None else str(row[0])


async def last_refresh_expiry(conn: Connection, grant_id: str) -> int | None:
    """When the grant's newest unused refresh token ends (epoch seconds), or None when it has none."""
    row = await fetch_one(
        conn, "SELECT max(expires_at) FROM oauth_tokens WHERE grant_id = ? AND used_at IS NULL", (grant_id,)
    )
    return None if row is None or row[0] is None else int(row[0])
