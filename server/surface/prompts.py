"""MCP prompts: the common jobs of a support desk, as a first message a person picks from a menu.

Each prompt tells the model which tools to use, in order, and which rule to mind; the tools it
names are in PROMPT_TOOLS, so a prompt is offered only when all of them are on and the caller may
use them (access.AccessGate). Arguments complete as typed (completions.py).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Annotated

from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS
from pydantic import Field

from ..domain.rules_text import PROMPT_TEXTS
from .mcp_server import ShopServer

PROMPT_TOOLS: dict[str, tuple[str, ...]] = {
    "handle_return": ("get_order_details", "get_user_details", "return_delivered_order_items"),
    "cancel_order": ("get_order_details", "cancel_pending_order"),
    "triage_ticket": ("get_ticket", "get_order_details", "set_ticket_status", "add_ticket_message", "escalate_ticket"),
    "explain_order_status": ("get_order_details",),
}

OrderArgument = Annotated[str, Field(description="The order id, e.g. '#W2611340'.")]
TicketArgument = Annotated[str, Field(description="The ticket id, e.g. 'TCK-000001'.")]
# A prompt echoes its argument into the text the model reads: only an id of the tools' shape may go in.
_ORDER_ID = re.compile(r"#W[0-9]{1,12}")
_TICKET_ID = re.compile(r"TCK-[0-9]{1,12}")


def _an_id(name: str, value: str, shape: re.Pattern[str], example: str) -> str:
    """`value`, if it has the shape of the id `name` takes; else a short invalid-params error that echoes
    nothing of it (the SDK would answer a failed check with an internal error)."""
    if not shape.fullmatch(value):
        raise MCPError(INVALID_PARAMS, f"`{name}` must be an id such as {example!r}; nothing else goes into a prompt.")
    return value


def register(server: ShopServer, enabled: Collection[str]) -> None:
    def available(name: str) -> bool:
        return all(tool in enabled for tool in PROMPT_TOOLS[name])

    if available("handle_return"):

        @server.prompt(title="Handle a return", description="Return items of a delivered order, step by step.")
        def handle_return(order_id: OrderArgument) -> str:
            order_id = _an_id("order_id", order_id, _ORDER_ID, "#W2611340")
            return PROMPT_TEXTS["handle_return"].format(order_id=order_id)

    if available("cancel_order"):

        @server.prompt(title="Cancel an order", description="Cancel a pending order and say what is refunded.")
        def cancel_order(order_id: OrderArgument) -> str:
            order_id = _an_id("order_id", order_id, _ORDER_ID, "#W2611340")
            return PROMPT_TEXTS["cancel_order"].format(order_id=order_id)

    if available("triage_ticket"):

        @server.prompt(title="Triage a ticket", description="Read a support ticket, decide its next step.")
        def triage_ticket(ticket_id: TicketArgument) -> str:
            ticket_id = _an_id("ticket_id", ticket_id, _TICKET_ID, "TCK-000001")
            return PROMPT_TEXTS["triage_ticket"].format(ticket_id=ticket_id)

    if available("explain_order_status"):

        @server.prompt(title="Explain an order's status", description="Explain in plain words where an order is.")
        def explain_order_status(order_id: OrderArgument) -> str:
            order_id = _an_id("order_id", order_id, _ORDER_ID, "#W2611340")
            return PROMPT_TEXTS["explain_order_status"].format(order_id=order_id)
