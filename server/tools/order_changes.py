"""Tools that change orders under the shop's policy: cancel, modify a pending order, return, exchange.

Each tool is declared as a planner: given its arguments, a plan that reads the order, checks the rules
and says in words what will change; the write path runs it in its transaction, after the person has
confirmed exactly those words (see tools/declare.py, writes/path.py and writes/confirm.py). The plans hold
no SQL and no rules of their own: they call `policy` and the repositories.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from ..access.caller import Binding, Caller
from ..domain import policy
from ..domain.models import Address, Order, OrderItem
from ..domain.money import Movement, format_money
from ..domain.statuses import CancelReason
from ..storage.repositories import customers as customers_repo
from ..storage.repositories import orders as repo
from ..storage.repositories import products as products_repo
from ..storage.repositories.rows import Connection
from ..text import previews, render
from ..writes.plans import Plan, Planner, Written
from .arguments import Address1, Address2, City, Country, ItemIds, NewItemIds, OrderId, PaymentMethodId, State, Zip
from .declare import confirmed_write
from .orders import load_order
from .results import change


async def _method(conn: Connection, order: Order, method_id: str) -> policy.PaymentMethod:
    """One of the order's customer's own payment methods."""
    found = await customers_repo.payment_method(conn, method_id)
    return policy.ensure_customers_method(order.user_id, method_id, found)


async def _settle(conn: Connection, order: Order, movements: list[Movement]) -> None:
    """Record payments and refunds on the order; gift card balances move at once."""
    await repo.append_payments(conn, order.order_id, movements)
    await customers_repo.adjust_gift_card_balances(conn, movements)


def _written(order: Order, details: Mapping[str, Any], text: str | None = None) -> Written:
    return Written(order, text or render.order(order), order.order_id, order.user_id, dict(details))


@confirmed_write(
    change("Cancel a pending order"),
    toolset="orders",
    scope="orders:write",
    output=Order,
    binding=Binding(ids={"order_id": "order"}),
)
def cancel_pending_order(
    order_id: OrderId, reason: Annotated[CancelReason, Field(description="Why the customer cancels.")]
) -> Planner:
    """Cancel a 'pending' order and refund it: to gift cards at once, to other methods in 5-7 business
    days."""

    async def plan(conn: Connection, caller: Caller) -> Plan:
        order = await load_order(conn, order_id)
        status = policy.ensure_cancellable(order)
        refunds = policy.cancellation_refunds(order)
        methods = [await _method(conn, order, refund.method_id) for refund in refunds]

        async def apply(conn: Connection) -> Written:
            await _settle(conn, order, refunds)
            await repo.mark_cancelled(conn, order, status, reason)
            done = await load_order(conn, order_id)
            refunded = "; ".join(f"{format_money(r.cents)} to {r.method_id}" for r in refunds) or "nothing"
            refunded_to = [{"payment_method_id": r.method_id, "amount_cents": r.cents} for r in refunds]
            details = {"reason": reason, "refunds": refunded_to}
            return _written(done, details, f"Cancelled. Refunded {refunded}.\n{render.order(done)}")

        return Plan(previews.cancel(order, reason, list(zip(refunds, methods, strict=True))), apply)

    return plan


@confirmed_write(
    change("Change a pending order's shipping address"),
    toolset="orders",
    scope="orders:write",
    output=Order,
    binding=Binding(ids={"order_id": "order"}),
)
def modify_pending_order_address(
    order_id: OrderId, address1: Address1, address2: Address2, city: City, state: State, country: Country, zip: Zip
) -> Planner:
    """Change a pending order's shipping address."""
    address = Address(address1=address1, address2=address2, city=city, state=state, country=country, zip=zip)

    async def plan(conn: Connection, caller: Caller) -> Plan:
        order = await load_order(conn, order_id)
        policy.ensure_address_modifiable(order)
        if not policy.address_changes(order.address, address):
            unchanged = Written(order, render.order(order), order_id, order.user_id, changed=False)

            async def nothing(_: Connection) -> Written:
                return unchanged

            return Plan("", nothing)  # the same address again: nothing to ask, nothing to write

        async def apply(conn: Connection) -> Written:
            await repo.set_address(conn, order, address)
            details = {"changed": policy.changed_fields(order.address, address)}
            return _written(await load_order(conn, order_id), details)

        return Plan(previews.order_address(order, address), apply)

    return plan


@confirmed_write(
    change("Change a pending order's payment method"),
    toolset="orders",
    scope="orders:write",
    output=Order,
    binding=Binding(ids={"order_id": "order", "payment_method_id": "payment_method"}),
)
def modify_pending_order_payment(order_id: OrderId, payment_method_id: PaymentMethodId) -> Planner:
    """Pay a pending order with another of the customer's payment methods, refunding the old one. Once
    per order, not after an item change; a gift card must cover the total."""

    async def plan(conn: Connection, caller: Caller) -> Plan:
        order = await load_order(conn, order_id)
        method = await _method(conn, order, payment_method_id)
        charge, refund = policy.payment_change(order, method)

        async def apply(conn: Connection) -> Written:
            await _settle(conn, order, [charge, refund])
            details = {
                "old_payment_method_id": refund.method_id,
                "payment_method_id": charge.method_id,
                "amount_cents": charge.cents,
            }
            return _written(await load_order(conn, order_id), details)

        return Plan(previews.payment(order, charge, method, refund.method_id), apply)

    return plan


