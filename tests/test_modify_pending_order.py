"""Changing a pending order: shipping address, payment method (once), items (once, same product)."""

from typing import Any

from mcp import Client
from shop_support import call, find_order, gift_cards, refused, snapshot

from shopdesk.storage.sqlite import Database

NEW_ADDRESS = {
    "address1": "12 Harbour Street",
    "address2": "",
    "city": "Portland",
    "state": "ME",
    "country": "USA",
    "zip": "04101",
}


def swap_candidate(data: dict[str, Any], order: dict[str, Any], *, cheaper: bool | None = None) -> tuple[str, str]:
    """(old item id, new item id): an available other variant of the same product as an item of `order`."""
    for item in order["items"]:
        for variant in data["products"][item["product_id"]]["variants"].values():
            if variant["item_id"] == item["item_id"] or not variant["available"]:
                continue
            if cheaper is None or (variant["price"] < item["price"]) == cheaper:
                return item["item_id"], variant["item_id"]
    raise LookupError("no swap candidate")


async def test_address_of_pending_order_changes(client: Client, tau2_data: dict[str, Any]) -> None:
    order = find_order(tau2_data, "pending")
    result = await call(client, "modify_pending_order_address", order_id=order["order_id"], **NEW_ADDRESS)
    assert result["address"] == NEW_ADDRESS
    assert result["status"] == "pending"


async def test_address_of_delivered_order_is_refused(client: Client, db: Database, tau2_data: dict[str, Any]) -> None:
    order = find_order(tau2_data, "delivered")
    before = await snapshot(db)
    await refused(client, "modify_pending_order_address", order_id=order["order_id"], **NEW_ADDRESS)
    assert await snapshot(db) == before


async def test_payment_change_charges_new_method_and_refunds_old(
    client: Client, db: Database, tau2_data: dict[str, Any]
) -> None:
    order = find_order(
        tau2_data, "pending", "credit_card", where=lambda o, u: bool(gift_cards(u, o["payment_history"][0]["amount"]))
    )
    gift = gift_cards(tau2_data["users"][order["user_id"]], order["payment_history"][0]["amount"])[0]
    paid = order["payment_history"][0]

    result = await call(
        client, "modify_pending_order_payment", order_id=order["order_id"], payment_method_id=gift["id"]
    )

    assert result["payment_history"] == [
        paid,
        {"transaction_type": "payment", "amount": paid["amount"], "payment_method_id": gift["id"]},
        {"transaction_type": "refund", "amount": paid["amount"], "payment_method_id": paid["payment_method_id"]},
    ]
    state = await snapshot(db)
    balance = state["users"][order["user_id"]]["payment_methods"][gift["id"]]["balance"]
    assert balance == round(gift["balance"] - paid["amount"], 2)


async def test_payment_can_be_changed_only_once(client: Client, db: Database, tau2_data: dict[str, Any]) -> None:
    order = find_order(tau2_data, "pending", where=lambda o, u: len(u["payment_methods"]) >= 3)
    user = tau2_data["users"][order["user_id"]]
    others = [
        m
        for m in user["payment_methods"].values()
        if m["id"] != order["payment_history"][0]["payment_method_id"] and m["source"] != "gift_card"
    ]
    await call(client, "modify_pending_order_payment", order_id=order["order_id"], payment_method_id=others[0]["id"])
    once = await snapshot(db)
    text = await refused(
        client,
        "modify_pending_order_payment",
        order_id=order["order_id"],
        payment_method_id=order["payment_history"][0]["payment_method_id"],
    )
    assert "exactly one payment" in text
    assert await snapshot(db) == once


async def test_payment_change_to_same_method_is_refused(client: Client, tau2_data: dict[str, Any]) -> None:
    order = find_order(tau2_data, "pending")
    text = await refused(
        client,
        "modify_pending_order_payment",
        order_id=order["order_id"],
        payment_method_id=order["payment_history"][0]["payment_method_id"],
    )
    assert "already paid with" in text


