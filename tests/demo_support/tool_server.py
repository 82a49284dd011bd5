"""A small MCP server for the demo client's tests: tools that are fast, slow, broken or destructive."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import AudioContent, ContentBlock, ImageContent, TextContent, ToolAnnotations

# A 1x1 transparent PNG.
PIXEL_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


@dataclass
class Calls:
    names: list[str] = field(default_factory=list)
    both_started: asyncio.Event = field(default_factory=asyncio.Event)
    started: int = 0


def build_tool_server(calls: Calls) -> MCPServer:
    mcp = MCPServer("demo-tools")
    read_only = ToolAnnotations(read_only_hint=True)

    @mcp.tool(annotations=read_only)
    async def find_user_id_by_email(email: str) -> str:
        """Find a customer's user id by email."""
        calls.names.append("find_user_id_by_email")
        return "ava_smith_1001"

    @mcp.tool(annotations=read_only)
    async def get_order_details(order_id: str) -> str:
        """Get an order. Two calls in one turn wait for each other, so they only finish if they run together."""
        calls.names.append("get_order_details")
        calls.started += 1
        if calls.started >= 2:
            calls.both_started.set()
        await asyncio.wait_for(calls.both_started.wait(), timeout=5)
        return f"Order {order_id}: delivered"

    @mcp.tool(annotations=read_only)
    async def search_orders(user_id: str, status: str | None = None) -> str:
        """Search orders (has an optional argument, so it cannot be strict)."""
        return "no orders"

    @mcp.tool(annotations=read_only)
    async def track_parcel(tracking_id: str) -> str:
        """Never answers: the carrier system hangs."""
        calls.names.append("track_parcel")
        await asyncio.Event().wait()
        return "unreachable"

    @mcp.tool(annotations=read_only)
    async def get_product_details(product_id: str) -> str:
        """Always refuses, as a tool error."""
        calls.names.append("get_product_details")
        raise ToolError(f"Product {product_id} was not found. Next step: check the id.")

    @mcp.tool(annotations=read_only)
    async def get_product_photo(product_id: str) -> list[ContentBlock]:
        """A caption, a photo, and a sound clip the Claude API cannot take."""
        calls.names.append("get_product_photo")
        return [
            TextContent(type="text", text=f"Product {product_id}:"),
            ImageContent(type="image", data=PIXEL_PNG, mime_type="image/png"),
            AudioContent(type="audio", data="UklGRg==", mime_type="audio/wav"),
        ]

    @mcp.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True))
    async def cancel_pending_order(order_id: str, reason: str) -> str:
        """Cancel an order (destructive)."""
        calls.names.append("cancel_pending_order")
        return f"Order {order_id} cancelled"

    return mcp
