"""Swapping items: a pending order's items for other variants, or a delivered order's in an exchange."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..errors import NotFound, PolicyRefusal
from ..models import ItemDetails, Order, OrderItem
from ..money import Movement, to_cents
from ..statuses import TransactionType
from .orders import PaymentMethod, ensure_gift_card_covers

# --- swapping items (modify pending, exchange delivered) --------------------------------------


@dataclass(frozen=True)
class Swap:
    position: int  # index in order.items
    new_item: ItemDetails


def ensure_items_in_order(order: Order, item_ids: Sequence[str]) -> None:
    """Every id must be in the order at least as many times as it is listed."""
    in_order = Counter(item.item_id for item in order.items)
    for item_id, wanted in Counter(item_ids).items():
        if wanted > in_order[item_id]:
            raise NotFound(
                f"Order {order.order_id} holds {in_order[item_id]} of item {item_id}, not {wanted}.",
                "Check the item ids with get_order_details; list an item id once per unit.",
            )


def items_listed(order: Order, item_ids: Sequence[str]) -> list[OrderItem]:
    """The order's items the ids name, one per listed id (the ids are known to be in the order)."""
    taken: set[int] = set()
    listed = []
    for item_id in item_ids:
        position = next(i for i, item in enumerate(order.items) if item.item_id == item_id and i not in taken)
        taken.add(position)
        listed.append(order.items[position])
    return listed


def plan_swaps(
    order: Order,
    item_ids: Sequence[str],
    new_item_ids: Sequence[str],
    catalogue: Mapping[str, ItemDetails],
    *,
    allow_same_item: bool,
) -> tuple[list[Swap], int]:
    """Pair each listed item with its replacement; return the swaps and the price difference in cents.

    `catalogue` maps the new item ids that exist to their details. A new item must
    be another available variant of the same product as the item it replaces.
    """
    ensure_items_in_order(order, item_ids)
    if len(item_ids) != len(new_item_ids):
        raise PolicyRefusal(
            f"{len(item_ids)} item ids but {len(new_item_ids)} new item ids were given.",
            "Pass one new item id for each item id, in the same positions.",
        )
    taken: set[int] = set()
    swaps: list[Swap] = []
    difference = 0
    for item_id, new_item_id in zip(item_ids, new_item_ids, strict=True):
        if item_id == new_item_id and not allow_same_item:
            raise PolicyRefusal(
                f"Item {item_id} would be replaced by itself.",
                "Pick a different variant of the same product (get_product_details lists them).",
            )
        position = next(i for i, item in enumerate(order.items) if item.item_id == item_id and i not in taken)
        taken.add(position)
        old: OrderItem = order.items[position]
        new = catalogue.get(new_item_id)
        if new is None or new.product_id != old.product_id:
            raise NotFound(
                f"Item {new_item_id} is not a variant of {old.name} (product {old.product_id}).",
                f"Only another variant of the same product can replace it: call get_product_details "
                f"with product_id {old.product_id} and pick an available item id.",
            )
        if not new.available:
            raise PolicyRefusal(
                f"Item {new_item_id} ({old.name}) is not available.",
                f"Offer the customer an available variant: call get_product_details with product_id {old.product_id}.",
            )
        swaps.append(Swap(position, new))
        difference += to_cents(new.price) - to_cents(old.price)
    return swaps, difference


def price_difference(difference_cents: int, method: PaymentMethod) -> Movement:
    """Settle a price difference with `method`: charge what the new items cost more, refund what they cost less.

    As in τ², the entry is recorded even when the difference is nil.
    """
    ensure_gift_card_covers(method, difference_cents)
    kind: TransactionType = "payment" if difference_cents > 0 else "refund"
    return Movement(kind, abs(difference_cents), method.id)
