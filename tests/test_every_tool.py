"""Every tool, through the MCP client: one call that succeeds and one that is refused and changes nothing."""

from typing import Any

import pytest
from mcp import Client
from shop_support import find_order, snapshot

from shopdesk.storage.sqlite import Database


def first(mapping: dict[str, Any]) -> Any:
    return next(iter(mapping.values()))


def success_cases(d: dict[str, Any]) -> dict[str, dict[str, Any]]:
    user = first(d["users"])
    product = first(d["products"])
    pending = find_order(d, "pending", "credit_card", where=lambda o, u: len(u["payment_methods"]) > 1)
    other_method = next(
        m
        for m in d["users"][pending["user_id"]]["payment_methods"]
        if m != pending["payment_history"][0]["payment_method_id"]
    )
    delivered = find_order(d, "delivered")
    exchange = find_order(d, "delivered", where=lambda o, u: o["order_id"] != delivered["order_id"])
    to_swap = find_order(d, "pending", "paypal")
    swap_from = to_swap["items"][0]
    swap_to = next(
        v["item_id"]
        for v in d["products"][swap_from["product_id"]]["variants"].values()
        if v["available"] and v["item_id"] != swap_from["item_id"]
    )
    address = {
        "address1": "5 Pier Road",
        "address2": "",
        "city": "Salem",
        "state": "MA",
        "country": "USA",
        "zip": "01970",
    }
    return {
        "find_user_id_by_email": {"email": user["email"]},
        "find_user_id_by_name_zip": {
            "first_name": user["name"]["first_name"],
            "last_name": user["name"]["last_name"],
            "zip": user["address"]["zip"],
        },
        "get_user_details": {"user_id": user["user_id"]},
        "modify_user_address": {"user_id": user["user_id"], **address},
        "search_customers": {"zip": user["address"]["zip"]},
        "get_order_details": {"order_id": pending["order_id"]},
        "search_orders": {"status": "delivered", "limit": 3},
        "modify_pending_order_address": {"order_id": pending["order_id"], **address},
        "modify_pending_order_payment": {"order_id": pending["order_id"], "payment_method_id": other_method},
        "modify_pending_order_items": {
            "order_id": to_swap["order_id"],
            "item_ids": [swap_from["item_id"]],
            "new_item_ids": [swap_to],
            "payment_method_id": to_swap["payment_history"][0]["payment_method_id"],
        },
        "cancel_pending_order": {
            "order_id": find_order(d, "pending", "gift_card")["order_id"],
            "reason": "no longer needed",
        },
        "return_delivered_order_items": {
            "order_id": delivered["order_id"],
            "item_ids": [delivered["items"][0]["item_id"]],
            "payment_method_id": delivered["payment_history"][0]["payment_method_id"],
        },
        "exchange_delivered_order_items": {
            "order_id": exchange["order_id"],
            "item_ids": [exchange["items"][0]["item_id"]],
            "new_item_ids": [exchange["items"][0]["item_id"]],
            "payment_method_id": exchange["payment_history"][0]["payment_method_id"],
        },
        "list_all_product_types": {},
        "get_product_details": {"product_id": product["product_id"]},
        "get_item_details": {"item_id": first(product["variants"])["item_id"]},
        "calculate": {"expression": "1 + 1"},
        "transfer_to_human_agents": {"summary": "Wants a human."},
        "create_ticket": {"user_id": user["user_id"], "subject": "Question", "message": "Where is my parcel?"},
        "list_tickets": {"status": "open"},
        "list_audit_events": {"since": "2026-01-01"},
    }


REFUSALS: dict[str, dict[str, Any]] = {
    "find_user_id_by_email": {"email": "nobody@nowhere.example"},
    "find_user_id_by_name_zip": {"first_name": "No", "last_name": "Body", "zip": "00000"},
    "get_user_details": {"user_id": "nobody_0000"},
    "modify_user_address": {
        "user_id": "nobody_0000",
        "address1": "1 A St",
        "address2": "",
        "city": "B",
        "state": "C",
        "country": "USA",
        "zip": "12345",
    },
    "search_customers": {},
    "get_order_details": {"order_id": "#W0000000"},
    "search_orders": {"limit": 0},
    "modify_pending_order_address": {
        "order_id": "#W0000000",
        "address1": "1 A St",
        "address2": "",
        "city": "B",
        "state": "C",
        "country": "USA",
        "zip": "12345",
    },
    "modify_pending_order_payment": {"order_id": "#W0000000", "payment_method_id": "paypal_1"},
    "modify_pending_order_items": {
        "order_id": "#W0000000",
        "item_ids": ["1"],
        "new_item_ids": ["2"],
        "payment_method_id": "paypal_1",
    },
    "cancel_pending_order": {"order_id": "#W0000000", "reason": "no longer needed"},
    "return_delivered_order_items": {"order_id": "#W0000000", "item_ids": ["1"], "payment_method_id": "paypal_1"},
    "exchange_delivered_order_items": {
        "order_id": "#W0000000",
        "item_ids": ["1"],
        "new_item_ids": ["2"],
        "payment_method_id": "paypal_1",
    },
    "list_all_product_types": {"category": "shoes"},
    "get_product_details": {"product_id": "1"},
    "get_item_details": {"item_id": "1"},
    "calculate": {"expression": "2 ** 8"},
    "transfer_to_human_agents": {"summary": ""},
    "create_ticket": {"user_id": "nobody_0000", "subject": "s", "message": "m"},
    "get_ticket": {"ticket_id": "TCK-999999"},
    "list_tickets": {"user_id": "nobody_0000"},
    "add_ticket_message": {"ticket_id": "TCK-999999", "body": "hello"},
    "set_ticket_status": {"ticket_id": "TCK-999999", "status": "closed"},
    "escalate_ticket": {"ticket_id": "TCK-999999", "reason": "r", "summary": "s"},
    "list_audit_events": {"cursor": "not-a-cursor"},
}


async def test_refusals_cover_every_listed_tool(client: Client) -> None:
    assert set(REFUSALS) == {t.name for t in (await client.list_tools()).tools}


@pytest.mark.parametrize("tool", sorted(REFUSALS))
async def test_every_tool_refuses_bad_calls_without_changing_anything(client: Client, db: Database, tool: str) -> None:
    before = await snapshot(db)
    result = await client.call_tool(tool, REFUSALS[tool])
    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert "Next step:" in text, text
    assert await snapshot(db) == before


async def test_every_tool_succeeds_on_a_good_call(client: Client, tau2_data: dict[str, Any]) -> None:
    cases = success_cases(tau2_data)
    ticket_id = None
    for name, arguments in cases.items():
        result = await client.call_tool(name, arguments)
        assert not result.is_error, (name, result.content[0].text)  # type: ignore[union-attr]
        assert isinstance(result.structured_content, dict) and result.content[0].text  # type: ignore[union-attr]
        if name == "create_ticket":
            ticket_id = result.structured_content["ticket_id"]
    for name, arguments in (
        ("get_ticket", {}),
        ("add_ticket_message", {"body": "On its way."}),
        ("set_ticket_status", {"status": "waiting_on_customer"}),
        ("escalate_ticket", {"reason": "r", "summary": "s"}),
    ):
        result = await client.call_tool(name, {"ticket_id": ticket_id, **arguments})
        assert not result.is_error, (name, result.content[0].text)  # type: ignore[union-attr]
