"""Tools to read orders and to cancel, modify, return or exchange them under the shop's policy."""

from __future__ import annotations

from typing import Annotated

import aiosqlite
from mcp.types import CallToolResult
from pydantic import Field

from .. import not_found, policy, render
from ..mcp_server import ShopServer
from ..models import Address, Order, OrderItem, OrderPage
from ..money import Movement, format_money
from ..repositories import customers as customers_repo
from ..repositories import orders as repo
from ..repositories import products as products_repo
from ..shop import Shop
from ..statuses import CancelReason, OrderStatus
from ..writes import IdempotencyKey, Written, perform
from .arguments import (
    Address1,
    Address2,
    City,
    Country,
    Cursor,
    IsoDate,
    ItemId,
    ItemIds,
    NewItemIds,
    OrderId,
    PageSize,
    PaymentMethodId,
    ProductId,
    State,
    UserId,
    Zip,
)
from .cursors import decode_cursor, encode_cursor
from .results import change, lookup, present


async def _order(conn: aiosqlite.Connection, order_id: str) -> Order:
    order = await repo.get(conn, order_id)
    if order is None:
        raise not_found.order(order_id)
    return order


async def _method(conn: aiosqlite.Connection, order: Order, method_id: str) -> policy.PaymentMethod:
    """One of the order's customer's own payment methods."""
    found = await customers_repo.payment_method(conn, method_id)
    return policy.ensure_customers_method(order.user_id, method_id, found)


async def _settle(conn: aiosqlite.Connection, order: Order, movements: list[Movement]) -> None:
    """Record payments and refunds on the order; gift card balances move at once."""
    await repo.append_payments(conn, order.order_id, movements)
    await customers_repo.adjust_gift_card_balances(conn, movements)