@confirmed_write(
    change("Swap items of a pending order"),
    toolset="orders",
    scope="orders:write",
    output=Order,
    binding=Binding(ids={"order_id": "order", "payment_method_id": "payment_method"}),
)
def modify_pending_order_items(
    order_id: OrderId, item_ids: ItemIds, new_item_ids: NewItemIds, payment_method_id: PaymentMethodId
) -> Planner:
    """Swap items of a pending order for other variants of the same product, settling the difference
    with payment_method_id. Once per order; then the order can no longer change or be cancelled, so
    collect every item first."""
    method_id = payment_method_id

    async def plan(conn: Connection, caller: Caller) -> Plan:
        order = await load_order(conn, order_id)
        status = policy.ensure_items_modifiable(order)
        catalogue = await products_repo.items(conn, new_item_ids)
        swaps, difference = policy.plan_swaps(order, item_ids, new_item_ids, catalogue, allow_same_item=False)
        method = await _method(conn, order, method_id)
        settlement = policy.price_difference(difference, method)
        old = [order.items[s.position] for s in swaps]
        replacements = [
            (
                s.position,
                OrderItem(
                    name=order.items[s.position].name,
                    product_id=s.new_item.product_id,
                    item_id=s.new_item.item_id,
                    price=s.new_item.price,
                    options=s.new_item.options,
                ),
            )
            for s in swaps
        ]

        async def apply(conn: Connection) -> Written:
            await _settle(conn, order, [settlement])
            await repo.replace_items(conn, order, status, replacements)
            details = {
                "item_ids": list(item_ids),
                "new_item_ids": list(new_item_ids),
                "difference_cents": difference,
                "payment_method_id": method_id,
            }
            done = await load_order(conn, order_id)
            text = f"Items modified; price difference {format_money(difference)}.\n{render.order(done)}"
            return _written(done, details, text)

        words = previews.modify_items(order, old, [s.new_item for s in swaps], difference, method)
        return Plan(words, apply)

    return plan


@confirmed_write(
    change("Request a return of delivered items"),
    toolset="orders",
    scope="orders:write",
    output=Order,
    binding=Binding(ids={"order_id": "order", "payment_method_id": "payment_method"}),
)
def return_delivered_order_items(order_id: OrderId, item_ids: ItemIds, payment_method_id: PaymentMethodId) -> Planner:
    """Request a return of delivered items, refunded to the original payment method or a gift card; the
    customer is emailed how to send them back."""
    method_id = payment_method_id

    async def plan(conn: Connection, caller: Caller) -> Plan:
        order = await load_order(conn, order_id)
        status = policy.ensure_returnable(order)
        method = await _method(conn, order, method_id)
        policy.ensure_refund_destination(order, method)
        policy.ensure_items_in_order(order, item_ids)
        returned = policy.items_listed(order, item_ids)

        async def apply(conn: Connection) -> Written:
            await repo.request_return(conn, order, status, item_ids, method_id)
            details = {"item_ids": list(item_ids), "payment_method_id": method_id}
            return _written(await load_order(conn, order_id), details)

        return Plan(previews.return_items(order, returned, method), apply)

    return plan


@confirmed_write(
    change("Request an exchange of delivered items"),
    toolset="orders",
    scope="orders:write",
    output=Order,
    binding=Binding(ids={"order_id": "order", "payment_method_id": "payment_method"}),
)
def exchange_delivered_order_items(
    order_id: OrderId, item_ids: ItemIds, new_item_ids: NewItemIds, payment_method_id: PaymentMethodId
) -> Planner:
    """Request an exchange of delivered items for available variants of the same product, settling the
    difference with payment_method_id. Once per order: collect every item first."""
    method_id = payment_method_id

    async def plan(conn: Connection, caller: Caller) -> Plan:
        order = await load_order(conn, order_id)
        status = policy.ensure_exchangeable(order)
        catalogue = await products_repo.items(conn, new_item_ids)
        swaps, difference = policy.plan_swaps(order, item_ids, new_item_ids, catalogue, allow_same_item=True)
        method = await _method(conn, order, method_id)
        policy.ensure_gift_card_covers(method, difference)
        old = [order.items[s.position] for s in swaps]

        async def apply(conn: Connection) -> Written:
            await repo.request_exchange(conn, order, status, item_ids, new_item_ids, method_id, difference)
            details = {
                "item_ids": list(item_ids),
                "new_item_ids": list(new_item_ids),
                "difference_cents": difference,
                "payment_method_id": method_id,
            }
            return _written(await load_order(conn, order_id), details)

        return Plan(previews.exchange(order, old, [s.new_item for s in swaps], difference, method), apply)

    return plan
