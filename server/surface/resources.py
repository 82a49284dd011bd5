"""MCP resources: the shop's policy as a document, and one order, customer or ticket by URI.

A resource is what a person or a client attaches to a conversation by choice ("@ this order"),
where a tool is what the model calls. The record resources return exactly the structured data of
the matching read tool, as JSON:

    shopdesk://policy                  the rules the server enforces, in words (Markdown)
    shopdesk://orders/{order_id}       as get_order_details; the id without its '#': W2611340
    shopdesk://customers/{user_id}     as get_user_details
    shopdesk://tickets/{ticket_id}     as get_ticket
    shopdesk://exports/orders.csv{?status,user_id,placed_from,placed_to}
                                       the matching orders as CSV, with progress notifications

A record's resource exists when its read tool is on (see tools/toolsets.py). Scopes and customer
binding apply to reads as they do to the tools (access.AccessGate); ids complete as typed
(completions.py).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection
from typing import Any, TypeVar, get_args

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS
from pydantic import BaseModel

from ..access.caller import current_caller
from ..domain import not_found
from ..domain.errors import MESSAGE_BUDGET, ShopError, excerpt
from ..domain.resource_uris import (
    CUSTOMER_TEMPLATE,
    EXPORT_TEMPLATE,
    ORDER_TEMPLATE,
    POLICY_URI,
    TICKET_TEMPLATE,
    order_id_from_uri,
)
from ..domain.rules_text import POLICY
from ..domain.statuses import OrderStatus
from ..shop import Shop
from ..storage.repositories import customers, orders, tickets
from .mcp_server import ShopServer

EXPORT_LIMIT = 50_000  # orders in one export: about 5 MB of CSV
EXPORT_BATCH = 1_000
EXPORT_COLUMNS = ("order_id", "user_id", "customer_name", "status", "placed_at", "item_count", "total", "item_names")

# Each record template: the read tool it mirrors (it exists when that tool is on).
TEMPLATE_TOOLS = {
    ORDER_TEMPLATE: "get_order_details",
    CUSTOMER_TEMPLATE: "get_user_details",
    TICKET_TEMPLATE: "get_ticket",
}


T = TypeVar("T")


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

    if "search_orders" in enabled:

        @server.resource(
            EXPORT_TEMPLATE,
            name="orders_export",
            title="Orders as CSV",
            description=f"The orders matching the filters, newest first, as CSV (at most {EXPORT_LIMIT:,}); "
            "status, user_id, placed_from and placed_to as in search_orders.",
            mime_type="text/csv",
        )
        async def orders_export(
            ctx: Context,
            status: str | None = None,
            user_id: str | None = None,
            placed_from: str | None = None,
            placed_to: str | None = None,
        ) -> str:
            return await export_orders(shop, ctx, status, user_id, placed_from, placed_to)


_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2})?)?$")


async def export_orders(
    shop: Shop, ctx: Context, status: str | None, user_id: str | None, placed_from: str | None, placed_to: str | None
) -> str:
    """The CSV of the matching orders, read in keyset batches, reporting progress after each batch."""
    if status is not None and status not in get_args(OrderStatus):
        raise _bad_request(f"status must be one of {', '.join(get_args(OrderStatus))}.")
    for name, value in (("placed_from", placed_from), ("placed_to", placed_to)):
        if value is not None and not _DATE.match(value):
            raise _bad_request(f"{name} must be an ISO 8601 date or date-time, e.g. 2026-05-01.")
    caller = current_caller()
    if caller is not None and caller.customer is not None:
        user_id = caller.customer  # a customer-bound session exports its own orders only
    filters: dict[str, Any] = {"user_id": user_id, "status": status, "placed_from": placed_from, "placed_to": placed_to}
    total = await orders.count(shop.db.read, **filters)
    if total > EXPORT_LIMIT:
        raise _bad_request(
            f"{total:,} orders match, and an export holds at most {EXPORT_LIMIT:,}. "
            "Narrow it with status, user_id, placed_from or placed_to."
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    done, after = 0, None
    await ctx.report_progress(0, total, "counted the orders")
    while True:
        rows, after = await orders.search(
            shop.db.read, **filters, product_id=None, item_id=None, after=after, limit=EXPORT_BATCH
        )
        for row in rows:
            data = row.model_dump()
            writer.writerow([*(data[c] for c in EXPORT_COLUMNS[:-1]), "; ".join(data["item_names"])])
        done += len(rows)
        await ctx.report_progress(done, total, f"{done:,} of {total:,} orders")
        if after is None:
            return out.getvalue()


def _bad_request(message: str) -> MCPError:
    """A request the client must change: invalid params, as a missing record is (not an internal error)."""
    return MCPError(code=INVALID_PARAMS, message=message)


def _found(record: T | None, missing: ShopError) -> T:
    if record is None:
        raise ResourceNotFoundError(str(missing))
    return record


class ShortResourceErrors:
    """Server middleware: a resource request's error echoes its URI at most MESSAGE_BUDGET characters long,
    escaped. The SDK's own errors carry the whole URI, in the message ("Unknown resource: ...") and in
    `data.uri`, so a 100 KB URI came back whole."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if not ctx.method.startswith("resources/"):
            return await call_next(ctx)
        try:
            return await call_next(ctx)
        except MCPError as error:
            data = error.error.data
            if isinstance(data, dict) and "uri" in data:
                data = {**data, "uri": excerpt(data["uri"], MESSAGE_BUDGET)}
            raise MCPError(
                code=error.error.code, message=excerpt(error.error.message, MESSAGE_BUDGET), data=data
            ) from error