async def test_gift_card_that_cannot_cover_the_order_is_refused(
    client: Client, db: Database, tau2_data: dict[str, Any]
) -> None:
    def poor_card(o: dict[str, Any], u: dict[str, Any]) -> bool:
        return any(m["balance"] < o["payment_history"][0]["amount"] for m in gift_cards(u)) and not o[
            "payment_history"
        ][0]["payment_method_id"].startswith("gift_card")

    order = find_order(tau2_data, "pending", where=poor_card)
    card = next(
        m
        for m in gift_cards(tau2_data["users"][order["user_id"]])
        if m["balance"] < order["payment_history"][0]["amount"]
    )
    before = await snapshot(db)
    text = await refused(
        client, "modify_pending_order_payment", order_id=order["order_id"], payment_method_id=card["id"]
    )
    assert "less than" in text
    assert await snapshot(db) == before


async def test_another_customers_payment_method_is_not_found(client: Client, tau2_data: dict[str, Any]) -> None:
    order = find_order(tau2_data, "pending")
    stranger = next(u for u in tau2_data["users"].values() if u["user_id"] != order["user_id"])
    text = await refused(
        client,
        "modify_pending_order_payment",
        order_id=order["order_id"],
        payment_method_id=next(iter(stranger["payment_methods"])),
    )
    assert "not found" in text


async def test_items_swap_to_a_cheaper_variant_and_gift_card_gets_the_difference(
    client: Client, db: Database, tau2_data: dict[str, Any]
) -> None:
    def cheaper_swap(o: dict[str, Any], u: dict[str, Any]) -> bool:
        try:
            return bool(swap_candidate(tau2_data, o, cheaper=True))
        except LookupError:
            return False

    order = find_order(tau2_data, "pending", "gift_card", where=cheaper_swap)
    old, new = swap_candidate(tau2_data, order, cheaper=True)
    old_price = next(i["price"] for i in order["items"] if i["item_id"] == old)
    variant = next(v for p in tau2_data["products"].values() for v in p["variants"].values() if v["item_id"] == new)
    method = order["payment_history"][0]["payment_method_id"]
    balance_before = tau2_data["users"][order["user_id"]]["payment_methods"][method]["balance"]
    difference = round(variant["price"] - old_price, 2)
    assert difference < 0

    result = await call(
        client,
        "modify_pending_order_items",
        order_id=order["order_id"],
        item_ids=[old],
        new_item_ids=[new],
        payment_method_id=method,
    )

    assert result["status"] == "pending (item modified)"
    swapped = next(i for i in result["items"] if i["item_id"] == new)
    assert swapped["price"] == variant["price"] and swapped["options"] == variant["options"]
    assert result["payment_history"][-1] == {
        "transaction_type": "refund",
        "amount": -difference,
        "payment_method_id": method,
    }
    state = await snapshot(db)
    assert state["users"][order["user_id"]]["payment_methods"][method]["balance"] == round(
        balance_before - difference, 2
    )


async def test_each_swapped_item_gets_its_own_price(client: Client, tau2_data: dict[str, Any]) -> None:
    # τ² gives every swapped item the last new item's price and options; the shop does not.
    def two_swaps(o: dict[str, Any], u: dict[str, Any]) -> bool:
        products = {i["product_id"] for i in o["items"]}
        return len(products) >= 2 and len(o["items"]) == len({i["item_id"] for i in o["items"]})

    order = find_order(tau2_data, "pending", "paypal", min_items=2, where=two_swaps)
    pairs = []
    for item in order["items"]:
        variants = tau2_data["products"][item["product_id"]]["variants"].values()
        new = next((v for v in variants if v["available"] and v["item_id"] != item["item_id"]), None)
        if new and all(item["product_id"] != p for p, _, _ in pairs):
            pairs.append((item["product_id"], item["item_id"], new))
    pairs = pairs[:2]

    result = await call(
        client,
        "modify_pending_order_items",
        order_id=order["order_id"],
        item_ids=[old for _, old, _ in pairs],
        new_item_ids=[new["item_id"] for _, _, new in pairs],
        payment_method_id=order["payment_history"][0]["payment_method_id"],
    )

    items = {i["item_id"]: i for i in result["items"]}
    for _, _, new in pairs:
        assert items[new["item_id"]]["price"] == new["price"]
        assert items[new["item_id"]]["options"] == new["options"]


