"""Resumable HTTP streams: each session's SSE events, kept in memory so its client can pick up after a drop.

With an event store, the SDK gives every event on a Streamable HTTP SSE stream an id (and sends a priming
event first); a client whose connection drops reconnects with `Last-Event-ID` and gets what it missed,
instead of losing the answer to a call that may have written.

The SDK hands one event store to every session's transport, and the stream ids it stores under are plain
request ids ("1", "2", ...) that every session uses. One shared store would therefore let any session replay
another's events by naming their id (and mix two sessions' streams of the same request id). So each session
gets a store of its own (`keep_events_per_session`): a replay looks only at the events of the session it is
asked in, which the SDK has already checked belongs to the caller's credential; an id from another session
answers exactly as an unknown id does. Event ids are random, so none can be guessed either.

A store holds the session's most recent events, at most `max_events` of them and `max_bytes` of their JSON
(the newest is kept whatever its size): enough to bridge a dropped connection, not a history, and bounded in
memory however large the answers (an orders export is about 100 KB). It goes when the session's transport goes.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from typing import Any

from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.types import JSONRPCMessage

MAX_EVENTS_PER_SESSION = 1_000
MAX_EVENT_BYTES_PER_SESSION = 2 * 1024 * 1024


class SessionEventStore(EventStore):
    """The events of one session."""

    def __init__(self, max_events: int = MAX_EVENTS_PER_SESSION, max_bytes: int = MAX_EVENT_BYTES_PER_SESSION) -> None:
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.size = 0  # bytes of JSON held
        self._events: OrderedDict[EventId, tuple[StreamId, JSONRPCMessage | None, int]] = OrderedDict()

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        event_id = secrets.token_urlsafe(16)
        size = 0 if message is None else len(message.model_dump_json(by_alias=True, exclude_unset=True))
        self._events[event_id] = (stream_id, message, size)
        self.size += size
        while len(self._events) > 1 and (len(self._events) > self.max_events or self.size > self.max_bytes):
            self.size -= self._events.popitem(last=False)[1][2]
        return event_id

    async def replay_events_after(self, last_event_id: EventId, send_callback: EventCallback) -> StreamId | None:
        """Send the events of `last_event_id`'s stream that came after it; None if this session has no such
        event (never had it, or already dropped it as too old)."""
        found = self._events.get(last_event_id)
        if found is None:
            return None
        stream_id = found[0]
        after = False
        for event_id, (stream, message, _) in list(self._events.items()):
            if event_id == last_event_id:
                after = True
            elif after and stream == stream_id and message is not None:
                await send_callback(EventMessage(message, event_id))
        return stream_id


class _NotShared(EventStore):
    """The store the manager is given: it only switches resumability on. Every session's transport gets a
    `SessionEventStore` instead, so this one is never used; if it were, the events would be refused rather than
    pooled across sessions."""

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        raise RuntimeError("a session's events must go to its own store")

    async def replay_events_after(self, last_event_id: EventId, send_callback: EventCallback) -> StreamId | None:
        raise RuntimeError("a session's events must come from its own store")


def resumable_streams() -> EventStore:
    """The `event_store` to pass to `streamable_http_app`; follow with `keep_events_per_session`."""
    return _NotShared()


def keep_events_per_session(manager: StreamableHTTPSessionManager) -> None:
    """Give each session the manager admits an event store of its own.

    The SDK has no option for this: it builds each session's transport in `_admit_session` with the
    manager's one store. Wrap that method and swap the store on the new transport; the checks make an SDK
    that changes either name fail at start-up instead of silently pooling the events again.
    """
    admit: Any = getattr(manager, "_admit_session", None)
    if admit is None or not isinstance(manager.event_store, _NotShared):
        raise RuntimeError("this version of the MCP SDK cannot keep events per session; pin mcp 2.3")

    def admit_with_own_store(*args: Any, **kwargs: Any) -> Any:
        transport = admit(*args, **kwargs)
        if transport is not None:
            if getattr(transport, "_event_store", None) is not manager.event_store:
                raise RuntimeError("this version of the MCP SDK cannot keep events per session; pin mcp 2.3")
            transport._event_store = SessionEventStore()
        return transport

    manager._admit_session = admit_with_own_store  # type: ignore[method-assign]
