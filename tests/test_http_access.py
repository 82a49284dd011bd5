"""Who may do what, over real HTTP: bearer tokens, scopes, revocation, customer binding, read-only mode,
exposure checks, Host checks, health, metrics, JSON logs and the request size limit.

Every test talks to `python -m shopdesk serve --transport http` running as a subprocess on 127.0.0.1.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from conftest import free_port
from http_support import INITIALIZE, MCP_HEADERS, copy_shop, env, running, session
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError
from prometheus_client.parser import text_string_to_metric_families
from shop_support import call, connected, refused

from shopdesk.access.tokens import AuthFile
from shopdesk.settings import Settings, default_auth_file
from shopdesk.tools import TOOLS

TOOL_SCOPES = {spec.name: spec.access.scope for spec in TOOLS}  # as each tool declares it

pytestmark = pytest.mark.slow  # every test talks to a shopdesk HTTP server process

READ_SCOPES = {"orders:read", "catalog:read"}
# What a read-only server may offer: the tools whose scope only reads, or touches no shop data.
# (The audit log needs `admin` but only reads.)
READ_TOOLS = {name for name, scope in TOOL_SCOPES.items() if scope is None or scope.endswith(":read")} | {
    "list_audit_events"
}


async def tool_names(client: Client) -> set[str]:
    return {tool.name for tool in (await client.list_tools()).tools}


def post(url: str, token: str | None, body: Any = INITIALIZE, **headers: str) -> httpx2.Response:
    auth = {"Authorization": f"Bearer {token}"} if token is not None else {}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx2.post(url, headers={**MCP_HEADERS, **auth, **headers}, content=content, timeout=30)


@dataclass
class Shop:
    """A running server with an auth file beside its database, and tokens made in it."""

    url: str
    port: int
    db: Path
    auth: AuthFile
    admin: str
    reader: str  # orders:read, catalog:read
    customer: str  # the user id `bound` is bound to
    bound: str  # admin scopes, bound to `customer`


def customer_with_orders(data: dict[str, Any], at_least: int) -> str:
    return next(str(uid) for uid, user in data["users"].items() if at_least <= len(user["orders"]) <= 50)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, tau2_template: Path, tau2_data: dict[str, Any]) -> Iterator[Shop]:
    db = copy_shop(tau2_template, tmp_path_factory.mktemp("http-access"))
    auth = AuthFile(default_auth_file(db))  # found beside the database: no --auth-file needed
    _, admin = auth.create("ops", ["admin"])
    _, reader = auth.create("reader", sorted(READ_SCOPES))
    customer = customer_with_orders(tau2_data, 2)
    _, bound = auth.create("customer-app", ["admin"], customer=customer)
    with running(db) as server:
        yield Shop(server.url, server.port, db, auth, admin, reader, customer, bound)


# --- 1. the bearer gate -------------------------------------------------------------------------


def test_no_token_gets_401_pointing_at_the_protected_resource_metadata(shop: Shop) -> None:
    response = post(shop.url, None)
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    found = re.search(r'resource_metadata="([^"]+)"', challenge)
    assert found, challenge
    metadata_url = found.group(1)
    assert metadata_url == f"http://127.0.0.1:{shop.port}/.well-known/oauth-protected-resource/mcp"
    metadata = httpx2.get(metadata_url, timeout=30)
    assert metadata.status_code == 200
    assert metadata.json()["resource"] == shop.url


def test_a_garbage_or_unknown_token_gets_401(shop: Shop) -> None:
    for token in ("garbage", "sdt_00000000_" + "x" * 43, shop.admin + "x"):
        response = post(shop.url, token)
        assert response.status_code == 401, token
        assert "resource_metadata=" in response.headers["WWW-Authenticate"]


def test_a_valid_token_is_let_through(shop: Shop) -> None:
    response = post(shop.url, shop.admin)
    assert response.status_code == 200, response.text


# --- 2. scopes ----------------------------------------------------------------------------------


async def test_a_token_lists_exactly_the_tools_its_scopes_allow(shop: Shop) -> None:
    expected = {name for name, scope in TOOL_SCOPES.items() if scope is None or scope in READ_SCOPES}
    async with session(shop.url, shop.reader) as client:
        assert await tool_names(client) == expected


async def test_an_admin_token_lists_every_tool(shop: Shop) -> None:
    async with session(shop.url, shop.admin) as client:
        names = await tool_names(client)
    assert names == set(TOOL_SCOPES) and len(names) == 25


async def test_a_call_without_the_scope_is_refused_as_a_name_that_is_no_tool(
    shop: Shop, tau2_data: dict[str, Any]
) -> None:
    order_id = next(oid for oid, order in tau2_data["orders"].items() if order["status"] == "pending")
    async with session(shop.url, shop.reader) as client:
        text = await refused(client, "cancel_pending_order", order_id=order_id, reason="no longer needed")
    assert "There is no tool named `cancel_pending_order`" in text
    async with session(shop.url, shop.admin) as client:  # and nothing was cancelled
        assert (await call(client, "get_order_details", order_id=order_id))["status"] == "pending"


# --- 3. revocation and expiry -------------------------------------------------------------------


async def test_a_token_revoked_while_serving_stops_at_the_next_request_and_others_keep_working(shop: Shop) -> None:
    doomed_record, doomed = shop.auth.create("doomed", ["catalog:read"])
    _, kept = shop.auth.create("kept", ["catalog:read"])
    async with session(shop.url, doomed) as revoked_client, session(shop.url, kept) as kept_client:
        assert "list_all_product_types" in await tool_names(revoked_client)
        shop.auth.revoke(doomed_record.id)
        with pytest.raises(MCPError):
            await revoked_client.call_tool("list_all_product_types", {})
        await call(kept_client, "list_all_product_types")
    assert post(shop.url, doomed).status_code == 401
    assert post(shop.url, kept).status_code == 200


def test_a_token_revoked_with_the_cli_gets_401(shop: Shop) -> None:
    created = subprocess.run(
        [sys.executable, "-m", "shopdesk", "token", "create", "--subject", "cli", "--scopes", "catalog:read"]
        + ["--db", str(shop.db)],
        capture_output=True,
        text=True,
        env=env(),
        cwd=shop.db.parent,
        timeout=60,
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.splitlines()[0]
    assert post(shop.url, token).status_code == 200
    token_id = token.split("_")[1]
    revoked = subprocess.run(
        [sys.executable, "-m", "shopdesk", "token", "revoke", token_id, "--db", str(shop.db)],
        capture_output=True,
        text=True,
        env=env(),
        cwd=shop.db.parent,
        timeout=60,
    )
    assert revoked.returncode == 0, revoked.stderr
    assert post(shop.url, token).status_code == 401


def test_an_expired_token_gets_401(shop: Shop) -> None:
    record, expired = shop.auth.create("brief", ["admin"], expires_days=1)
    assert post(shop.url, expired).status_code == 200
    # A day later, as the file says: its expiry an hour ago.
    data = json.loads(shop.auth.path.read_text(encoding="utf-8"))
    for entry in data["tokens"]:
        if entry["id"] == record.id:
            entry["expires_at"] = int(time.time()) - 3600
    shop.auth.path.write_text(json.dumps(data), encoding="utf-8")
    assert post(shop.url, expired).status_code == 401


# --- 4. customer binding ------------------------------------------------------------------------


async def test_a_bound_token_reads_its_customers_order(shop: Shop, tau2_data: dict[str, Any]) -> None:
    order_id = tau2_data["users"][shop.customer]["orders"][0]
    async with session(shop.url, shop.bound) as client:
        order = await call(client, "get_order_details", order_id=order_id)
    assert order["order_id"] == order_id and order["user_id"] == shop.customer


async def test_a_bound_token_sees_another_customers_order_as_nonexistent(shop: Shop, tau2_data: dict[str, Any]) -> None:
    theirs = next(oid for oid, order in tau2_data["orders"].items() if order["user_id"] != shop.customer)
    nobodys = next(f"#W{n:07d}" for n in range(9_999_999, 0, -1) if f"#W{n:07d}" not in tau2_data["orders"])
    async with session(shop.url, shop.bound) as client:
        other = await refused(client, "get_order_details", order_id=theirs)
        missing = await refused(client, "get_order_details", order_id=nobodys)
    assert theirs in other and nobodys in missing
    assert other.replace(theirs, "ID") == missing.replace(nobodys, "ID")


async def test_a_bound_token_is_not_offered_the_customer_search(shop: Shop) -> None:
    async with session(shop.url, shop.bound) as client:
        names = await tool_names(client)
    assert "search_customers" not in names and "search_orders" in names


async def test_a_bound_token_searching_orders_finds_only_its_customers(shop: Shop, tau2_data: dict[str, Any]) -> None:
    async with session(shop.url, shop.bound) as client:
        page = await call(client, "search_orders", limit=50)
    assert {order["order_id"] for order in page["orders"]} == set(tau2_data["users"][shop.customer]["orders"])
    assert page["next_cursor"] is None


# --- 5. read-only mode --------------------------------------------------------------------------


async def test_read_only_http_lists_only_read_tools(tmp_path: Path, tau2_template: Path) -> None:
    db = copy_shop(tau2_template, tmp_path)
    _, admin = AuthFile(default_auth_file(db)).create("ops", ["admin"])
    with running(db, "--read-only") as server:
        async with session(server.url, admin) as client:
            tools = (await client.list_tools()).tools
    assert all(tool.annotations and tool.annotations.read_only_hint for tool in tools)
    assert {tool.name for tool in tools} == READ_TOOLS


async def test_read_only_stdio_lists_only_read_tools(tmp_path: Path, tau2_template: Path) -> None:
    db = copy_shop(tau2_template, tmp_path)
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "shopdesk", "serve", "--read-only", "--db", str(db)],
        env=env(),
        cwd=str(tmp_path),
    )
    async with connected(params) as client:
        tools = (await client.list_tools()).tools
    assert all(tool.annotations and tool.annotations.read_only_hint for tool in tools)
    assert {tool.name for tool in tools} == READ_TOOLS


# --- 6. exposure without tokens -----------------------------------------------------------------


def test_binding_every_address_without_an_auth_file_refuses_to_start(tmp_path: Path, tau2_template: Path) -> None:
    db = copy_shop(tau2_template, tmp_path)
    run = subprocess.run(
        [sys.executable, "-m", "shopdesk", "serve", "--transport", "http", "--host", "0.0.0.0"]
        + ["--port", str(free_port()), "--db", str(db)],
        capture_output=True,
        text=True,
        env=env(),
        cwd=tmp_path,
        timeout=60,
    )
    assert run.returncode == 2, run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("shopdesk: error:") and "--no-auth-i-know" in lines[0], lines


async def test_binding_every_address_with_no_auth_i_know_serves_and_warns(tmp_path: Path, tau2_template: Path) -> None:
    db = copy_shop(tau2_template, tmp_path)
    with running(db, "--host", "0.0.0.0", "--no-auth-i-know") as server:
        async with connected(server.url) as client:
            assert await tool_names(client) == set(TOOL_SCOPES)
        stderr = server.stop()
    warnings = [line for line in stderr.splitlines() if "WARNING" in line]
    assert any("NO authentication" in line for line in warnings), stderr


# --- 7. Host checks -----------------------------------------------------------------------------


def test_a_host_header_that_only_starts_with_the_servers_is_refused(shop: Shop) -> None:
    response = post(shop.url, shop.admin, Host=f"127.0.0.1:{shop.port}.evil.example")
    assert response.status_code == 421, (response.status_code, response.text)


def test_the_exact_host_and_port_is_accepted(shop: Shop) -> None:
    response = post(shop.url, shop.admin, Host=f"127.0.0.1:{shop.port}")
    assert response.status_code == 200, (response.status_code, response.text)


def test_an_origin_that_only_starts_with_the_servers_is_refused(shop: Shop) -> None:
    response = post(shop.url, shop.admin, Origin=f"http://127.0.0.1:{shop.port}.evil.example")
    assert response.status_code == 403, (response.status_code, response.text)
    assert post(shop.url, shop.admin, Origin=f"http://127.0.0.1:{shop.port}").status_code == 200


def test_a_session_cannot_be_used_with_another_token(shop: Shop) -> None:
    opened = post(shop.url, shop.admin)
    assert opened.status_code == 200
    session_headers = {"mcp-session-id": opened.headers["mcp-session-id"], "mcp-protocol-version": "2025-06-18"}
    initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert post(shop.url, shop.admin, initialized, **session_headers).status_code == 202
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    assert post(shop.url, shop.admin, listing, **session_headers).status_code == 200
    hijack = post(shop.url, shop.bound, listing, **session_headers)
    assert hijack.status_code == 404 and "cancel_pending_order" not in hijack.text


# --- 8. health and metrics ----------------------------------------------------------------------


def test_healthz_answers_ok_without_a_token(shop: Shop) -> None:
    response = httpx2.get(f"http://127.0.0.1:{shop.port}/healthz", timeout=30)
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def tool_calls(port: int, tool: str, outcome: str) -> float:
    text = httpx2.get(f"http://127.0.0.1:{port}/metrics", timeout=30).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "shopdesk_tool_calls_total" and sample.labels == {"tool": tool, "outcome": outcome}:
                return sample.value
    return 0.0


async def test_metrics_count_a_tool_call(shop: Shop) -> None:
    before = tool_calls(shop.port, "calculate", "ok")
    async with session(shop.url, shop.admin) as client:
        await call(client, "calculate", expression="2 + 3")
    assert tool_calls(shop.port, "calculate", "ok") == before + 1


# --- 9. JSON logs -------------------------------------------------------------------------------


async def test_json_logs_record_each_call_without_personal_data(
    tmp_path: Path, tau2_template: Path, tau2_data: dict[str, Any]
) -> None:
    db = copy_shop(tau2_template, tmp_path)
    _, token = AuthFile(default_auth_file(db)).create("logger-test", ["customers:read"])
    user_id, user = next(iter(tau2_data["users"].items()))
    email = user["email"]
    unknown = "nobody.at.all@example.com"
    with running(db, "--log-format", "json") as server:
        async with session(server.url, token) as client:
            assert (await call(client, "find_user_id_by_email", email=email))["user_id"] == user_id
            await refused(client, "find_user_id_by_email", email=unknown)
        stderr = server.stop()
    entries = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    calls = [e for e in entries if e["logger"] == "shopdesk.calls" and e.get("tool") == "find_user_id_by_email"]
    assert [e["outcome"] for e in calls] == ["ok", "error"], calls
    assert all(e["subject"] == "logger-test" and isinstance(e["duration_ms"], float) for e in calls)
    for secret in (email, unknown, user_id):
        assert secret not in stderr


# --- 10. request size ---------------------------------------------------------------------------


def test_a_request_body_over_the_limit_gets_413(shop: Shop) -> None:
    limit = Settings().max_request_bytes
    message = {"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"padding": "a" * limit}}
    body = json.dumps(message).encode()
    assert len(body) > limit
    assert post(shop.url, shop.admin, body).status_code == 413
