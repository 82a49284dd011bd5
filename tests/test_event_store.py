"""A session's event store is bounded by count and by bytes: a session that reads large
answers (an orders export is about 100 KB) cannot hold more than a few MB of them, whatever it reads."""

from __future__ import annotations

from typing import Any

from mcp.server.streamable_http import EventMessage
from mcp.types import JSONRPCResponse

from shopdesk.transport.event_store import SessionEventStore


def answer(request_id: int, size: int) -> JSONRPCResponse:
    return JSONRPCResponse(jsonrpc="2.0", id=request_id, result={"text": "x" * size})


async def replayed(store: SessionEventStore, event_id: str) -> tuple[Any, list[EventMessage]]:
    sent: list[EventMessage] = []

    async def send(event: EventMessage) -> None:
        sent.append(event)

    return await store.replay_events_after(event_id, send), sent


async def test_large_answers_are_held_up_to_the_byte_budget_and_the_oldest_go() -> None:
    store = SessionEventStore(max_bytes=1_000_000)
    ids = [await store.store_event(str(n), answer(n, 100_000)) for n in range(50)]
    assert store.size <= 1_000_000
    assert (await replayed(store, ids[0]))[0] is None  # long gone: answered as an unknown id
    assert (await replayed(store, ids[-2]))[0] == str(48)  # recent: still there


async def test_the_newest_event_is_kept_whatever_its_size() -> None:
    store = SessionEventStore(max_bytes=1_000)
    priming = await store.store_event("7", None)
    big = await store.store_event("7", answer(7, 50_000))
    assert (await replayed(store, priming))[0] is None  # the older event made room
    assert (await replayed(store, big))[0] == "7" and store.size > 1_000


async def test_at_most_max_events_are_held() -> None:
    store = SessionEventStore(max_events=3)
    ids = [await store.store_event("1", answer(1, 10)) for _ in range(5)]
    assert [(await replayed(store, event_id))[0] for event_id in ids] == [None, None, "1", "1", "1"]
    stream, sent = await replayed(store, ids[2])
    assert [event.event_id for event in sent] == ids[3:]
