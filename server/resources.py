"""MCP resources: the shop's policy as a document, and one order, customer or ticket by URI.

A resource is what a person or a client attaches to a conversation by choice ("@ this order"),
where a tool is what the model calls. The record resources return exactly the structured data of
the matching read tool, as JSON:

    shopdesk://policy                  the rules the server enforces, in words (Markdown)
    shopdesk://orders/{order_id}       as get_order_details; the id without its '#': W2611340
    shopdesk://customers/{user_id}     as get_user_details
    shopdesk://tickets/{ticket_id}     as get_ticket

A record's resource exists when its read tool is on (see toolsets.py). Scopes and customer
binding apply to reads as they do to the tools (access.AccessGate); ids complete as typed
(completions.py).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TypeVar

from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from pydantic import BaseModel

from . import not_found
from .errors import ShopError
from .mcp_server import ShopServer
from .repositories import customers, orders, tickets
from .shop import Shop

POLICY_URI = "shopdesk://policy"
ORDER_TEMPLATE = "shopdesk://orders/{order_id}"
CUSTOMER_TEMPLATE = "shopdesk://customers/{user_id}"
TICKET_TEMPLATE = "shopdesk://tickets/{ticket_id}"

# Each record template: the read tool it mirrors (it exists when that tool is on).
TEMPLATE_TOOLS = {
    ORDER_TEMPLATE: "get_order_details",
    CUSTOMER_TEMPLATE: "get_user_details",
    TICKET_TEMPLATE: "get_ticket",
}

POLICY = """\
# The shop's customer-service policy

shopdesk enforces every rule below on the server: a call that breaks one is refused with the
reason and what to do instead, and nothing is changed.

## Who you are helping
- Identify the customer before anything else: by email, or by first name, last name and zip
  code. Help that customer only, with their own orders, payment methods and tickets.
- Read before you act: the customer's profile, the order's details, the product's variants.

## Before any change
- Tell the customer exactly what will change (items, amounts, refund method, address) and get
  an explicit yes. Where the client supports it, the server asks the person itself as well.
- Collect everything first: items can be changed once per order, and an exchange can be
  requested once per order.

## Orders, by status
- **pending**: can be cancelled, or have its shipping address, payment method or items changed.
  - Cancelling needs a reason: "no longer needed" or "ordered by mistake". Everything paid is
    refunded to where it came from.
  - A new payment method is charged the order total and the old one is refunded. A gift card
    must hold enough to cover the total.
  - Items can be swapped only for other available variants of the same product, once; the
    order becomes "pending (item modified)" and can then no longer be cancelled or changed.
    The price difference is charged to, or refunded to, the payment method the customer picks.
- **processed**: no change is possible.
- **delivered**: items can be returned or exchanged, once.
  - A return is refunded to the original payment method or to one of the customer's gift cards.
  - An exchange is for available variants of the same product; the price difference is settled
    with a payment method of the customer's. No new order is needed.
  - The customer receives an email on how to send the items back.
- **cancelled**, **return requested**, **exchange requested**: no further change.

## Money
- Amounts are in dollars with two decimals.
- Refunds to a gift card arrive at once; to a card or PayPal within 5 to 7 business days.

## Handing over
- When the customer asks for a person, or a request is beyond these tools and rules, transfer
  them to a human agent with a summary, then tell them they are being transferred.
- Follow-up work is kept in support tickets; an escalated ticket goes to a human with the
  reason and a summary.
"""


T = TypeVar("T")


def order_id_from_uri(value: str) -> str:
    """The order id a URI names: 'W2611340' (the '#' cannot stand in a URI path) or '#W2611340' encoded."""
    return value if value.startswith("#") else "#" + value


def as_json(model: BaseModel) -> str:
    return model.model_dump_json()


def register(server: ShopServer, shop: Shop, enabled: Collection[str]) -> None:
    @server.resource(
        POLICY_URI,
        name="policy",
        title="Customer-service policy",
        description="The rules the server enforces: identifying the customer, what each order status allows, money.",
        mime_type="text/markdown",
    )
    def policy() -> str:
        return POLICY

    if "get_order_details" in enabled:

        @server.resource(
            ORDER_TEMPLATE,
            name="order",
            title="An order",
            description="One order as get_order_details returns it; the id without its '#', e.g. W2611340.",
            mime_type="application/json",
        )
        async def order(order_id: str) -> str:
            found = await orders.get(shop.db.read, order_id_from_uri(order_id))
            return as_json(_found(found, not_found.order(order_id_from_uri(order_id))))

    if "get_user_details" in enabled:

        @server.resource(
            CUSTOMER_TEMPLATE,
            name="customer",
            title="A customer",
            description="One customer's profile as get_user_details returns it.",
            mime_type="application/json",
        )
        async def customer(user_id: str) -> str:
            return as_json(_found(await customers.get(shop.db.read, user_id), not_found.customer(user_id)))

    if "get_ticket" in enabled:

        @server.resource(
            TICKET_TEMPLATE,
            name="ticket",
            title="A support ticket",
            description="One ticket with its thread, as get_ticket returns it.",
            mime_type="application/json",
        )
        async def ticket(ticket_id: str) -> str:
            return as_json(_found(await tickets.get(shop.db.read, ticket_id), not_found.ticket(ticket_id)))


def _found(record: T | None, missing: ShopError) -> T:
    if record is None:
        raise ResourceNotFoundError(str(missing))
    return record
