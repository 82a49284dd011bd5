"""Tools to read orders: one order's details, and searches. (Changing them: order_changes.py.)"""

from __future__ import annotations

from typing import Annotated

from mcp.types import CallToolResult
from pydantic import Field

from ..access.caller import Binding
from ..domain import not_found
from ..domain.models import Order, OrderPage
from ..domain.statuses import OrderStatus
from ..shop import Shop
from ..storage.repositories import orders as repo
from ..storage.repositories.rows import Connection
from ..surface import apps as apps_ui
from ..text import render
from .arguments import Cursor, IsoDate, ItemId, OrderId, PageSize, ProductId, UserId
from .cursors import decode_cursor, encode_cursor
from .declare import tool
from .results import lookup, present


async def load_order(conn: Connection, order_id: str) -> Order:
    order = await repo.get(conn, order_id)
    if order is None:
        raise not_found.order(order_id)
    return order


@tool(
    lookup("Get an order"),
    toolset="orders",
    scope="orders:read",
    binding=Binding(ids={"order_id": "order"}),
    view=apps_ui.ORDER_VIEW,
)
async def get_order_details(shop: Shop, order_id: OrderId) -> Annotated[CallToolResult, Order]:
    """Get an order: status, items (ids, options, prices), address, shipments with tracking ids and
    payments. Only 'pending' orders can be cancelled or modified; only 'delivered' ones returned or
    exchanged."""
    order = await load_order(shop.db.read, order_id)
    return present(order, render.order(order))


@tool(
    lookup("Search orders"),
    toolset="orders",
    scope="orders:read",
    binding=Binding(ids={"user_id": "customer"}, fills="user_id"),
)
async def search_orders(
    shop: Shop,
    user_id: Annotated[UserId | None, Field(description="Only this customer's orders.")] = None,
    status: Annotated[OrderStatus | None, Field(description="Only orders with this status.")] = None,
    placed_from: Annotated[IsoDate, Field(description="Placed at or after this time (ISO 8601).")] = None,
    placed_to: Annotated[IsoDate, Field(description="Placed before this time (ISO 8601).")] = None,
    product_id: Annotated[ProductId | None, Field(description="Only orders containing this product.")] = None,
    item_id: Annotated[ItemId | None, Field(description="Only orders containing this exact item.")] = None,
    cursor: Cursor = None,
    limit: PageSize = 20,
) -> Annotated[CallToolResult, OrderPage]:
    """Search orders, newest first, by customer, status, dates, product or item; a page of summaries and
    a cursor."""
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
