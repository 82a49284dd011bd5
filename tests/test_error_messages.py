"""Every error the model reads has one form, a length budget, and no raw input; database failures say what
happened; a crash keeps its details in the server's log."""

from __future__ import annotations

import logging
import sqlite3
import unicodedata
from collections.abc import AsyncIterator
from contextlib import closing
from typing import Any

import pytest
from mcp import Client
from shop_support import call, connected, find_order, refused, snapshot

from shopdesk.app import build_server
from shopdesk.domain.errors import MESSAGE_BUDGET, NEXT_STEP_BUDGET
from shopdesk.domain.policy.orders import _WHAT_NEXT_BY_STATUS
from shopdesk.settings import Settings
from shopdesk.shop import Shop

HOSTILE = "\x00\x1b[31m\u202eevil\n" + "x" * 100_000


def assert_well_formed(text: str) -> None:
    assert len(text) <= MESSAGE_BUDGET, len(text)
    assert not [c for c in text if unicodedata.category(c).startswith("C")], repr(text[:120])
    assert " Next step: " in text and not text.startswith("Error executing tool"), text


def hostile_arguments(schema: dict[str, Any], value: str) -> dict[str, Any]:
    """Every argument of the tool, each string (or list of strings) set to `value`."""
    arguments: dict[str, Any] = {}
    for name, spec in schema.get("properties", {}).items():
        kinds = {spec.get("type")} | {option.get("type") for option in spec.get("anyOf", [])}
        if "array" in kinds:
            arguments[name] = [value]
        elif "string" in kinds:
            arguments[name] = value
        elif "integer" in kinds:
            arguments[name] = 1
    return arguments


async def test_hostile_input_to_every_tool_gets_a_short_clean_message(client: Client) -> None:
    tools = (await client.list_tools()).tools
    assert len(tools) >= 24
    for tool in tools:
        for value in (HOSTILE, "\x07" * 250):
            arguments = hostile_arguments(tool.input_schema, value)
            if not arguments:
                continue
            result = await client.call_tool(tool.name, arguments)
            if value is HOSTILE:  # too long for any argument
                assert result.is_error, tool.name
            if result.is_error:
                assert_well_formed(result.content[0].text)  # type: ignore[union-attr]


async def test_a_huge_unknown_argument_name_is_not_echoed_in_full(client: Client) -> None:
    text = await refused(client, "cancel_pending_order", **{HOSTILE: 1, "order_id": "#W1", "reason": "x"})
    assert_well_formed(text)
    assert "has no argument named" in text and "\\x00" in text  # shortened and escaped, still recognisable


async def test_an_echoed_value_that_passed_validation_is_shortened_and_escaped(client: Client) -> None:
    email = "a\nb\x1b@example.com" + "m" * 230  # within the 254 characters an email may have
    text = await refused(client, "find_user_id_by_email", email=email)
    assert_well_formed(text)
    assert "a\\nb\\x1b@example.com" in text and "was not found" in text


async def test_refusals_from_every_layer_read_alike(client: Client, tau2_data: dict[str, Any]) -> None:
    delivered = find_order(tau2_data, "delivered")
    texts = [
        await refused(client, "cancel_pending_order", order_id="not-an-id", reason="no longer needed"),  # arguments
        await refused(client, "cancel_pending_order", order_id="#W1", reason="no longer needed", extra=1),  # names
        await refused(client, "cancel_pending_order", order_id="#W1", reason="no longer needed"),  # not found
        await refused(  # the shop's rules
            client, "cancel_pending_order", order_id=delivered["order_id"], reason="no longer needed"
        ),
        await refused(client, "no_such_tool"),
    ]
    for text in texts:
        assert_well_formed(text)
    assert "delivered" in texts[3] and "return" in texts[3]


def test_every_hint_for_an_order_status_fits_its_budget_whole() -> None:
    for status, hint in _WHAT_NEXT_BY_STATUS.items():
        assert len(hint) <= NEXT_STEP_BUDGET, status


