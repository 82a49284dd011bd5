"""Slow sockets are dropped: a request's head and body must arrive within a deadline.

uvicorn (0.55, h11) has no such limit. Its keep-alive timer runs only between requests and is
cancelled by any byte received, so a client that opens a connection and sends nothing, or half a
request head and then one byte now and then (slowloris), or a body that never ends, holds the
connection, and for a body the request's task, for as long as it likes. Here the whole request must
arrive within `read_timeout` seconds of the connection opening, or of its first byte on a kept-alive
connection; then the connection is closed (an application waiting on the body sees a disconnect).
A response may take as long as it needs: a Server-Sent Events stream is not a slow read.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("shopdesk")


class DeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol, with a deadline for reading each request."""

    read_timeout: float = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and self.conn.their_state is h11.IDLE:
            self._arm()  # the first byte of the next request on a kept-alive connection
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE and self.conn.their_state is not h11.SEND_BODY:
            self._disarm()  # the request is in (or the connection is done with)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.read_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            log.info("closing a connection that did not send its request within %g s", self.read_timeout)
            self.transport.close()


def protocol_with_deadline(read_timeout: float) -> type[DeadlineProtocol]:
    """The protocol class for uvicorn's `http=` with this deadline."""
    return type("DeadlineProtocol", (DeadlineProtocol,), {"read_timeout": read_timeout})
