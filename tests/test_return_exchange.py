"""Returns and exchanges of delivered orders."""

from typing import Any

from mcp import Client
from shop_support import call, find_order, gift_cards, refused, snapshot
from test_modify_pending_order import swap_candidate

from shopdesk.storage.sqlite import Database


async def test_return_to_original_method_marks_order_return_requested(
    client: Client, tau2_data: dict[str, Any]
) -> None:
    order = find_order(tau2_data, "delivered", min_items=2)
    items = sorted(i["item_id"] for i in order["items"][:2])[::-1]
    method = order["payment_history"][0]["payment_method_id"]

    result = await call(
        client, "return_delivered_order_items", order_id=order["order_id"], item_ids=items, payment_method_id=method
    )

    assert result["status"] == "return requested"
    assert result["return_items"] == sorted(items)
    assert result["return_payment_method_id"] == method
    assert result["payment_history"] == order["payment_history"]


async def test_return_refund_may_go_to_any_own_gift_card(client: Client, tau2_data: dict[str, Any]) -> None:
    order = find_order(tau2_data, "delivered", "credit_card", where=lambda o, u: bool(gift_cards(u)))
    card = gift_cards(tau2_data["users"][order["user_id"]])[0]
    result = await call(
        client,
        "return_delivered_order_items",
        order_id=order["order_id"],
        item_ids=[order["items"][0]["item_id"]],
        payment_method_id=card["id"],
    )
    assert result["return_payment_method_id"] == card["id"]


async def test_return_refund_to_another_card_or_paypal_is_refused(
    client: Client, db: Database, tau2_data: dict[str, Any]
) -> None:
    def other_non_gift(o: dict[str, Any], u: dict[str, Any]) -> bool:
        return any(
            m["source"] != "gift_card" and m["id"] != o["payment_history"][0]["payment_method_id"]
            for m in u["payment_methods"].values()
        )

    order = find_order(tau2_data, "delivered", where=other_non_gift)
    other = next(
        m
        for m in tau2_data["users"][order["user_id"]]["payment_methods"].values()
        if m["source"] != "gift_card" and m["id"] != order["payment_history"][0]["payment_method_id"]
    )
    before = await snapshot(db)
    text = await refused(
        client,
        "return_delivered_order_items",
        order_id=order["order_id"],
        item_ids=[order["items"][0]["item_id"]],
        payment_method_id=other["id"],
    )
    assert "original payment method" in text
    assert await snapshot(db) == before


async def test_pending_order_cannot_be_returned(client: Client, tau2_data: dict[str, Any]) -> None:
    order = find_order(tau2_data, "pending")
    text = await refused(
        client,
        "return_delivered_order_items",
        order_id=order["order_id"],
        item_ids=[order["items"][0]["item_id"]],
        payment_method_id=order["payment_history"][0]["payment_method_id"],
    )
    assert "'pending'" in text and "'delivered'" in text


async def test_return_of_item_not_in_order_is_refused(client: Client, tau2_data: dict[str, Any]) -> None:
    order = find_order(tau2_data, "delivered")
    text = await refused(
        client,
        "return_delivered_order_items",
        order_id=order["order_id"],
        item_ids=["1234567890"],
        payment_method_id=order["payment_history"][0]["payment_method_id"],
    )
    assert "holds 0 of item 1234567890" in text


async def test_exchange_records_items_and_price_difference_without_charging(
    client: Client, db: Database, tau2_data: dict[str, Any]
) -> None:
    order = find_order(tau2_data, "delivered", "paypal")
    old, new = swap_candidate(tau2_data, order)
    old_price = next(i["price"] for i in order["items"] if i["item_id"] == old)
    new_price = next(
        v["price"] for p in tau2_data["products"].values() for v in p["variants"].values() if v["item_id"] == new
    )
    before = await snapshot(db)

    result = await call(
        client,
        "exchange_delivered_order_items",
        order_id=order["order_id"],
        item_ids=[old],
        new_item_ids=[new],
        payment_method_id=order["payment_history"][0]["payment_method_id"],
    )

    assert result["status"] == "exchange requested"
    assert (result["exchange_items"], result["exchange_new_items"]) == ([old], [new])
    assert result["exchange_price_difference"] == round(new_price - old_price, 2)
    assert result["payment_history"] == order["payment_history"]
    assert (await snapshot(db))["users"] == before["users"]


async def test_exchange_happens_once(client: Client, tau2_data: dict[str, Any]) -> None:
    order = find_order(tau2_data, "delivered", "paypal")
    old, new = swap_candidate(tau2_data, order)
    args = dict(
        order_id=order["order_id"],
        item_ids=[old],
        new_item_ids=[new],
        payment_method_id=order["payment_history"][0]["payment_method_id"],
    )
    await call(client, "exchange_delivered_order_items", **args)
    text = await refused(client, "exchange_delivered_order_items", **args)
    assert "'exchange requested'" in text


async def test_exchange_paid_by_gift_card_that_cannot_cover_is_refused(
    client: Client, db: Database, tau2_data: dict[str, Any]
) -> None:
    def dearer_swap_and_poor_card(o: dict[str, Any], u: dict[str, Any]) -> bool:
        try:
            old, new = swap_candidate(tau2_data, o, cheaper=False)
        except LookupError:
            return False
        return any(m["balance"] < 0.01 for m in gift_cards(u))

    order = find_order(tau2_data, "delivered", where=dearer_swap_and_poor_card)
    old, new = swap_candidate(tau2_data, order, cheaper=False)
    card = next(m for m in gift_cards(tau2_data["users"][order["user_id"]]) if m["balance"] < 0.01)
    before = await snapshot(db)
    text = await refused(
        client,
        "exchange_delivered_order_items",
        order_id=order["order_id"],
        item_ids=[old],
        new_item_ids=[new],
        payment_method_id=card["id"],
    )
    assert "less than" in text
    assert await snapshot(db) == before