async def test_a_refusal_keeps_its_whole_next_step(client: Client, tau2_data: dict[str, Any]) -> None:
    processed = find_order(tau2_data, "processed")
    text = await refused(client, "cancel_pending_order", order_id=processed["order_id"], reason="ordered by mistake")
    assert_well_formed(text)
    assert text.endswith("transfer the customer to a human agent.")


@pytest.fixture
async def shop(settings: Settings) -> AsyncIterator[tuple[Shop, Client]]:
    shop = Shop(settings)
    async with connected(build_server(shop=shop)) as client:
        yield shop, client


@pytest.mark.sqlite_only  # makes the SQLite file fail
async def test_a_read_only_database_says_so_and_changes_nothing(
    shop: tuple[Shop, Client], tau2_data: dict[str, Any]
) -> None:
    handle, client = shop
    order = find_order(tau2_data, "pending")
    before = await snapshot(handle.db)
    async with handle.db.transaction() as conn:
        await conn.execute("PRAGMA query_only = ON")  # SQLite now answers writes as it does for a read-only file
    text = await refused(client, "cancel_pending_order", order_id=order["order_id"], reason="no longer needed")
    assert_well_formed(text)
    assert "read-only" in text and "Nothing was changed" in text
    assert await snapshot(handle.db) == before


@pytest.mark.sqlite_only  # makes the SQLite file fail
async def test_a_full_disk_says_so_and_leaves_no_half_written_ticket(
    shop: tuple[Shop, Client], tau2_data: dict[str, Any]
) -> None:
    handle, client = shop
    user_id = next(iter(tau2_data["users"]))
    async with handle.db.transaction() as conn:
        async with conn.execute("PRAGMA page_count") as cur:
            pages = (await cur.fetchone())[0]  # type: ignore[index]
        await conn.execute(f"PRAGMA max_page_count = {int(pages)}")  # the file may not grow: a full disk
    made = 0
    for _ in range(50):  # each ticket needs about a page, so the file is full within a few
        result = await client.call_tool("create_ticket", {"user_id": user_id, "subject": "s", "message": "m" * 4000})
        if result.is_error:
            text = result.content[0].text  # type: ignore[union-attr]
            break
        made += 1
    else:
        pytest.fail("the database never filled up")
    assert_well_formed(text)
    assert "disk is full" in text and "Nothing was changed" in text
    page = await call(client, "list_tickets", user_id=user_id, limit=50)
    assert len(page["tickets"]) == made
    async with handle.db.read.execute("SELECT count(*) FROM audit_log WHERE action = 'create_ticket'") as cur:
        assert (await cur.fetchone())[0] == made  # type: ignore[index]


@pytest.mark.sqlite_only  # makes the SQLite file fail
async def test_a_busy_database_says_to_try_again(
    shop: tuple[Shop, Client], settings: Settings, tau2_data: dict[str, Any]
) -> None:
    handle, client = shop
    order = find_order(tau2_data, "pending")
    async with handle.db.transaction() as conn:
        await conn.execute("PRAGMA busy_timeout = 10")  # give up on the lock at once rather than in 5 s
    with closing(sqlite3.connect(settings.db_path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        text = await refused(client, "cancel_pending_order", order_id=order["order_id"], reason="no longer needed")
        other.execute("ROLLBACK")
    assert_well_formed(text)
    assert "busy" in text and "again" in text
    result = await call(client, "get_order_details", order_id=order["order_id"])
    assert result["status"] == "pending"


async def test_a_crash_reaches_the_model_without_its_details_and_is_logged(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    server = build_server(settings)

    @server.tool()
    def explode() -> str:
        """A tool with a bug."""
        raise RuntimeError("secret internal detail")

    with caplog.at_level(logging.ERROR, logger="shopdesk"):
        async with connected(server) as client:
            text = await refused(client, "explode")
    assert_well_formed(text)
    assert "internal error" in text and "secret" not in text
    assert any("secret internal detail" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
