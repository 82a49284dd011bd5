"""cancel_pending_order: only pending orders, only the two reasons, refunds as the policy says."""

from typing import Any

from mcp import Client
from shop_support import call, find_order, gift_cards, refused, snapshot

from shopdesk.storage.sqlite import Database


def gift_card_balance(state: dict[str, Any], user_id: str, method_id: str) -> float:
    return state["users"][user_id]["payment_methods"][method_id]["balance"]


async def test_cancel_refunds_a_gift_card_at_once(client: Client, db: Database, tau2_data: dict[str, Any]) -> None:
    order = find_order(tau2_data, "pending", "gift_card")
    paid = order["payment_history"][0]
    before = gift_card_balance(tau2_data, order["user_id"], paid["payment_method_id"])

    result = await call(client, "cancel_pending_order", order_id=order["order_id"], reason="ordered by mistake")

    assert result["status"] == "cancelled"
    assert result["cancel_reason"] == "ordered by mistake"
    assert result["payment_history"][-1] == {**paid, "transaction_type": "refund"}
    after = gift_card_balance(await snapshot(db), order["user_id"], paid["payment_method_id"])
    assert round(after - before, 2) == paid["amount"]


async def test_cancel_paid_by_card_records_refund_without_touching_balances(
    client: Client, db: Database, tau2_data: dict[str, Any]
) -> None:
    order = find_order(tau2_data, "pending", "credit_card")
    before = await snapshot(db)

    result = await call(client, "cancel_pending_order", order_id=order["order_id"], reason="no longer needed")

    after = await snapshot(db)
    assert result["payment_history"] == [
        *order["payment_history"],
        {**order["payment_history"][0], "transaction_type": "refund"},
    ]
    assert after["users"] == before["users"]


async def test_delivered_order_cannot_be_cancelled_and_error_points_to_returns(
    client: Client, db: Database, tau2_data: dict[str, Any]
) -> None:
    order = find_order(tau2_data, "delivered")
    before = await snapshot(db)

    text = await refused(client, "cancel_pending_order", order_id=order["order_id"], reason="no longer needed")

    assert "'delivered'" in text and "return_delivered_order_items" in text
    assert await snapshot(db) == before


async def test_processed_order_cannot_be_cancelled(client: Client, tau2_data: dict[str, Any]) -> None:
    order = find_order(tau2_data, "processed")
    text = await refused(client, "cancel_pending_order", order_id=order["order_id"], reason="no longer needed")
    assert "'processed'" in text


async def test_reason_outside_the_two_accepted_is_refused(
    client: Client, db: Database, tau2_data: dict[str, Any]
) -> None:
    order = find_order(tau2_data, "pending")
    before = await snapshot(db)
    text = await refused(client, "cancel_pending_order", order_id=order["order_id"], reason="found it cheaper")
    assert "reason" in text and "no longer needed" in text
    assert await snapshot(db) == before


async def test_cancelling_twice_refunds_once(client: Client, db: Database, tau2_data: dict[str, Any]) -> None:
    order = find_order(tau2_data, "pending", "gift_card")
    await call(client, "cancel_pending_order", order_id=order["order_id"], reason="no longer needed")
    once = await snapshot(db)

    text = await refused(client, "cancel_pending_order", order_id=order["order_id"], reason="no longer needed")

    assert "already cancelled" in text
    assert await snapshot(db) == once


async def test_unknown_order_is_not_found(client: Client) -> None:
    text = await refused(client, "cancel_pending_order", order_id="#W0000001", reason="no longer needed")
    assert "not found" in text and "#W0000000" in text


async def test_cancel_after_payment_change_refunds_what_each_method_holds(
    client: Client, db: Database, tau2_data: dict[str, Any]
) -> None:
    # τ² would refund the first method twice here; the shop refunds only what the second method paid.
    order = find_order(
        tau2_data, "pending", "credit_card", where=lambda o, u: bool(gift_cards(u, o["payment_history"][0]["amount"]))
    )
    gift = gift_cards(tau2_data["users"][order["user_id"]], order["payment_history"][0]["amount"])[0]
    await call(client, "modify_pending_order_payment", order_id=order["order_id"], payment_method_id=gift["id"])

    result = await call(client, "cancel_pending_order", order_id=order["order_id"], reason="no longer needed")

    amount = order["payment_history"][0]["amount"]
    assert result["payment_history"][-1] == {
        "transaction_type": "refund",
        "amount": amount,
        "payment_method_id": gift["id"],
    }
    assert len(result["payment_history"]) == 4
    # Charged, then refunded in full: the gift card is back where it started.
    assert gift_card_balance(await snapshot(db), order["user_id"], gift["id"]) == gift["balance"]


async def test_concurrent_cancels_refund_once(client: Client, db: Database, tau2_data: dict[str, Any]) -> None:
    import asyncio

    order = find_order(tau2_data, "pending", "gift_card")
    paid = order["payment_history"][0]
    before = gift_card_balance(tau2_data, order["user_id"], paid["payment_method_id"])
    args = {"order_id": order["order_id"], "reason": "no longer needed"}

    results = await asyncio.gather(*(client.call_tool("cancel_pending_order", args) for _ in range(5)))

    assert sorted(r.is_error for r in results) == [False, True, True, True, True]
    after = await snapshot(db)
    assert round(gift_card_balance(after, order["user_id"], paid["payment_method_id"]) - before, 2) == paid["amount"]
    assert [p["transaction_type"] for p in after["orders"][order["order_id"]]["payment_history"]] == [
        "payment",
        "refund",
    ]
