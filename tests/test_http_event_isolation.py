"""A session's SSE events are its own, over real HTTP: a `Last-Event-ID` from another session, of any token,
replays nothing, and event ids cannot be guessed.

Before each session had its own store, one store served every session with ids counting up from 1, so a token
bound to one customer with only `catalog:read` could replay an admin session's answers about other customers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from http_support import copy_shop, running

from shopdesk.access.tokens import AuthFile
from shopdesk.settings import default_auth_file

pytestmark = pytest.mark.slow  # every test talks to a shopdesk HTTP server process

VERSION = "2025-11-25"  # a version with priming events, so every stream carries event ids


@dataclass
class Shop:
    url: str
    admin: str
    intruder: str  # bound to `customer`, catalog:read only
    customer: str
    other: dict[str, Any]  # a user who is not `customer`


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, tau2_template: Path, tau2_data: dict[str, Any]) -> Iterator[Shop]:
    db = copy_shop(tau2_template, tmp_path_factory.mktemp("event-isolation"))
    auth = AuthFile(default_auth_file(db))
    _, admin = auth.create("ops", ["admin"])
    customer, other_id = list(tau2_data["users"])[:2]
    _, intruder = auth.create("web-chat", ["catalog:read"], customer=customer)
    with running(db) as server:
        yield Shop(server.url, admin, intruder, customer, {"user_id": other_id, **tau2_data["users"][other_id]})


class RawSession:
    """One MCP session spoken by hand, so the SSE event ids can be read and sent back."""

    def __init__(self, http: httpx2.Client, url: str, token: str) -> None:
        self.http, self.url = http, url
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        }
        hello = {"protocolVersion": VERSION, "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}
        opened = self.post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": hello})
        assert opened.status_code == 200, opened.text
        self.headers |= {"mcp-session-id": opened.headers["mcp-session-id"], "mcp-protocol-version": VERSION}
        self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def post(self, message: dict[str, Any]) -> httpx2.Response:
        return self.http.post(self.url, headers=self.headers, content=json.dumps(message).encode())

    def call(self, request_id: int, tool: str, **arguments: Any) -> tuple[list[str], str]:
        """The event ids of the call's SSE stream, and the stream's text."""
        params = {"name": tool, "arguments": arguments}
        text = self.post({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}).text
        ids = [line[4:].strip() for line in text.splitlines() if line.startswith("id: ")]
        return ids, text

    def replay(self, last_event_id: str) -> tuple[int, str]:
        """What a GET resuming after `last_event_id` answers: its status and the first event's data, if any (a
        stream that replays stays open for what comes next; one that has nothing to replay ends at once)."""
        with self.http.stream("GET", self.url, headers={**self.headers, "last-event-id": last_event_id}) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:") and line[5:].strip():
                    return stream.status_code, line
            return stream.status_code, ""


def test_a_session_cannot_replay_another_sessions_events(shop: Shop) -> None:
    with httpx2.Client(timeout=30) as http:
        admin = RawSession(http, shop.url, shop.admin)
        ids, answer = admin.call(2, "get_user_details", user_id=shop.other["user_id"])
        assert shop.other["email"] in answer and len(ids) >= 2
        intruder = RawSession(http, shop.url, shop.intruder)
        unknown = intruder.replay("no-such-event")
        # The admin's own ids (which the intruder could not know), and every small number (which it could guess).
        for event_id in ids + [str(n) for n in range(0, 40)]:
            assert intruder.replay(event_id) == unknown, event_id
        assert shop.other["email"] not in unknown[1]


def test_a_session_still_resumes_its_own_stream(shop: Shop) -> None:
    with httpx2.Client(timeout=30) as http:
        admin = RawSession(http, shop.url, shop.admin)
        ids, answer = admin.call(2, "get_user_details", user_id=shop.other["user_id"])
        status, replayed = admin.replay(ids[0])
    assert status == 200 and shop.other["email"] in replayed
    assert replayed in answer.replace("\r\n", "\n")


def test_event_ids_are_random_not_counted(shop: Shop) -> None:
    with httpx2.Client(timeout=30) as http:
        first = RawSession(http, shop.url, shop.admin).call(2, "list_all_product_types")[0]
        second = RawSession(http, shop.url, shop.admin).call(2, "list_all_product_types")[0]
    every = first + second
    assert len(set(every)) == len(every)
    assert all(len(event_id) >= 20 and not event_id.isdigit() for event_id in every), every
