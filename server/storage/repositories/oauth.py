"""Where the authorization server keeps its state: the shop's own database (SQLite or PostgreSQL), so that
replicas behind a load balancer share clients, grants and tokens.

Nothing that works as a credential is stored as it is: authorization codes, access and refresh tokens, the
consent page's request ids and CSRF tokens are kept as their SHA-256 (they are 256-bit random values, which
need no slow hash); operators' passwords as argon2 hashes (operators.py).

A grant is what an operator approved on the consent page: one client, its scopes, perhaps one customer.
Codes and tokens hang off a grant; revoking the grant ends all of them at once.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

from .rows import Connection, Row, fetch_one

# The schema step (storage/schema.py's MIGRATION_SCRIPTS runs it on SQLite and, translated, on PostgreSQL).
SCHEMA = """
CREATE TABLE oauth_operators (
    email          TEXT PRIMARY KEY,       -- lowercased
    password_hash  TEXT NOT NULL,          -- argon2id
    created_at     TEXT NOT NULL
);
CREATE TABLE oauth_clients (
    client_id   TEXT PRIMARY KEY,
    metadata    TEXT NOT NULL,             -- JSON: the registration, as the SDK models it
    created_at  INTEGER NOT NULL
);
CREATE TABLE oauth_pending (
    hash        TEXT PRIMARY KEY,          -- of the request id in the consent page's address
    client_id   TEXT NOT NULL,
    params      TEXT NOT NULL,             -- JSON: the checked authorization request
    csrf_hash   TEXT,                      -- of the form's one-time CSRF token
    expires_at  INTEGER NOT NULL
);
CREATE TABLE oauth_grants (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    operator    TEXT NOT NULL,
    scopes      TEXT NOT NULL,             -- space-separated
    customer    TEXT,
    resource    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE TABLE oauth_codes (
    hash            TEXT PRIMARY KEY,
    grant_id        TEXT NOT NULL REFERENCES oauth_grants (id),
    code_challenge  TEXT NOT NULL,
    redirect_uri    TEXT NOT NULL,
    redirect_given  INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER
);
CREATE TABLE oauth_tokens (
    hash        TEXT PRIMARY KEY,
    grant_id    TEXT NOT NULL REFERENCES oauth_grants (id),
    kind        TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    scopes      TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER                    -- a refresh token already exchanged (rotated)
);
CREATE TABLE oauth_signin_links (
    hash        TEXT PRIMARY KEY,          -- of the one-time token in the link `operator link` prints
    email       TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE TABLE oauth_sessions (
    hash        TEXT PRIMARY KEY,          -- of the browser's session cookie, made by a sign-in link
    email       TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX oauth_tokens_grant ON oauth_tokens (grant_id);
CREATE INDEX oauth_codes_grant ON oauth_codes (grant_id);
"""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def now() -> int:
    return int(time.time())


@dataclass(frozen=True)
class Grant:
    id: str
    client_id: str
    operator: str
    scopes: list[str]
    customer: str | None
    resource: str
    created_at: int
    revoked_at: int | None

    @classmethod
    def of(cls, row: Row) -> Grant:
        return cls(
            id=row["id"],
            client_id=row["client_id"],
            operator=row["operator"],
            scopes=str(row["scopes"]).split(),
            customer=row["customer"],
            resource=row["resource"],
            created_at=int(row["created_at"]),
            revoked_at=None if row["revoked_at"] is None else int(row["revoked_at"]),
        )


# Pending authorizations (between /authorize and the consent page's answer)


async def add_pending(
    conn: Connection, request_id: str, client_id: str, params: str, expires_at: int, keep: int
) -> None:
    """Keep a new pending authorization, and only the newest `keep` of its client's (a flood of /authorize
    makes the client's oldest requests expire early, and no one else's)."""
    await conn.execute("DELETE FROM oauth_pending WHERE expires_at < ?", (now(),))
    await conn.execute(
        "INSERT INTO oauth_pending (hash, client_id, params, expires_at) VALUES (?, ?, ?, ?)",
        (digest(request_id), client_id, params, expires_at),
    )
    rows = await conn.execute_fetchall(
        "SELECT hash FROM oauth_pending WHERE client_id = ? ORDER BY expires_at DESC", (client_id,)
    )
    for row in list(rows)[keep:]:
        await conn.execute("DELETE FROM oauth_pending WHERE hash = ?", (row[0],))


async def pending(conn: Connection, request_id: str) -> Row | None:
    """The live pending authorization `request_id` names (client_id, params, csrf_hash), or None."""
    return await fetch_one(
        conn,
        "SELECT client_id, params, csrf_hash FROM oauth_pending WHERE hash = ? AND expires_at >= ?",
        (digest(request_id), now()),
    )


async def set_csrf(conn: Connection, request_id: str, csrf: str | None) -> None:
    await conn.execute(
        "UPDATE oauth_pending SET csrf_hash = ? WHERE hash = ?",
        (None if csrf is None else digest(csrf), digest(request_id)),
    )


async def drop_pending(conn: Connection, request_id: str) -> None:
    await conn.execute("DELETE FROM oauth_pending WHERE hash = ?", (digest(request_id),))


# Grants, codes and tokens


async def add_grant(conn: Connection, grant: Grant) -> None:
    await conn.execute(
        "INSERT INTO oauth_grants (id, client_id, operator, scopes, customer, resource, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (grant.id, grant.client_id, grant.operator, " ".join(grant.scopes), grant.customer, grant.resource, now()),
    )


async def grant(conn: Connection, grant_id: str) -> Grant | None:
    row = await fetch_one(conn, "SELECT * FROM oauth_grants WHERE id = ?", (grant_id,))
    return None if row is None else Grant.of(row)


async def grants(conn: Connection) -> Sequence[Grant]:
    rows = await conn.execute_fetchall("SELECT * FROM oauth_grants ORDER BY created_at, id")
    return [Grant.of(row) for row in rows]


async def revoke_grant(conn: Connection, grant_id: str) -> bool:
    """End a grant and every code and token made under it; False when there is no live grant of that id."""
    found = await grant(conn, grant_id)
    if found is None or found.revoked_at is not None:
        return False
    await conn.execute("UPDATE oauth_grants SET revoked_at = ? WHERE id = ?", (now(), grant_id))
    await conn.execute("DELETE FROM oauth_tokens WHERE grant_id = ?", (grant_id,))
    await conn.execute("UPDATE oauth_codes SET used_at = ? WHERE grant_id = ? AND used_at IS NULL", (now(), grant_id))
    return True


async def revoke_grants_of(conn: Connection, operator: str) -> int:
    """End every live grant `operator` gave (revoke_grant's way); how many there were."""
    rows = await conn.execute_fetchall(
        "SELECT id FROM oauth_grants WHERE operator = ? AND revoked_at IS NULL", (operator,)
    )
    return sum([await revoke_grant(conn, str(row[0])) for row in rows])


async def add_code(
    conn: Connection, code: str, grant_id: str, challenge: str, redirect_uri: str, given: bool, expires_at: int
) -> None:
    await conn.execute("DELETE FROM oauth_codes WHERE expires_at < ?", (now() - 3600,))
    await conn.execute(
        "INSERT INTO oauth_codes (hash, grant_id, code_challenge, redirect_uri, redirect_given, expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (digest(code), grant_id, challenge, redirect_uri, int(given), expires_at),
    )


async def code(conn: Connection, secret: str) -> Row | None:
    """The code's row joined with its grant's (client_id, scopes, resource, revoked_at)."""
    return await fetch_one(
        conn,
        "SELECT c.*, g.client_id, g.scopes, g.resource, g.revoked_at FROM oauth_codes c "
        "JOIN oauth_grants g ON g.id = c.grant_id WHERE c.hash = ?",
        (digest(secret),),
    )


async def spend_code(conn: Connection, secret: str) -> bool:
    """Mark the code used; False when it was used already (call inside the exchange's transaction)."""
    row = await fetch_one(conn, "SELECT used_at FROM oauth_codes WHERE hash = ?", (digest(secret),))
    if row is None or row[0] is not None:
        return False
    await conn.execute("UPDATE oauth_codes SET used_at = ? WHERE hash = ?", (now(), digest(secret)))
    return True


async def add_token(
    conn: Connection, secret: str, grant_id: str, kind: str, scopes: list[str], expires_at: int
) -> None:
    await conn.execute("DELETE FROM oauth_tokens WHERE grant_id = ? AND expires_at < ?", (grant_id, now()))
    await conn.execute(
        "INSERT INTO oauth_tokens (hash, grant_id, kind, scopes, expires_at) VALUES (?, ?, ?, ?, ?)",
        (digest(secret), grant_id, kind, " ".join(scopes), expires_at),
    )


async def token(conn: Connection, secret: str, kind: str) -> Row | None:
    """The token's row (scopes, expires_at, used_at, grant_id) joined with its live grant's fields."""
    return await fetch_one(
        conn,
        "SELECT t.scopes, t.expires_at, t.used_at, t.grant_id, g.client_id, g.operator, g.customer, g.resource "
        "FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id "
        "WHERE t.hash = ? AND t.kind = ? AND g.revoked_at IS NULL",
        (digest(secret), kind),
    )


async def spend_refresh(conn: Connection, secret: str) -> bool:
    """Mark a refresh token rotated; False when it was rotated already."""
    row = await fetch_one(conn, "SELECT used_at FROM oauth_tokens WHERE hash = ?", (digest(secret),))
    if row is None or row[0] is not None:
        return False
    await conn.execute("UPDATE oauth_tokens SET used_at = ? WHERE hash = ?", (now(), digest(secret)))
    return True


async def grant_of_token(conn: Connection, secret: str) -> str | None:
    row = await fetch_one(conn, "SELECT grant_id FROM oauth_tokens WHERE hash = ?", (digest(secret),))
    return None if row is None else str(row[0])


# Operators


async def add_operator(conn: Connection, email: str, password_hash: str, created_at: str) -> None:
    await conn.execute(
        "INSERT INTO oauth_operators (email, password_hash, created_at) VALUES (?, ?, ?)",
        (email, password_hash, created_at),
    )


async def operator_hash(conn: Connection, email: str) -> str | None:
    row = await fetch_one(conn, "SELECT password_hash FROM oauth_operators WHERE email = ?", (email,))
    return None if row is None else str(row[0])


async def set_operator_hash(conn: Connection, email: str, password_hash: str) -> None:
    await conn.execute("UPDATE oauth_operators SET password_hash = ? WHERE email = ?", (password_hash, email))


async def operators(conn: Connection) -> list[tuple[str, str]]:
    rows = await conn.execute_fetchall("SELECT email, created_at FROM oauth_operators ORDER BY email")
    return [(str(r[0]), str(r[1])) for r in rows]


async def remove_operator(conn: Connection, email: str) -> bool:
    if await operator_hash(conn, email) is None:
        return False
    await conn.execute("DELETE FROM oauth_operators WHERE email = ?", (email,))
    return True
