"""No token can starve the others: a cap on its open sessions and a rate limit on its requests.

`TokenLimits` is an ASGI middleware around the `/mcp` endpoint. It runs after the SDK's bearer
authentication, so it knows the token (`scope["user"]`); a request without a token (the local operator on
loopback, or one the SDK is about to answer 401) passes untouched. The limits are the token's own, not its
subject's: tokens that share a subject (a web chat's, one bound to each customer) would otherwise let one
customer's sessions and requests starve every other customer's.

- Rate: a token bucket per token (`rate` requests a second, up to `burst` at once). Over it, the
  request is answered 429 with `Retry-After` and counted in `shopdesk_rate_limited_total{limit="rate"}`. A DELETE,
  which only ends a session, is never limited.
- Sessions: a request that would open a session (POST without `Mcp-Session-Id`) is refused 429 when
  the token already holds `max_sessions` of them, counting its openings still in flight. The
  session id is learnt from the `Mcp-Session-Id` header of the answer that opened it; whether it is
  still open is asked of the SDK's session manager at the token's next opening (`SessionBook`), so a
  session that ended in any way, a DELETE, the idle timeout or a crash, stops counting.

The SDK's own server-wide 503 ("Too many open sessions") gets a `Retry-After` here as well.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..access.tokens import key_holder
from ..surface.session_book import SessionBook

SESSION_HEADER = b"mcp-session-id"
SESSION_RETRY_SECONDS = 30  # how soon a refused opening may try again: a session must end first
RATE_LIMITED = -32000  # JSON-RPC's "server error" range; the HTTP status says what it is


def holder_of(scope: Scope) -> str | None:
    """Whose limits an authenticated request counts against: its token's (as idempotency keys are, see
    tokens.key_holder); None without a token."""
    user = scope.get("user")
    if not isinstance(user, AuthenticatedUser):
        return None
    return key_holder(user.access_token.token, user.access_token.claims)


@dataclass
class TokenBucket:
    """`rate` tokens a second, holding at most `burst`."""

    rate: float
    burst: int
    tokens: float = field(init=False)
    updated: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)

    def take(self, now: float) -> float:
        """Take one token; 0 when there was one, else the seconds until there will be."""
        self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


def refusal(status: int, message: str, retry_after: int) -> tuple[Message, Message]:
    """An HTTP answer with a JSON-RPC error body (no request id: the body was not read) and Retry-After."""
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": RATE_LIMITED, "message": message}}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(retry_after).encode()),
    ]
    return (
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": body},
    )


class TokenLimits:
    """ASGI middleware for `/mcp`: per-token session cap and request rate (see the module's docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        book: SessionBook,
        max_sessions: int,
        rate: float,
        burst: int,
        on_limited: Callable[[Literal["rate", "sessions"]], None] = lambda limit: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.book = book
        self.max_sessions = max_sessions
        self.rate = rate
        self.burst = burst
        self.on_limited = on_limited
        self.clock = clock
        self.buckets: dict[str, TokenBucket] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        holder = holder_of(scope)
        if holder is None:
            await self.app(scope, receive, _with_retry_after(send))
            return
        method = scope["method"]
        if method != "DELETE" and self.rate > 0:
            wait = self._bucket(holder).take(self.clock())
            if wait > 0:
                self.on_limited("rate")
                seconds = max(1, math.ceil(wait))
                await _send(send, refusal(429, f"Too many requests; try again in {seconds} s.", seconds))
                return
        if method == "POST" and _header(scope, SESSION_HEADER) is None:
            await self._open(scope, receive, send, holder)
            return
        await self.app(scope, receive, send)

    def _bucket(self, holder: str) -> TokenBucket:
        bucket = self.buckets.get(holder)
        if bucket is None:
            bucket = self.buckets[holder] = TokenBucket(self.rate, self.burst)
        return bucket

    async def _open(self, scope: Scope, receive: Receive, send: Send, holder: str) -> None:
        if not self.book.admit(holder, self.max_sessions):
            self.on_limited("sessions")
            message = (
                f"This token already has {self.max_sessions} open sessions, the most it may; "
                "end one (DELETE) or wait for one to expire."
            )
            await _send(send, refusal(429, message, SESSION_RETRY_SECONDS))
            return
        opened: str | None = None

        async def learn(message: Message) -> None:
            nonlocal opened
            if message["type"] == "http.response.start" and message["status"] < 400:
                opened = _header(message, SESSION_HEADER)
            await _with_retry_after(send)(message)

        try:
            await self.app(scope, receive, learn)
        finally:
            # No session id: refused, failed, stateless, or not an initialize; nothing was opened.
            self.book.settle(holder, opened)


def _header(scope_or_message: Scope | Message, name: bytes) -> str | None:
    for key, value in scope_or_message.get("headers") or ():
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _with_retry_after(send: Send) -> Send:
    """`send`, adding Retry-After to the SDK's 503 "too many open sessions" answer."""

    async def add(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 503:
            headers = list(message.get("headers") or [])
            if not any(key.lower() == b"retry-after" for key, _ in headers):
                message = {**message, "headers": [*headers, (b"retry-after", str(SESSION_RETRY_SECONDS).encode())]}
        await send(message)

    return add


async def _send(send: Send, messages: tuple[Message, Message]) -> None:
    for message in messages:
        await send(message)
