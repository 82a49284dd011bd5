"""build_server(settings): a fresh shopdesk MCP server, its tools registered, its database opened per lifespan."""

from __future__ import annotations

from . import __version__
from .mcp_server import ShopServer
from .settings import Settings
from .shop import Shop
from .tools import register_all

INSTRUCTIONS = """\
shopdesk runs a shop's customer service: customers, orders, products and support tickets.

How the tools fit together:
1. Identify the customer first, even if they give a user id: find_user_id_by_email, or
   find_user_id_by_name_zip when they cannot give their email. Help only that customer.
2. Read before acting: get_user_details (profile, payment methods, order ids), get_order_details
   (status, items, payments), get_product_details (variants to swap to), search_orders.
3. What each order status allows: 'pending' can be cancelled, or have its address, payment method or
   items changed (items once, and that is final); 'delivered' can be returned or exchanged (once);
   'processed', 'cancelled' and the requested states allow no change. The server enforces these
   rules and says what to do instead when it refuses.
4. Before any tool that changes data (cancel, modify, return, exchange, address changes), list the
   details to the person and get an explicit yes. Collect every item first: item changes and
   exchanges can be made only once per order.
5. Requests the tools and rules cannot handle: transfer_to_human_agents, then tell the customer
   they are being transferred. Use tickets (create_ticket, add_ticket_message, escalate_ticket)
   to record follow-up work.
Money is in dollars with two decimals; ids: orders '#W0000000', tickets 'TCK-000001'.
"""


def build_server(settings: Settings | None = None, *, shop: Shop | None = None) -> ShopServer:
    """A new server; pass `shop` to keep a handle on its database (tests do)."""
    shop = shop or Shop(settings or Settings())
    server = ShopServer(
        "shopdesk",
        lifespan=shop.lifespan,
        title="shopdesk",
        description="A shop's customer-service tools: customers, orders, returns, exchanges, support tickets.",
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level=shop.settings.log_level,
    )
    register_all(server, shop)
    return server
