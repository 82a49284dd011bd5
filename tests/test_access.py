"""Who may do what, in process: customer binding tool by tool, scopes, read-only mode.

(The same rules over real HTTP with bearer tokens: test_http_access.py.)
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from http_support import running, session
from mcp import Client
from shop_support import call, connected, db_arg, refused

from shopdesk.access.caller import UNDECLARED, Binding, Caller, ToolAccess
from shopdesk.access.tokens import SCOPES, AuthFile
from shopdesk.app import build_server
from shopdesk.settings import Settings, default_auth_file
from shopdesk.storage.sqlite import Database
from shopdesk.tools import TOOLS

# Ids of records that exist nowhere, one of each kind, well formed.
NOWHERE = {"customer": "nobody_0000", "order": "#W0000001", "ticket": "TCK-999999", "payment_method": "paypal_0000001"}


def owned_by(data: dict[str, Any], user_id: str) -> dict[str, str]:
    user = data["users"][user_id]
    return {"customer": user_id, "order": user["orders"][0], "payment_method": next(iter(user["payment_methods"]))}


def two_customers(data: dict[str, Any]) -> tuple[str, str]:
    with_orders = [u for u, user in data["users"].items() if user["orders"] and user["payment_methods"]]
    return with_orders[0], with_orders[1]


@pytest.fixture(params=["in-process", pytest.param("http", marks=pytest.mark.slow)])
async def bound(
    request: pytest.FixtureRequest, settings: Settings, tau2_data: dict[str, Any]
) -> AsyncIterator[tuple[Client, dict[str, str], dict[str, str]]]:
    """A session bound to one customer, with one record of each kind of theirs and of another customer's:
    in process (as `serve --customer` on stdio), and over HTTP with a token bound to the customer."""
    mine, theirs = two_customers(tau2_data)
    records = {}
    async with connected(build_server(settings)) as admin:
        for user_id in (mine, theirs):
            ticket = await call(admin, "create_ticket", user_id=user_id, subject="Parcel", message="Where is it?")
            records[user_id] = {**owned_by(tau2_data, user_id), "ticket": ticket["ticket_id"]}
    if request.param == "in-process":
        async with connected(build_server(replace(settings, customer=mine))) as client:
            yield client, records[mine], records[theirs]
        return
    auth = default_auth_file(settings.db_path)
    _, token = AuthFile(auth).create("web-chat", ["admin"], customer=mine)
    with running(db_arg(settings), "--auth-file", str(auth), folder=settings.db_path.parent) as server:
        async with session(server.url, token) as client:
            yield client, records[mine], records[theirs]


# What each tool declares beside its handler (tools/declare.py).
ACCESS = {spec.name: spec.access for spec in TOOLS}
BINDINGS = {name: access.binding for name, access in ACCESS.items() if access.binding is not None}


async def test_every_tool_has_a_scope_and_a_binding(client: Client) -> None:
    # A new tool must be given both, or it is closed to tokens and hidden from bound sessions.
    listed = {t.name: t for t in (await client.list_tools()).tools}
    assert set(ACCESS) == set(listed)
    assert set(BINDINGS) == set(listed)
    for name, tool in listed.items():
        ids = {
            a for a in tool.input_schema["properties"] if a in ("user_id", "order_id", "ticket_id", "payment_method_id")
        }
        declared = set(BINDINGS[name].ids)
        assert ids == declared or BINDINGS[name].hidden, f"{name} takes {ids} but binds {declared}"
        assert ACCESS[name].scope is None or ACCESS[name].scope in SCOPES


CASES = sorted((name, argument, kind) for name, b in BINDINGS.items() for argument, kind in b.ids.items())


@pytest.mark.parametrize(("tool", "argument", "kind"), CASES, ids=[f"{t}.{a}" for t, a, _ in CASES])
async def test_another_customers_record_answers_like_one_that_does_not_exist(
    bound: tuple[Client, dict[str, str], dict[str, str]], tool: str, argument: str, kind: str
) -> None:
    client, mine, theirs = bound
    foreign = await refused(client, tool, **{argument: theirs[kind]})
    missing = await refused(client, tool, **{argument: NOWHERE[kind]})
    assert "was not found" in missing
    assert foreign.replace(theirs[kind], "<id>") == missing.replace(NOWHERE[kind], "<id>")
    # The customer's own record passes the binding (the call may still fail for its other arguments).
    own = await client.call_tool(tool, {argument: mine[kind]})
    text = own.content[0].text if own.is_error else ""  # type: ignore[union-attr]
    assert f"{mine[kind]} was not found" not in text and "of customer" not in text, text


async def test_a_bound_session_is_not_offered_the_customer_search(
    bound: tuple[Client, dict[str, str], dict[str, str]],
) -> None:
    client, _, _ = bound
    listed = {t.name for t in (await client.list_tools()).tools}
    assert "search_customers" not in listed and "get_order_details" in listed and "list_all_product_types" in listed
    assert "There is no tool named" in await refused(client, "search_customers", name="a")


async def test_searches_in_a_bound_session_find_only_the_customers_own(
    bound: tuple[Client, dict[str, str], dict[str, str]], tau2_data: dict[str, Any]
) -> None:
    client, mine, _ = bound
    page = await call(client, "search_orders", limit=50)
    assert {o["order_id"] for o in page["orders"]} == set(tau2_data["users"][mine["customer"]]["orders"])
    everything = await call(client, "search_orders", status="delivered", limit=50)
    assert all(o["user_id"] == mine["customer"] for o in everything["orders"])
    tickets = await call(client, "list_tickets", limit=50)
    assert [t["ticket_id"] for t in tickets["tickets"]] == [mine["ticket"]]


async def test_finding_another_customer_answers_like_finding_nobody(
    bound: tuple[Client, dict[str, str], dict[str, str]], tau2_data: dict[str, Any]
) -> None:
    client, mine, theirs = bound
    own_email = tau2_data["users"][mine["customer"]]["email"]
    assert (await call(client, "find_user_id_by_email", email=own_email))["user_id"] == mine["customer"]
    their_email = tau2_data["users"][theirs["customer"]]["email"]
    foreign = await refused(client, "find_user_id_by_email", email=their_email)
    missing = await refused(client, "find_user_id_by_email", email="nobody@nowhere.example")
    assert foreign.replace(their_email, "<e>") == missing.replace("nobody@nowhere.example", "<e>")
    them = tau2_data["users"][theirs["customer"]]
    name = {"first_name": them["name"]["first_name"], "last_name": them["name"]["last_name"]}
    assert "was not found" in await refused(client, "find_user_id_by_name_zip", **name, zip=them["address"]["zip"])


def test_scopes_decide_what_a_caller_is_offered() -> None:
    reader = Caller("bot", frozenset({"orders:read", "catalog:read"}))
    assert reader.missing_scope(ACCESS["get_order_details"]) is None
    assert reader.missing_scope(ACCESS["cancel_pending_order"]) == "orders:write"
    assert reader.missing_scope(ACCESS["calculate"]) is None  # touches no shop data
    assert reader.missing_scope(UNDECLARED) == "admin"  # a name with no declaration is closed
    admin = Caller("ops", frozenset({"admin"}))
    assert all(admin.missing_scope(access) is None for access in ACCESS.values())
    assert not reader.offered(ACCESS["cancel_pending_order"], read_only=False)
    read_only_admin = Caller("ops", frozenset({"admin"}), read_only=True)
    assert not read_only_admin.offered(ACCESS["cancel_pending_order"], read_only=False)
    assert read_only_admin.offered(ACCESS["get_order_details"], read_only=True)
    bound = Caller("me", frozenset({"admin"}), customer="c_1")
    assert not bound.offered(ACCESS["search_customers"], read_only=True)
    # A tool declared without a binding is closed to a bound session until it says what it may be passed.
    assert not bound.offered(ToolAccess("orders:read"), read_only=True)
    assert bound.offered(ToolAccess("orders:read", Binding()), read_only=True)


@pytest.mark.sqlite_only  # checks the file's bytes; test_postgres.py has PostgreSQL's read-only test
async def test_read_only_mode_offers_and_runs_only_reads_and_writes_nothing(
    settings: Settings, tau2_data: dict[str, Any]
) -> None:
    before = hashlib.sha256(settings.db_path.read_bytes()).hexdigest()
    order_id = next(iter(tau2_data["orders"]))
    async with connected(build_server(replace(settings, read_only=True))) as client:
        listed = (await client.list_tools()).tools
        assert listed and all(t.annotations and t.annotations.read_only_hint for t in listed)
        assert (await call(client, "get_order_details", order_id=order_id))["order_id"] == order_id
        text = await refused(client, "cancel_pending_order", order_id=order_id, reason="no longer needed")
        assert "There is no tool named `cancel_pending_order`" in text  # as for any tool the session is not offered
    assert hashlib.sha256(settings.db_path.read_bytes()).hexdigest() == before


@pytest.mark.sqlite_only
async def test_a_read_only_database_connection_cannot_write(settings: Settings) -> None:
    db = await Database.open(settings.db_path, read_only=True)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            async with db.transaction() as conn:
                await conn.execute("UPDATE customers SET first_name = 'X'")
    finally:
        await db.close()
