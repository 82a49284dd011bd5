"""The audit log masks every value by the kind of its field, tool by tool: a canary in each string argument of
every write tool never comes back verbatim, through list_audit_events or `shopdesk audit --json`."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from shop_support import call, connected, db_arg, find_order, refused, server_env
from test_every_tool import success_cases

from shopdesk.app import build_server
from shopdesk.domain.masking import masked, masked_reason, masked_value
from shopdesk.settings import Settings
from shopdesk.tools import TOOLS

CARD = "4111 1111 1111 1111"
TICKET = {"subject": "Parcel", "message": "Where is it?"}
# Arguments that name records (kept in the audit row when they have an id's shape) and fixed choices: a call
# that succeeds needs real ones. Every other string argument gets a canary.
RECORDS = {"user_id", "order_id", "ticket_id", "payment_method_id", "item_ids", "new_item_ids"}
CHOICES = {"status", "priority", "author"}
FREE_TEXT = {"subject", "message", "body", "summary", "reason"}


def write_cases(data: dict[str, Any], ticket_id: str) -> dict[str, dict[str, Any]]:
    cases = {name: args for name, args in success_cases(data).items() if name in WRITE_TOOLS}
    return {
        **cases,
        "add_ticket_message": {"ticket_id": ticket_id, "body": "Any news?"},
        "set_ticket_status": {"ticket_id": ticket_id, "status": "resolved"},
        "escalate_ticket": {"ticket_id": ticket_id, "reason": "Angry", "summary": "Wants a refund"},
    }


WRITE_TOOLS = [
    "modify_user_address",
    "cancel_pending_order",
    "modify_pending_order_address",
    "modify_pending_order_payment",
    "modify_pending_order_items",
    "return_delivered_order_items",
    "exchange_delivered_order_items",
    "create_ticket",
    "add_ticket_message",
    "set_ticket_status",
    "escalate_ticket",
    "transfer_to_human_agents",
]


def canary(n: int, name: str) -> str:
    """A value that cannot turn up by chance; free text also carries a card number."""
    value = f"qzx{n}v"
    return f"{value} card {CARD}" if name in FREE_TEXT else value


def with_canaries(arguments: dict[str, Any], everywhere: bool) -> tuple[dict[str, Any], list[str]]:
    """`arguments` with a canary in every string argument (`everywhere`), or in every one but record ids and
    fixed choices (cancel's `reason` is a fixed choice); and the canaries."""
    given, canaries = dict(arguments), []
    for n, (name, value) in enumerate(arguments.items()):
        keep = name in RECORDS | CHOICES or (name == "reason" and value == "no longer needed")
        if isinstance(value, str) and (everywhere or not keep):
            given[name] = canary(n, name)
            canaries.append(f"qzx{n}v")
    return given, canaries


async def audit_rows(client: Client) -> list[dict[str, Any]]:
    return list((await call(client, "list_audit_events", limit=50))["events"])


async def open_ticket(client: Client, data: dict[str, Any]) -> str:
    user_id = next(iter(data["users"]))
    return str((await call(client, "create_ticket", user_id=user_id, **TICKET))["ticket_id"])


def test_the_write_tools_are_all_here() -> None:
    # Every tool not declared read-only writes, and has its canary case above.
    assert set(WRITE_TOOLS) == {spec.name for spec in TOOLS if not spec.annotations.read_only_hint}


@pytest.mark.parametrize("tool", WRITE_TOOLS)
async def test_a_write_keeps_no_value_but_record_ids_in_the_audit_log(
    settings: Settings, tau2_data: dict[str, Any], tool: str
) -> None:
    async with connected(build_server(settings)) as client:
        ticket_id = await open_ticket(client, tau2_data)
        arguments, canaries = with_canaries(write_cases(tau2_data, ticket_id)[tool], everywhere=False)
        await call(client, tool, **arguments)
        *_, row = await audit_rows(client)
    assert (row["tool"], row["outcome"]) == (tool, "done")
    shown = json.dumps(row)
    assert not [c for c in canaries if c in shown] and "1111" not in shown, shown
    user_id = arguments.get("user_id")
    assert user_id is None or user_id not in json.dumps(row["arguments"]), "a user id is made of a name"


@pytest.mark.parametrize("tool", WRITE_TOOLS)
async def test_a_call_with_a_canary_in_every_argument_leaves_none_in_the_audit_log(
    settings: Settings, tau2_data: dict[str, Any], tool: str
) -> None:
    async with connected(build_server(settings)) as client:
        ticket_id = await open_ticket(client, tau2_data)
        arguments, canaries = with_canaries(write_cases(tau2_data, ticket_id)[tool], everywhere=True)
        await client.call_tool(tool, arguments)
        *_, row = await audit_rows(client)
    assert row["tool"] == tool
    shown = json.dumps(row)
    assert not [c for c in canaries if c in shown] and "1111" not in shown, shown


async def test_an_address_change_says_which_fields_changed_and_keeps_neither_address(
    client: Client, tau2_data: dict[str, Any]
) -> None:
    user = next(iter(tau2_data["users"].values()))
    new = {**user["address"], "address1": "9 Harbour Lane", "zip": "04101"}
    await call(client, "modify_user_address", user_id=user["user_id"], **new)
    (row,) = await audit_rows(client)
    assert row["details"] == {"changed": ["address1", "zip"]}
    assert (row["target"], row["customer"]) == (user["user_id"], user["user_id"])
    shown = json.dumps(row)
    assert user["address"]["address1"] not in shown and "9 Harbour Lane" not in shown


async def test_a_refused_write_whose_record_exists_names_its_customer(
    client: Client, tau2_data: dict[str, Any]
) -> None:
    delivered = find_order(tau2_data, "delivered")
    await refused(client, "cancel_pending_order", order_id=delivered["order_id"], reason="no longer needed")
    (row,) = await audit_rows(client)
    assert (row["outcome"], row["target"]) == ("refused", delivered["order_id"])
    assert row["customer"] == delivered["user_id"]


@pytest.mark.parametrize(
    "extra",
    [{"reason": "because"}, {"reason": "no longer needed", "note": "x"}, {"reason": "no longer\x00needed"}],
    ids=["a value the schema refuses", "an argument the tool does not have", "a NUL character"],
)
async def test_a_write_whose_arguments_fail_the_schema_is_audited_as_a_refusal(
    client: Client, tau2_data: dict[str, Any], extra: dict[str, str]
) -> None:
    pending = find_order(tau2_data, "pending")
    text = await refused(client, "cancel_pending_order", order_id=pending["order_id"], **extra)
    (row,) = await audit_rows(client)
    assert (row["tool"], row["outcome"], row["target"]) == ("cancel_pending_order", "refused", pending["order_id"])
    # the refusal's words up to the name it quotes: a name the tool does not have is masked (see below)
    assert row["customer"] == pending["user_id"] and row["reason"].partition("`")[0] in text


@pytest.mark.slow
def test_the_audit_command_shows_no_canary(settings: Settings, tau2_data: dict[str, Any], tmp_path: Path) -> None:
    async def write() -> list[str]:
        found: list[str] = []
        async with connected(build_server(settings)) as client:
            ticket_id = await open_ticket(client, tau2_data)
            for tool, arguments in write_cases(tau2_data, ticket_id).items():
                for everywhere in (False, True):
                    given, canaries = with_canaries(arguments, everywhere)
                    await client.call_tool(tool, given)
                    found += canaries
        return found

    canaries = asyncio.run(write())
    printed = subprocess.run(
        [sys.executable, "-m", "shopdesk", "audit", "--json", "--db", db_arg(settings)],
        capture_output=True, text=True, env=server_env(), cwd=tmp_path, timeout=60,
    ).stdout  # fmt: skip
    rows = [json.loads(line) for line in printed.splitlines()]
    assert {r["tool"] for r in rows} == set(WRITE_TOOLS)
    assert not [c for c in canaries if c in printed] and "1111" not in printed


def test_masking_a_masked_row_again_changes_nothing() -> None:
    row = {
        "user_id": "sara_doe_496",
        "subject": f"card {CARD}",
        "order_id": "#W0000001",
        "item_ids": ["1234567890", "4111111111111111"],
        "status": "open",
        "amount_cents": 4111111111111111,
        "refunds": [{"payment_method_id": "gift_card_1", "amount_cents": 100}],
    }
    once = masked(row)
    assert masked(once) == once
    assert once["item_ids"][0] == "1234567890" and "1111" not in json.dumps(once)


def test_a_refusal_reason_loses_the_values_it_echoes() -> None:
    reason = "Customer qzx0v_very_long_canary_value_that_goes_on_and_on_and_on was not found."
    shown = masked_reason(reason, {"user_id": "qzx0v_very_long_canary_value_that_goes_on_and_on_and_on"})
    assert "qzx0v" not in shown[1:] and shown.startswith("Customer q***")
    assert masked_value("state", "CA") == "C***"


NAMED_CANARIES = {"4111111111111111": "v", "Jane Doe 742 Evergreen Terrace": "y", "jane.secret@canary.example": "x"}


async def test_an_argument_the_tool_does_not_have_is_not_named_in_the_audit_log(
    client: Client, tau2_data: dict[str, Any]
) -> None:
    user_id = next(iter(tau2_data["users"]))
    arguments = {"user_id": user_id, **TICKET, "jane.secret@canary.example": "x"}
    text = await refused(client, "create_ticket", **arguments)
    assert "jane.secret@canary.example" in text  # the model is told which name is wrong; the log keeps no name
    (row,) = await audit_rows(client)
    assert row["outcome"] == "refused" and "no argument named" in row["reason"]
    assert "jane" not in json.dumps(row) and "subject" in row["arguments"]


async def test_the_keys_of_a_mapping_passed_as_text_are_masked_in_the_audit_log(
    client: Client, tau2_data: dict[str, Any]
) -> None:
    arguments = {**write_cases(tau2_data, "TCK-1")["transfer_to_human_agents"], "summary": NAMED_CANARIES}
    await refused(client, "transfer_to_human_agents", **arguments)
    (row,) = await audit_rows(client)
    shown = json.dumps(row)
    assert row["outcome"] == "refused" and "summary" in row["arguments"], shown
    assert "1111" not in shown and "Jane" not in shown and "jane" not in shown and "Evergreen" not in shown, shown


def test_masked_keys_stay_apart_and_masking_them_again_changes_nothing() -> None:
    once = masked({"summary": {"abc": 1, "xyz": 2, "zip": "04101"}})
    assert once == {"summary": {"<3 characters>": 1, "<3 characters> #2": 2, "zip": "0***"}}
    assert masked(once) == once
