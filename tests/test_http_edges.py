"""HTTP edges, over real HTTP: one Authorization header a request, the Host check on /healthz and /metrics,
/metrics behind a token or on a port of its own, and resource errors that echo at most 300 characters of a URI.
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from conftest import free_port
from http_support import INITIALIZE, MCP_HEADERS, copy_shop, running

from shopdesk.access.tokens import AuthFile
from shopdesk.settings import default_auth_file

pytestmark = pytest.mark.slow  # every test talks to a shopdesk server process

METRICS_TOKEN = "scrape-" + "s3cret" * 4


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, tau2_template: Path) -> Iterator[tuple[str, int, str]]:
    db = copy_shop(tau2_template, tmp_path_factory.mktemp("http-edges"))
    _, admin = AuthFile(default_auth_file(db)).create("ops", ["admin"])
    with running(db) as server:
        yield server.url, server.port, admin


def send(url: str, headers: list[tuple[str, str]], body: Any = INITIALIZE) -> httpx2.Response:
    return httpx2.post(url, headers=[*MCP_HEADERS.items(), *headers], content=json.dumps(body).encode(), timeout=30)


# --- one Authorization header -------------------------------------------------------------------


def test_two_authorization_headers_get_400(shop: tuple[str, int, str]) -> None:
    url, _, admin = shop
    response = send(url, [("Authorization", "Bearer garbage"), ("Authorization", f"Bearer {admin}")])
    assert response.status_code == 400, (response.status_code, response.text)
    assert "one Authorization header" in response.json()["error"]["message"]


def test_the_same_token_twice_gets_400_too(shop: tuple[str, int, str]) -> None:
    url, _, admin = shop
    response = send(url, [("Authorization", f"Bearer {admin}"), ("Authorization", f"Bearer {admin}")])
    assert response.status_code == 400


def test_one_authorization_header_is_let_through(shop: tuple[str, int, str]) -> None:
    url, _, admin = shop
    assert send(url, [("Authorization", f"Bearer {admin}")]).status_code == 200


# --- Host checks on the operations routes -------------------------------------------------------


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
def test_an_operations_route_refuses_a_foreign_host(shop: tuple[str, int, str], path: str) -> None:
    _, port, _ = shop
    response = httpx2.get(f"http://127.0.0.1:{port}{path}", headers={"Host": "evil.example"}, timeout=30)
    assert response.status_code == 421, (response.status_code, response.text)


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
def test_an_operations_route_answers_its_own_host(shop: tuple[str, int, str], path: str) -> None:
    _, port, _ = shop
    response = httpx2.get(f"http://127.0.0.1:{port}{path}", headers={"Host": f"localhost:{port}"}, timeout=30)
    assert response.status_code == 200


# --- /metrics behind a token, or on a port of its own --------------------------------------------


@pytest.fixture
def plain_shop(tmp_path: Path, tau2_template: Path) -> Path:
    return copy_shop(tau2_template, tmp_path)


def test_metrics_behind_a_token_refuses_a_scrape_without_it(plain_shop: Path) -> None:
    with running(plain_shop, "--metrics-token", METRICS_TOKEN) as server:
        metrics = f"http://127.0.0.1:{server.port}/metrics"
        missing = httpx2.get(metrics, timeout=30)
        wrong = httpx2.get(metrics, headers={"Authorization": f"Bearer {METRICS_TOKEN}x"}, timeout=30)
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert missing.headers["WWW-Authenticate"] == "Bearer"


def test_metrics_behind_a_token_answers_a_scrape_with_it(plain_shop: Path) -> None:
    os.environ["SHOPDESK_METRICS_TOKEN"] = METRICS_TOKEN  # the environment variable, as a deployment sets it
    try:
        with running(plain_shop) as server:
            response = httpx2.get(
                f"http://127.0.0.1:{server.port}/metrics",
                headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
                timeout=30,
            )
    finally:
        del os.environ["SHOPDESK_METRICS_TOKEN"]
    assert response.status_code == 200 and "shopdesk_tool_calls" in response.text


def test_metrics_on_a_port_of_their_own_are_served_there_and_not_on_the_main_port(plain_shop: Path) -> None:
    metrics_port = free_port()
    with running(plain_shop, "--metrics-port", str(metrics_port)) as server:
        own = httpx2.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=30)
        main = httpx2.get(f"http://127.0.0.1:{server.port}/metrics", timeout=30)
        nothing_else = httpx2.get(f"http://127.0.0.1:{metrics_port}/healthz", timeout=30)
        foreign = httpx2.get(f"http://127.0.0.1:{metrics_port}/metrics", headers={"Host": "evil.example"}, timeout=30)
    assert own.status_code == 200 and "shopdesk_tool_calls" in own.text
    assert (main.status_code, nothing_else.status_code, foreign.status_code) == (404, 404, 421)


# --- resource errors echo a short URI -------------------------------------------------------------


def read_resource_error(url: str, token: str, uri: str) -> dict[str, Any]:
    """The JSON-RPC error a raw session gets for reading `uri`. (Raw, because the SDK's client also sends the
    URI in an `Mcp-Name` header, which the HTTP server refuses long before 100 KB.)"""
    auth = [("Authorization", f"Bearer {token}")]
    opened = send(url, auth)
    assert opened.status_code == 200, opened.text
    in_session = [*auth, ("mcp-session-id", opened.headers["mcp-session-id"]), ("mcp-protocol-version", "2025-06-18")]
    assert send(url, in_session, {"jsonrpc": "2.0", "method": "notifications/initialized"}).status_code == 202
    read = {"jsonrpc": "2.0", "id": 2, "method": "resources/read", "params": {"uri": uri}}
    response = send(url, in_session, read)
    assert response.status_code == 200, response.text[:300]
    data = next(line.removeprefix("data:") for line in response.text.splitlines() if line.startswith("data:"))
    error: dict[str, Any] = json.loads(data)["error"]
    return error


@pytest.mark.parametrize(
    "uri",
    [
        "shopdesk://nothing/" + "x" * 100_000,  # the SDK's "Unknown resource"
        "shopdesk://orders/W" + "1" * 100_000,  # a record template, a record that does not exist
        "shopdesk://tickets/TCK-\n\x1b[31m\x00" + "y" * 500,  # control characters
    ],
    ids=["unknown", "order", "control"],
)
def test_a_resource_error_echoes_at_most_300_characters_of_the_uri(shop: tuple[str, int, str], uri: str) -> None:
    url, _, admin = shop
    error = read_resource_error(url, admin, uri)
    texts = [error["message"], *(str(value) for value in (error.get("data") or {}).values())]
    for text in texts:
        assert len(text) <= 300, len(text)
        assert not any(unicodedata.category(char) == "Cc" for char in text), text[:80]


# --- stateless: no standing streams -------------------------------------------------------------


@pytest.mark.parametrize("resume", [False, True], ids=["a standing stream", "a replay by Last-Event-ID"])
def test_a_stateless_server_answers_a_get_with_405_at_once(tmp_path: Path, tau2_template: Path, resume: bool) -> None:
    """Not a stream held open for good (outside every session cap), nor a 500 for a replay it cannot make."""
    db = copy_shop(tau2_template, tmp_path)
    _, token = AuthFile(default_auth_file(db)).create("reader", ["catalog:read"])
    headers = {"Accept": "text/event-stream", "Authorization": f"Bearer {token}", "MCP-Protocol-Version": "2025-11-25"}
    if resume:
        headers["Last-Event-ID"] = "1"
    with running(db, "--stateless") as server:
        response = httpx2.get(server.url, headers=headers, timeout=10)
        assert post_ok(server.url, token)  # POST is served as ever
    assert response.status_code == 405 and response.headers["Allow"] == "POST, DELETE"
    assert "stateless" in response.json()["error"]["message"]


def post_ok(url: str, token: str) -> bool:
    response = httpx2.post(
        url, headers={**MCP_HEADERS, "Authorization": f"Bearer {token}"}, content=json.dumps(INITIALIZE), timeout=10
    )
    return response.status_code == 200
