"""No token can starve the others, over real HTTP: a session cap and a request rate per token, answered 429
with Retry-After, while other tokens keep connecting, those of the same subject too (a web chat's tokens, one
bound to each customer, share a subject); the local operator is not limited."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from http_support import INITIALIZE, MCP_HEADERS, copy_shop, running
from prometheus_client.parser import text_string_to_metric_families

from shopdesk.access.tokens import AuthFile
from shopdesk.settings import default_auth_file

pytestmark = pytest.mark.slow  # every test talks to a shopdesk server process

PING = {"jsonrpc": "2.0", "id": 2, "method": "ping"}


def post(url: str, token: str | None, body: Any = INITIALIZE, **headers: str) -> httpx2.Response:
    auth = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx2.post(url, headers={**MCP_HEADERS, **auth, **headers}, content=json.dumps(body).encode(), timeout=30)


def delete(url: str, token: str, session_id: str) -> httpx2.Response:
    headers = {"Authorization": f"Bearer {token}", "mcp-session-id": session_id, "mcp-protocol-version": "2025-06-18"}
    return httpx2.delete(url, headers=headers, timeout=30)


def metric(port: int, name: str, labels: dict[str, str] | None = None) -> float:
    text = httpx2.get(f"http://127.0.0.1:{port}/metrics", timeout=30).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == (labels or {}):
                return sample.value
    return 0.0


def assert_refused(response: httpx2.Response, status: int = 429) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    assert int(response.headers["Retry-After"]) >= 1
    error = response.json()["error"]
    assert response.json()["jsonrpc"] == "2.0" and isinstance(error["code"], int) and error["message"]


@dataclass
class Limited:
    url: str
    port: int
    first: str  # a token of the subject "first"
    first_again: str  # another token of the same subject, bound to another customer
    other: str  # a token of the subject "other"


@pytest.fixture
def shop_folder(tmp_path: Path, tau2_template: Path) -> tuple[Path, AuthFile]:
    db = copy_shop(tau2_template, tmp_path)
    return db, AuthFile(default_auth_file(db))


def limited(shop_folder: tuple[Path, AuthFile], *args: str) -> Iterator[Limited]:
    db, auth = shop_folder
    with sqlite3.connect(db) as conn:
        customers = [row[0] for row in conn.execute("SELECT user_id FROM customers ORDER BY user_id LIMIT 2")]
    _, first = auth.create("first", ["catalog:read"], customer=customers[0])
    _, first_again = auth.create("first", ["catalog:read"], customer=customers[1])
    _, other = auth.create("other", ["catalog:read"])
    with running(db, *args) as server:
        yield Limited(server.url, server.port, first, first_again, other)


@pytest.fixture
def capped(shop_folder: tuple[Path, AuthFile]) -> Iterator[Limited]:
    yield from limited(shop_folder, "--max-sessions-per-token", "2", "--rate-limit", "0")


@pytest.fixture
def throttled(shop_folder: tuple[Path, AuthFile]) -> Iterator[Limited]:
    yield from limited(shop_folder, "--rate-limit", "0.001", "--rate-burst", "3")


# --- sessions -----------------------------------------------------------------------------------


def test_a_token_at_its_session_cap_is_refused_while_other_tokens_connect(capped: Limited) -> None:
    assert post(capped.url, capped.first).status_code == 200
    assert post(capped.url, capped.first).status_code == 200
    assert_refused(post(capped.url, capped.first))
    assert post(capped.url, capped.first_again).status_code == 200  # the same subject, another token
    assert post(capped.url, capped.other).status_code == 200
    assert metric(capped.port, "shopdesk_rate_limited_total", {"limit": "sessions"}) == 1


def test_a_session_ended_with_delete_frees_its_place(capped: Limited) -> None:
    opened = [post(capped.url, capped.first).headers["mcp-session-id"] for _ in range(2)]
    assert_refused(post(capped.url, capped.first))
    assert delete(capped.url, capped.first, opened[0]).status_code == 200
    assert post(capped.url, capped.first).status_code == 200


def test_a_session_closed_by_the_idle_timeout_frees_its_place(shop_folder: tuple[Path, AuthFile]) -> None:
    for server in limited(shop_folder, "--max-sessions-per-token", "1", "--session-idle-timeout", "1"):
        assert post(server.url, server.first).status_code == 200
        assert_refused(post(server.url, server.first))
        # Wait for the server to say the session is gone (bounded; the timeout itself is the server's).
        deadline = time.monotonic() + 30
        while metric(server.port, "shopdesk_sessions_open") > 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert metric(server.port, "shopdesk_sessions_open") == 0
        assert post(server.url, server.first).status_code == 200


def test_the_server_wide_session_cap_says_when_to_retry(shop_folder: tuple[Path, AuthFile]) -> None:
    for server in limited(shop_folder, "--max-sessions", "1"):
        assert post(server.url, server.first).status_code == 200
        assert_refused(post(server.url, server.other), 503)


# --- request rate -------------------------------------------------------------------------------


def test_a_token_over_its_rate_is_refused_with_retry_after_while_other_tokens_are_served(throttled: Limited) -> None:
    for _ in range(3):  # the burst
        assert post(throttled.url, throttled.first).status_code == 200
    refused = post(throttled.url, throttled.first)
    assert_refused(refused)
    assert int(refused.headers["Retry-After"]) >= 900  # a request every 1,000 s
    assert post(throttled.url, throttled.first_again).status_code == 200  # the same subject, another token
    assert post(throttled.url, throttled.other).status_code == 200


def test_requests_refused_for_their_rate_are_counted(throttled: Limited) -> None:
    for _ in range(5):
        post(throttled.url, throttled.first)
    assert metric(throttled.port, "shopdesk_rate_limited_total", {"limit": "rate"}) == 2


def test_the_local_operator_is_not_rate_limited(tmp_path: Path, tau2_template: Path) -> None:
    db = copy_shop(tau2_template, tmp_path)  # no auth file: the operator on loopback
    with running(db, "--rate-limit", "0.001", "--rate-burst", "1", "--max-sessions-per-token", "1") as server:
        statuses = {post(server.url, None).status_code for _ in range(4)}
    assert statuses == {200}


# --- slow sockets -------------------------------------------------------------------------------


@pytest.fixture
def impatient(tmp_path: Path, tau2_template: Path) -> Iterator[int]:
    db = copy_shop(tau2_template, tmp_path)
    with running(db, "--read-timeout", "0.5") as server:
        yield server.port


def closed_by_server(port: int, sent: bytes) -> bytes:
    """Send `sent` and stall; everything the server wrote before it closed the connection. (The socket's own
    timeout only bounds a failing test: a server that never closes raises TimeoutError.)"""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(sent)
        received = b""
        while chunk := sock.recv(4096):  # b"": the server closed it
            received += chunk
        return received


def test_a_client_that_sends_half_a_request_head_and_stalls_is_disconnected(impatient: int) -> None:
    closed_by_server(impatient, f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{impatient}\r\nContent-Ty".encode())


def test_a_client_that_stalls_in_the_middle_of_a_body_is_disconnected(impatient: int) -> None:
    head = (
        f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{impatient}\r\nContent-Type: application/json\r\n"
        "Accept: application/json, text/event-stream\r\nContent-Length: 500\r\n\r\n"
    )
    closed_by_server(impatient, head.encode() + b'{"jsonrpc": "2.0", ')


def test_a_connection_that_sends_nothing_is_disconnected(impatient: int) -> None:
    closed_by_server(impatient, b"")


def test_a_client_that_sends_its_request_in_time_is_answered(impatient: int) -> None:
    assert post(f"http://127.0.0.1:{impatient}/mcp", None).status_code == 200