async def test_items_can_be_modified_only_once_and_then_not_cancelled(
    client: Client, db: Database, tau2_data: dict[str, Any]
) -> None:
    order = find_order(tau2_data, "pending", "paypal")
    old, new = swap_candidate(tau2_data, order)
    method = order["payment_history"][0]["payment_method_id"]
    await call(
        client,
        "modify_pending_order_items",
        order_id=order["order_id"],
        item_ids=[old],
        new_item_ids=[new],
        payment_method_id=method,
    )
    once = await snapshot(db)

    again = await refused(
        client,
        "modify_pending_order_items",
        order_id=order["order_id"],
        item_ids=[new],
        new_item_ids=[old],
        payment_method_id=method,
    )
    cancel = await refused(client, "cancel_pending_order", order_id=order["order_id"], reason="no longer needed")

    assert "modified once" in again and "modified once" in cancel
    assert await snapshot(db) == once
    # As in τ², the shipping address of an item-modified order can still be changed.
    await call(client, "modify_pending_order_address", order_id=order["order_id"], **NEW_ADDRESS)


async def test_swap_to_another_product_is_refused(client: Client, db: Database, tau2_data: dict[str, Any]) -> None:
    order = find_order(tau2_data, "pending")
    item = order["items"][0]
    foreign = next(
        v["item_id"]
        for p in tau2_data["products"].values()
        if p["product_id"] != item["product_id"]
        for v in p["variants"].values()
        if v["available"]
    )
    before = await snapshot(db)
    text = await refused(
        client,
        "modify_pending_order_items",
        order_id=order["order_id"],
        item_ids=[item["item_id"]],
        new_item_ids=[foreign],
        payment_method_id=order["payment_history"][0]["payment_method_id"],
    )
    assert "same product" in text and item["product_id"] in text
    assert await snapshot(db) == before


async def test_swap_to_unavailable_variant_is_refused(client: Client, tau2_data: dict[str, Any]) -> None:
    def has_unavailable(o: dict[str, Any], u: dict[str, Any]) -> bool:
        return any(
            not v["available"] for i in o["items"] for v in tau2_data["products"][i["product_id"]]["variants"].values()
        )

    order = find_order(tau2_data, "pending", where=has_unavailable)
    item, variant = next(
        (i, v)
        for i in order["items"]
        for v in tau2_data["products"][i["product_id"]]["variants"].values()
        if not v["available"]
    )
    text = await refused(
        client,
        "modify_pending_order_items",
        order_id=order["order_id"],
        item_ids=[item["item_id"]],
        new_item_ids=[variant["item_id"]],
        payment_method_id=order["payment_history"][0]["payment_method_id"],
    )
    assert "not available" in text


async def test_swap_to_the_same_item_is_refused(client: Client, tau2_data: dict[str, Any]) -> None:
    order = find_order(tau2_data, "pending")
    item_id = order["items"][0]["item_id"]
    text = await refused(
        client,
        "modify_pending_order_items",
        order_id=order["order_id"],
        item_ids=[item_id],
        new_item_ids=[item_id],
        payment_method_id=order["payment_history"][0]["payment_method_id"],
    )
    assert "replaced by itself" in text


async def test_more_units_than_the_order_holds_are_refused(client: Client, tau2_data: dict[str, Any]) -> None:
    order = find_order(tau2_data, "pending")
    old, new = swap_candidate(tau2_data, order)
    count = sum(1 for i in order["items"] if i["item_id"] == old)
    text = await refused(
        client,
        "modify_pending_order_items",
        order_id=order["order_id"],
        item_ids=[old] * (count + 1),
        new_item_ids=[new] * (count + 1),
        payment_method_id=order["payment_history"][0]["payment_method_id"],
    )
    assert f"holds {count} of item {old}" in text


async def test_mismatched_list_lengths_are_refused(client: Client, tau2_data: dict[str, Any]) -> None:
    order = find_order(tau2_data, "pending")
    old, new = swap_candidate(tau2_data, order)
    text = await refused(
        client,
        "modify_pending_order_items",
        order_id=order["order_id"],
        item_ids=[old],
        new_item_ids=[new, new],
        payment_method_id=order["payment_history"][0]["payment_method_id"],
    )
    assert "1 item ids but 2 new item ids" in text
