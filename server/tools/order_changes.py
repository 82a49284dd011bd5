"""Tools that change orders under the shop's policy: cancel, modify a pending order, return, exchange.

Each is a plan (`_plan_*`: read the order, check the rules, say in words what will change) that the
write path runs in its transaction, after the person has confirmed exactly those words (see
writes.py and confirm.py). The plans hold no SQL and no rules of their own: they call `policy` and
the repositories.
"""

# No `from __future__ import annotations`: the resolvers named in the tools' signatures are local
# functions, which the SDK must see as objects.
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context, Resolve
from mcp.types import CallToolResult
from pydantic import Field

from ..domain import policy
from ..domain.models import Address, Order, OrderItem
from ..domain.money import Movement, format_money
from ..domain.statuses import CancelReason
from ..shop import Shop
from ..storage.repositories import customers as customers_repo
from ..storage.repositories import orders as repo
from ..storage.repositories import products as products_repo
from ..storage.repositories.rows import Connection
from ..surface.mcp_server import ShopServer
from ..text import previews, render
from ..writes.confirm import ConfirmationToken, Consent, Preview
from ..writes.path import IdempotencyKey, Plan, Write, Written, consent_resolver, perform_confirmed, preview_of
from .arguments import Address1, Address2, City, Country, ItemIds, NewItemIds, OrderId, PaymentMethodId, State, Zip
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


def _cancel(order_id: str, reason: str) -> Write:
    async def plan(conn: Connection) -> Plan:
        order = await load_order(conn, order_id)
        policy.ensure_cancellable(order)
        refunds = policy.cancellation_refunds(order)
        methods = [await _method(conn, order, refund.method_id) for refund in refunds]

        async def apply(conn: Connection) -> Written:
            await _settle(conn, order, refunds)
            await repo.mark_cancelled(conn, order, reason)
            done = await load_order(conn, order_id)
            refunded = "; ".join(f"{format_money(r.cents)} to {r.method_id}" for r in refunds) or "nothing"
            refunded_to = [{"payment_method_id": r.method_id, "amount_cents": r.cents} for r in refunds]
            details = {"reason": reason, "refunds": refunded_to}
            return _written(done, details, f"Cancelled. Refunded {refunded}.\n{render.order(done)}")

        return Plan(previews.cancel(order, reason, list(zip(refunds, methods, strict=True))), apply)

    return Write("cancel_pending_order", {"order_id": order_id, "reason": reason}, plan)


def _order_address(order_id: str, address: Address) -> Write:
    async def plan(conn: Connection) -> Plan:
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

    return Write("modify_pending_order_address", {"order_id": order_id, **address.model_dump()}, plan)


def _payment(order_id: str, payment_method_id: str) -> Write:
    async def plan(conn: Connection) -> Plan:
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

    return Write("modify_pending_order_payment", {"order_id": order_id, "payment_method_id": payment_method_id}, plan)


def _items(order_id: str, item_ids: Sequence[str], new_item_ids: Sequence[str], method_id: str) -> Write:
    async def plan(conn: Connection) -> Plan:
        order = await load_order(conn, order_id)
        policy.ensure_items_modifiable(order)
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
            await repo.replace_items(conn, order, replacements)
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

    return Write(
        "modify_pending_order_items",
        {
            "order_id": order_id,
            "item_ids": list(item_ids),
            "new_item_ids": list(new_item_ids),
            "payment_method_id": method_id,
        },
        plan,
    )


def _return(order_id: str, item_ids: Sequence[str], method_id: str) -> Write:
    async def plan(conn: Connection) -> Plan:
        order = await load_order(conn, order_id)
        policy.ensure_delivered(order, "returned")
        method = await _method(conn, order, method_id)
        policy.ensure_refund_destination(order, method)
        policy.ensure_items_in_order(order, item_ids)
        returned = policy.items_listed(order, item_ids)

        async def apply(conn: Connection) -> Written:
            await repo.request_return(conn, order, item_ids, method_id)
            details = {"item_ids": list(item_ids), "payment_method_id": method_id}
            return _written(await load_order(conn, order_id), details)

        return Plan(previews.return_items(order, returned, method), apply)

    return Write(
        "return_delivered_order_items",
        {"order_id": order_id, "item_ids": list(item_ids), "payment_method_id": method_id},
        plan,
    )


