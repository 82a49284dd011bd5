"""One-time sign-in links: `shopdesk operator link EMAIL` prints one; opened in a browser (and confirmed with a
button, so a link previewer that fetches it spends nothing) it signs that browser in as the operator for
`SESSION_SECONDS`, and the consent page then asks for no password. A link works once, for `LINK_SECONDS`.
The link's token and the session cookie are stored as SHA-256 hashes; removing the operator ends the session.
"""

from __future__ import annotations

import secrets

from ..storage.database import ShopDatabase
from ..storage.repositories import oauth as store
from ..storage.repositories import oauth_links as link_store
from ..storage.repositories.rows import Connection
from .operators import OperatorError, normal_email

LINK_SECONDS = 15 * 60
SESSION_SECONDS = 8 * 3600
LINK_PATH = "/oauth/signin"


async def new_link(db: ShopDatabase, email: str) -> tuple[str, str]:
    """(the operator's address, a new one-time token for the link)."""
    email = normal_email(email)
    token = secrets.token_urlsafe(32)
    async with db.transaction() as conn:
        if await store.operator_hash(conn, email) is None:
            raise OperatorError(f"{email} is not an operator; add it first with `shopdesk operator add`")
        await link_store.add_link(conn, token, email, store.now() + LINK_SECONDS)
    return email, token


async def spend_link(db: ShopDatabase, token: str) -> tuple[str, str] | None:
    """Use the link: (the operator's address, a new session id); None for a used, expired or unknown link."""
    session = secrets.token_urlsafe(32)
    async with db.transaction() as conn:
        email = await link_store.spend_link(conn, token)
        if email is None:
            return None
        await link_store.add_session(conn, session, email, store.now() + SESSION_SECONDS)
    return email, session


async def session_operator(conn: Connection, session: str) -> str | None:
    """The operator a live session cookie belongs to (one still an operator), or None."""
    return await link_store.session_operator(conn, session) if session else None
