"""Talking MCP over HTTP, the demo waits as long as the shopdesk server asks before trying again.

shopdesk answers 429 when a token's subject is over its request rate or its session cap, and 503 when
the server holds all the sessions it may, each with `Retry-After` (server/transport/http_limits.py). The MCP
SDK's Streamable HTTP client turns any such answer into an error at once. `RetryAfterTransport`, the
transport of the demo's HTTP client, waits what the server says (read as retry.py reads the Claude
API's `retry-after`) and sends the same request again, a few times; a wait longer than `cap`, or an
answer without `Retry-After`, is handed back as it came, so nothing sleeps an hour unreported.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import httpx2
from mcp.client._transport import TransportStreams
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import MCP_DEFAULT_SSE_READ_TIMEOUT, MCP_DEFAULT_TIMEOUT

from .retry import retry_after_from, utc_now

RETRIED_STATUSES = (429, 503)


class RetryAfterTransport(httpx2.AsyncBaseTransport):
    def __init__(
        self,
        inner: httpx2.AsyncBaseTransport | None = None,
        *,
        max_attempts: int = 5,
        cap: float = 30.0,
        on_wait: Callable[[int, float], None] = lambda status, seconds: None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.inner = inner or httpx2.AsyncHTTPTransport()
        self.max_attempts = max_attempts
        self.cap = cap
        self.on_wait = on_wait
        self.sleep = sleep
        self.now = now

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()  # the body is sent again on a retry
        for attempt in range(1, self.max_attempts + 1):
            response = await self.inner.handle_async_request(request)
            if response.status_code not in RETRIED_STATUSES or attempt == self.max_attempts:
                return response
            wait = retry_after_from(response.headers, self.now)
            if wait is None or wait > self.cap:
                return response
            await response.aclose()
            self.on_wait(response.status_code, wait)
            await self.sleep(wait)
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        await self.inner.aclose()


@asynccontextmanager
async def streamable_http(
    url: str, transport: RetryAfterTransport, headers: dict[str, str] | None = None
) -> AsyncIterator[TransportStreams]:
    """The SDK's Streamable HTTP client transport on an HTTP client of its own (the timeouts the SDK uses by
    default) that sends through `transport`."""
    timeout = httpx2.Timeout(MCP_DEFAULT_TIMEOUT, read=MCP_DEFAULT_SSE_READ_TIMEOUT)
    async with (
        httpx2.AsyncClient(timeout=timeout, transport=transport, headers=headers) as http,
        streamable_http_client(url, http_client=http) as streams,
    ):
        yield streams