def _exchange(order_id: str, item_ids: Sequence[str], new_item_ids: Sequence[str], method_id: str) -> Write:
    async def plan(conn: Connection) -> Plan:
        order = await load_order(conn, order_id)
        policy.ensure_delivered(order, "exchanged")
        catalogue = await products_repo.items(conn, new_item_ids)
        swaps, difference = policy.plan_swaps(order, item_ids, new_item_ids, catalogue, allow_same_item=True)
        method = await _method(conn, order, method_id)
        policy.ensure_gift_card_covers(method, difference)
        old = [order.items[s.position] for s in swaps]

        async def apply(conn: Connection) -> Written:
            await repo.request_exchange(conn, order, item_ids, new_item_ids, method_id, difference)
            details = {
                "item_ids": list(item_ids),
                "new_item_ids": list(new_item_ids),
                "difference_cents": difference,
                "payment_method_id": method_id,
            }
            return _written(await load_order(conn, order_id), details)

        return Plan(previews.exchange(order, old, [s.new_item for s in swaps], difference, method), apply)

    return Write(
        "exchange_delivered_order_items",
        {
            "order_id": order_id,
            "item_ids": list(item_ids),
            "new_item_ids": list(new_item_ids),
            "payment_method_id": method_id,
        },
        plan,
    )