def register(server: ShopServer, shop: Shop) -> None:
    @server.tool(annotations=lookup("Get an order"))
    async def get_order_details(order_id: OrderId) -> Annotated[CallToolResult, Order]:
        """Get an order's status, items (with item and product ids, options, prices), shipping address,
        shipments with tracking ids, and payment history.

        Check the status here before any change: only 'pending' orders can be cancelled or modified,
        only 'delivered' ones returned or exchanged.
        """
        order = await _order(shop.db.read, order_id)
        return present(order, render.order(order))

    @server.tool(annotations=lookup("Search orders"))
    async def search_orders(
        user_id: Annotated[UserId | None, Field(description="Only this customer's orders.")] = None,
        status: Annotated[OrderStatus | None, Field(description="Only orders with this status.")] = None,
        placed_from: Annotated[IsoDate, Field(description="Placed at or after this date/time (ISO 8601).")] = None,
        placed_to: Annotated[IsoDate, Field(description="Placed before this date/time (ISO 8601).")] = None,
        product_id: Annotated[ProductId | None, Field(description="Only orders containing this product.")] = None,
        item_id: Annotated[ItemId | None, Field(description="Only orders containing this exact item.")] = None,
        cursor: Cursor = None,
        limit: PageSize = 20,
    ) -> Annotated[CallToolResult, OrderPage]:
        """Search orders, newest first, by customer, status, date range, product or item; all given filters
        must match. Returns summaries (id, customer, status, date, item names, total), 'limit' per page,
        with a cursor for the next page. Use get_order_details for one order's full details.
        """
        rows, last = await repo.search(
            shop.db.read,
            user_id=user_id,
            status=status,
            placed_from=placed_from,
            placed_to=placed_to,
            product_id=product_id,
            item_id=item_id,
            after=decode_cursor("o", cursor, (str, int)),
            limit=limit,
        )
        page = OrderPage(orders=rows, next_cursor=encode_cursor("o", last))
        return present(page, render.order_page(page))

    @server.tool(annotations=change("Cancel a pending order"))
    async def cancel_pending_order(
        order_id: OrderId,
        reason: Annotated[CancelReason, Field(description="Why the customer cancels, exactly one of these two.")],
        idempotency_key: IdempotencyKey = None,
    ) -> Annotated[CallToolResult, Order]:
        """Cancel a 'pending' order and refund it. Only pending orders can be cancelled (not processed,
        delivered, or item-modified ones); the reason must be 'no longer needed' or 'ordered by mistake'.

        Explain the cancellation to the customer and get an explicit yes first. Refunds to a gift card
        are immediate; other methods get theirs in 5 to 7 business days. Returns the cancelled order.
        """

        async def cancel(conn: aiosqlite.Connection) -> Written:
            order = await _order(conn, order_id)
            policy.ensure_cancellable(order)
            refunds = policy.cancellation_refunds(order)
            for refund in refunds:
                await _method(conn, order, refund.method_id)
            await _settle(conn, order, refunds)
            await repo.mark_cancelled(conn, order, reason)
            order = await _order(conn, order_id)
            refunded = "; ".join(f"{format_money(r.cents)} to {r.method_id}" for r in refunds) or "nothing"
            details = {"reason": reason, "refunds": [(r.method_id, r.cents) for r in refunds]}
            text = f"Cancelled. Refunded {refunded}.\n{render.order(order)}"
            return Written(order, text, order_id, order.user_id, details)

        arguments = {"order_id": order_id, "reason": reason}
        return await perform(shop, "cancel_pending_order", arguments, idempotency_key, cancel)

    @server.tool(annotations=change("Change a pending order's shipping address"))
    async def modify_pending_order_address(
        order_id: OrderId,
        address1: Address1,
        address2: Address2,
        city: City,
        state: State,
        country: Country,
        zip: Zip,
        idempotency_key: IdempotencyKey = None,
    ) -> Annotated[CallToolResult, Order]:
        """Change the shipping address of a pending order.

        Read the new address back to the customer and get an explicit yes first. Returns the order.
        """
        address = Address(address1=address1, address2=address2, city=city, state=state, country=country, zip=zip)

        async def readdress(conn: aiosqlite.Connection) -> Written:
            order = await _order(conn, order_id)
            policy.ensure_address_modifiable(order)
            if not policy.address_changes(order.address, address):
                return Written(order, render.order(order), order_id, order.user_id, changed=False)
            await repo.set_address(conn, order, address)
            details = {"from": order.address.model_dump(), "to": address.model_dump()}
            order = await _order(conn, order_id)
            return Written(order, render.order(order), order_id, order.user_id, details)

        arguments = {"order_id": order_id, **address.model_dump()}
        return await perform(shop, "modify_pending_order_address", arguments, idempotency_key, readdress)

    @server.tool(annotations=change("Change a pending order's payment method"))
    async def modify_pending_order_payment(
        order_id: OrderId, payment_method_id: PaymentMethodId, idempotency_key: IdempotencyKey = None
    ) -> Annotated[CallToolResult, Order]:
        """Pay a pending order with another of the customer's payment methods: the new method is charged the
        order amount and the old one refunded (gift cards at once, others in 5 to 7 business days).

        Possible once per order, not after its items were modified; a gift card must cover the whole
        amount. Get an explicit yes from the customer first. Returns the order.
        """

        async def repay(conn: aiosqlite.Connection) -> Written:
            order = await _order(conn, order_id)
            method = await _method(conn, order, payment_method_id)
            charge, refund = policy.payment_change(order, method)
            await _settle(conn, order, [charge, refund])
            details = {"from": refund.method_id, "to": charge.method_id, "amount_cents": charge.cents}
            order = await _order(conn, order_id)
            return Written(order, render.order(order), order_id, order.user_id, details)

        arguments = {"order_id": order_id, "payment_method_id": payment_method_id}
        return await perform(shop, "modify_pending_order_payment", arguments, idempotency_key, repay)

    @server.tool(annotations=change("Swap items of a pending order"))
    async def modify_pending_order_items(
        order_id: OrderId,
        item_ids: ItemIds,
        new_item_ids: NewItemIds,
        payment_method_id: PaymentMethodId,
        idempotency_key: IdempotencyKey = None,
    ) -> Annotated[CallToolResult, Order]:
        """Swap items of a pending order for other variants of the same product (e.g. another size or color).
        The price difference is charged to, or refunded to, payment_method_id (a gift card must cover it).

        This can be done only once per order and makes it 'pending (item modified)', after which it can no
        longer be cancelled or changed, so collect every item to swap first and get an explicit yes.
        Returns the order.
        """

        async def swap(conn: aiosqlite.Connection) -> Written:
            order = await _order(conn, order_id)
            policy.ensure_items_modifiable(order)
            catalogue = await products_repo.items(conn, new_item_ids)
            swaps, difference = policy.plan_swaps(order, item_ids, new_item_ids, catalogue, allow_same_item=False)
            method = await _method(conn, order, payment_method_id)
            await _settle(conn, order, [policy.price_difference(difference, method)])
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
            await repo.replace_items(conn, order, replacements)
            details = {
                "item_ids": item_ids,
                "new_item_ids": new_item_ids,
                "difference_cents": difference,
                "payment_method_id": payment_method_id,
            }
            order = await _order(conn, order_id)
            text = f"Items modified; price difference {format_money(difference)}.\n{render.order(order)}"
            return Written(order, text, order_id, order.user_id, details)

        arguments = {
            "order_id": order_id,
            "item_ids": item_ids,
            "new_item_ids": new_item_ids,
            "payment_method_id": payment_method_id,
        }
        return await perform(shop, "modify_pending_order_items", arguments, idempotency_key, swap)

    @server.tool(annotations=change("Request a return of delivered items"))
    async def return_delivered_order_items(
        order_id: OrderId, item_ids: ItemIds, payment_method_id: PaymentMethodId, idempotency_key: IdempotencyKey = None
    ) -> Annotated[CallToolResult, Order]:
        """Request the return of items of a delivered order; the order becomes 'return requested' and the
        customer gets an email on how to send the items back.

        The refund goes to the original payment method or to one of the customer's gift cards. Confirm the
        items and refund method with the customer and get an explicit yes first. Returns the order.
        """

        async def request_return(conn: aiosqlite.Connection) -> Written:
            order = await _order(conn, order_id)
            policy.ensure_delivered(order, "returned")
            method = await _method(conn, order, payment_method_id)
            policy.ensure_refund_destination(order, method)
            policy.ensure_items_in_order(order, item_ids)
            await repo.request_return(conn, order, item_ids, payment_method_id)
            details = {"item_ids": item_ids, "payment_method_id": payment_method_id}
            order = await _order(conn, order_id)
            return Written(order, render.order(order), order_id, order.user_id, details)

        arguments = {"order_id": order_id, "item_ids": item_ids, "payment_method_id": payment_method_id}
        return await perform(shop, "return_delivered_order_items", arguments, idempotency_key, request_return)

    @server.tool(annotations=change("Request an exchange of delivered items"))
    async def exchange_delivered_order_items(
        order_id: OrderId,
        item_ids: ItemIds,
        new_item_ids: NewItemIds,
        payment_method_id: PaymentMethodId,
        idempotency_key: IdempotencyKey = None,
    ) -> Annotated[CallToolResult, Order]:
        """Request an exchange of items of a delivered order for available variants of the same product; the
        order becomes 'exchange requested' and the customer gets an email on how to send the items back. The
        price difference is settled with payment_method_id (a gift card must cover it). No new order is needed.

        This can be done only once per order, so collect every item to exchange first and get an explicit yes.
        Returns the order.
        """

        async def request_exchange(conn: aiosqlite.Connection) -> Written:
            order = await _order(conn, order_id)
            policy.ensure_delivered(order, "exchanged")
            catalogue = await products_repo.items(conn, new_item_ids)
            _, difference = policy.plan_swaps(order, item_ids, new_item_ids, catalogue, allow_same_item=True)
            method = await _method(conn, order, payment_method_id)
            policy.ensure_gift_card_covers(method, difference)
            await repo.request_exchange(conn, order, item_ids, new_item_ids, payment_method_id, difference)
            details = {
                "item_ids": item_ids,
                "new_item_ids": new_item_ids,
                "difference_cents": difference,
                "payment_method_id": payment_method_id,
            }
            order = await _order(conn, order_id)
            return Written(order, render.order(order), order_id, order.user_id, details)

        arguments = {
            "order_id": order_id,
            "item_ids": item_ids,
            "new_item_ids": new_item_ids,
            "payment_method_id": payment_method_id,
        }
        return await perform(shop, "exchange_delivered_order_items", arguments, idempotency_key, request_exchange)
