"""Bad input gets a short error naming the field, and changes nothing."""

from typing import Any

import pytest
from mcp import Client
from shop_support import call, find_order, refused, snapshot

from shopdesk.storage.sqlite import Database

HUGE = "x" * 100_000
SQL = "'; DROP TABLE orders; --"


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        ("cancel_pending_order", {"order_id": 2611340, "reason": "no longer needed"}, "order_id"),
        ("cancel_pending_order", {"order_id": "#W2611340"}, "reason"),
        ("cancel_pending_order", {"order_id": "W2611340", "reason": "no longer needed"}, "order_id"),
        (
            "modify_pending_order_items",
            {"order_id": "#W2611340", "item_ids": "6469567736", "new_item_ids": [], "payment_method_id": "paypal_1"},
            "item_ids",
        ),
        (
            "modify_pending_order_items",
            {"order_id": "#W2611340", "item_ids": [], "new_item_ids": [], "payment_method_id": "paypal_1"},
            "item_ids",
        ),
        ("get_user_details", {"user_id": HUGE}, "user_id"),
        ("create_ticket", {"user_id": "a", "subject": HUGE, "message": "m"}, "subject"),
        ("search_orders", {"limit": 1000}, "limit"),
        (
            "return_delivered_order_items",
            {"order_id": "#W1", "item_ids": [SQL], "payment_method_id": "x_1"},
            "item_ids.0",
        ),
    ],
)
async def test_invalid_arguments_name_the_field(
    client: Client, db: Database, tool: str, arguments: dict[str, Any], field: str
) -> None:
    before = await snapshot(db)
    text = await refused(client, tool, **arguments)
    assert f"`{field}`" in text
    assert "Next step" in text and "nothing was changed" in text
    assert "pydantic" not in text and "https://errors" not in text
    assert len(text) < 1000
    assert await snapshot(db) == before


async def test_unknown_argument_is_refused_by_name(client: Client, db: Database, tau2_data: dict[str, Any]) -> None:
    order = find_order(tau2_data, "pending")
    before = await snapshot(db)
    text = await refused(
        client, "cancel_pending_order", order_id=order["order_id"], reason="no longer needed", refund_amount=10_000
    )
    assert "`refund_amount`" in text and "order_id, reason" in text
    assert await snapshot(db) == before


async def test_sql_looking_text_is_just_text(client: Client, db: Database, tau2_data: dict[str, Any]) -> None:
    before = await snapshot(db)
    await refused(client, "find_user_id_by_email", email=SQL)
    await refused(client, "find_user_id_by_name_zip", first_name=SQL, last_name="x' OR '1'='1", zip="1' --")
    page = await call(client, "search_customers", name=SQL, email="%' OR 1=1 --")
    assert page["customers"] == []
    assert await snapshot(db) == before
    user = next(iter(tau2_data["users"].values()))
    # Stored as given, read back as given.
    result = await call(
        client,
        "modify_user_address",
        user_id=user["user_id"],
        address1=SQL,
        address2="",
        city="Austin",
        state="TX",
        country="USA",
        zip="78701",
    )
    assert result["address"]["address1"] == SQL


async def test_huge_free_text_is_refused_before_it_reaches_the_database(client: Client, db: Database) -> None:
    before = await snapshot(db)
    text = await refused(client, "transfer_to_human_agents", summary=HUGE)
    assert "`summary`" in text and "at most 4000" in text
    assert await snapshot(db) == before


async def test_unknown_tool_is_an_error(client: Client) -> None:
    result = await client.call_tool("refund_everything", {})
    assert result.is_error