def register(server: ShopServer, shop: Shop) -> None:
    # --- cancel ---------------------------------------------------------------------------------

    async def preview_cancel(order_id: str, reason: str, ctx: Context, idempotency_key: str | None = None) -> Preview:
        return await preview_of(shop, _cancel(order_id, reason), idempotency_key, ctx)

    ask_cancel = consent_resolver(shop, preview_cancel)

    @server.tool(annotations=change("Cancel a pending order"))
    async def cancel_pending_order(
        order_id: OrderId,
        reason: Annotated[CancelReason, Field(description="Why the customer cancels.")],
        preview: Annotated[Preview, Resolve(preview_cancel)],
        consent: Annotated[ElicitationResult[Consent], Resolve(ask_cancel)],
        idempotency_key: IdempotencyKey = None,
        confirmation_token: ConfirmationToken = None,
    ) -> Annotated[CallToolResult, Order]:
        """Cancel a 'pending' order and refund it: to gift cards at once, to other methods in 5-7 business
        days."""
        return await perform_confirmed(
            shop, _cancel(order_id, reason), idempotency_key, preview, consent, confirmation_token
        )

    # --- a pending order's address ------------------------------------------------------------------

    async def preview_order_address(
        order_id: str,
        address1: str,
        address2: str,
        city: str,
        state: str,
        country: str,
        zip: str,
        ctx: Context,
        idempotency_key: str | None = None,
    ) -> Preview:
        address = Address(address1=address1, address2=address2, city=city, state=state, country=country, zip=zip)
        return await preview_of(shop, _order_address(order_id, address), idempotency_key, ctx)

    ask_order_address = consent_resolver(shop, preview_order_address)

    @server.tool(annotations=change("Change a pending order's shipping address"))
    async def modify_pending_order_address(
        order_id: OrderId,
        address1: Address1,
        address2: Address2,
        city: City,
        state: State,
        country: Country,
        zip: Zip,
        preview: Annotated[Preview, Resolve(preview_order_address)],
        consent: Annotated[ElicitationResult[Consent], Resolve(ask_order_address)],
        idempotency_key: IdempotencyKey = None,
        confirmation_token: ConfirmationToken = None,
    ) -> Annotated[CallToolResult, Order]:
        """Change a pending order's shipping address."""
        address = Address(address1=address1, address2=address2, city=city, state=state, country=country, zip=zip)
        return await perform_confirmed(
            shop, _order_address(order_id, address), idempotency_key, preview, consent, confirmation_token
        )

    # --- a pending order's payment method ------------------------------------------------------------

    async def preview_payment(
        order_id: str, payment_method_id: str, ctx: Context, idempotency_key: str | None = None
    ) -> Preview:
        return await preview_of(shop, _payment(order_id, payment_method_id), idempotency_key, ctx)

    ask_payment = consent_resolver(shop, preview_payment)

    @server.tool(annotations=change("Change a pending order's payment method"))
    async def modify_pending_order_payment(
        order_id: OrderId,
        payment_method_id: PaymentMethodId,
        preview: Annotated[Preview, Resolve(preview_payment)],
        consent: Annotated[ElicitationResult[Consent], Resolve(ask_payment)],
        idempotency_key: IdempotencyKey = None,
        confirmation_token: ConfirmationToken = None,
    ) -> Annotated[CallToolResult, Order]:
        """Pay a pending order with another of the customer's payment methods, refunding the old one. Once
        per order, not after an item change; a gift card must cover the total."""
        return await perform_confirmed(
            shop, _payment(order_id, payment_method_id), idempotency_key, preview, consent, confirmation_token
        )

    # --- a pending order's items ---------------------------------------------------------------------

    async def preview_items(
        order_id: str,
        item_ids: list[str],
        new_item_ids: list[str],
        payment_method_id: str,
        ctx: Context,
        idempotency_key: str | None = None,
    ) -> Preview:
        return await preview_of(shop, _items(order_id, item_ids, new_item_ids, payment_method_id), idempotency_key, ctx)

    ask_items = consent_resolver(shop, preview_items)

    @server.tool(annotations=change("Swap items of a pending order"))
    async def modify_pending_order_items(
        order_id: OrderId,
        item_ids: ItemIds,
        new_item_ids: NewItemIds,
        payment_method_id: PaymentMethodId,
        preview: Annotated[Preview, Resolve(preview_items)],
        consent: Annotated[ElicitationResult[Consent], Resolve(ask_items)],
        idempotency_key: IdempotencyKey = None,
        confirmation_token: ConfirmationToken = None,
    ) -> Annotated[CallToolResult, Order]:
        """Swap items of a pending order for other variants of the same product, settling the difference
        with payment_method_id. Once per order; then the order can no longer change or be cancelled, so
        collect every item first."""
        return await perform_confirmed(
            shop,
            _items(order_id, item_ids, new_item_ids, payment_method_id),
            idempotency_key,
            preview,
            consent,
            confirmation_token,
        )

    # --- return and exchange -------------------------------------------------------------------------

    async def preview_return(
        order_id: str, item_ids: list[str], payment_method_id: str, ctx: Context, idempotency_key: str | None = None
    ) -> Preview:
        return await preview_of(shop, _return(order_id, item_ids, payment_method_id), idempotency_key, ctx)

    ask_return = consent_resolver(shop, preview_return)

    @server.tool(annotations=change("Request a return of delivered items"))
    async def return_delivered_order_items(
        order_id: OrderId,
        item_ids: ItemIds,
        payment_method_id: PaymentMethodId,
        preview: Annotated[Preview, Resolve(preview_return)],
        consent: Annotated[ElicitationResult[Consent], Resolve(ask_return)],
        idempotency_key: IdempotencyKey = None,
        confirmation_token: ConfirmationToken = None,
    ) -> Annotated[CallToolResult, Order]:
        """Request a return of delivered items, refunded to the original payment method or a gift card; the
        customer is emailed how to send them back."""
        return await perform_confirmed(
            shop, _return(order_id, item_ids, payment_method_id), idempotency_key, preview, consent, confirmation_token
        )

    async def preview_exchange(
        order_id: str,
        item_ids: list[str],
        new_item_ids: list[str],
        payment_method_id: str,
        ctx: Context,
        idempotency_key: str | None = None,
    ) -> Preview:
        return await preview_of(
            shop, _exchange(order_id, item_ids, new_item_ids, payment_method_id), idempotency_key, ctx
        )

    ask_exchange = consent_resolver(shop, preview_exchange)

    @server.tool(annotations=change("Request an exchange of delivered items"))
    async def exchange_delivered_order_items(
        order_id: OrderId,
        item_ids: ItemIds,
        new_item_ids: NewItemIds,
        payment_method_id: PaymentMethodId,
        preview: Annotated[Preview, Resolve(preview_exchange)],
        consent: Annotated[ElicitationResult[Consent], Resolve(ask_exchange)],
        idempotency_key: IdempotencyKey = None,
        confirmation_token: ConfirmationToken = None,
    ) -> Annotated[CallToolResult, Order]:
        """Request an exchange of delivered items for available variants of the same product, settling the
        difference with payment_method_id. Once per order: collect every item first."""
        return await perform_confirmed(
            shop,
            _exchange(order_id, item_ids, new_item_ids, payment_method_id),
            idempotency_key,
            preview,
            consent,
            confirmation_token,
        )
