"""MCP tool handlers, one module per area, each tool declared once beside its handler (declare.py). Each
handler validates, asks `policy`, calls a repository, and shapes the answer; none holds SQL or business rules."""

from __future__ import annotations

from ..shop import Shop
from ..surface.mcp_server import ShopServer
from . import audit, calculator, customers, order_changes, orders, products, tickets
from .declare import DECLARED, ToolSpec

# The areas in the order their tools are listed.
AREAS = (customers, orders, order_changes, products, tickets, calculator, audit)

TOOLS: tuple[ToolSpec, ...] = tuple(
    spec for area in AREAS for spec in DECLARED.values() if spec.module == area.__name__
)


def register_all(server: ShopServer, shop: Shop, enabled: frozenset[str]) -> None:
    """Register the enabled tools: one that is off is not registered at all."""
    for spec in TOOLS:
        if spec.name in enabled:
            spec.register(server, shop)
