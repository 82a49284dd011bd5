"""MCP tool handlers, one module per area. Each handler validates, asks `policy`, calls a repository, and
shapes the answer; none holds SQL or business rules."""

from __future__ import annotations

from ..shop import Shop
from ..surface.mcp_server import ShopServer
from . import audit, calculator, customers, order_changes, orders, products, tickets


def register_all(server: ShopServer, shop: Shop) -> None:
    for module in (customers, orders, order_changes, products, tickets, calculator, audit):
        module.register(server, shop)
