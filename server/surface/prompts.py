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
            return (
                f"The customer wants to return items of order {order_id}.\n"
                f"1. Call get_order_details for {order_id}: only a 'delivered' order can be returned, and only once.\n"
                "2. Ask which items go back; list them with their prices.\n"
                "3. Call get_user_details for the order's customer and ask where the refund goes: the original "
                "payment method or one of their gift cards.\n"
                "4. Tell the customer the items, the refund amount and where it goes, and get an explicit yes.\n"
                "5. Call return_delivered_order_items, then tell them an email explains how to send the items back."
            )

    if available("cancel_order"):

        @server.prompt(title="Cancel an order", description="Cancel a pending order and say what is refunded.")
        def cancel_order(order_id: OrderArgument) -> str:
            order_id = _an_id("order_id", order_id, _ORDER_ID, "#W2611340")
            return (
                f"The customer wants to cancel order {order_id}.\n"
                f"1. Call get_order_details for {order_id}: only a 'pending' order can be cancelled.\n"
                "2. Ask why: the reason must be 'no longer needed' or 'ordered by mistake'.\n"
                "3. Tell them what is refunded to which payment method (gift cards at once, other methods in 5 "
                "to 7 business days) and get an explicit yes.\n"
                "4. Call cancel_pending_order and confirm the result to them."
            )

    if available("triage_ticket"):

        @server.prompt(title="Triage a ticket", description="Read a support ticket, decide its next step.")
        def triage_ticket(ticket_id: TicketArgument) -> str:
            ticket_id = _an_id("ticket_id", ticket_id, _TICKET_ID, "TCK-000001")
            return (
                f"Triage support ticket {ticket_id}.\n"
                f"1. Call get_ticket for {ticket_id} and read the whole thread.\n"
                "2. If it is about an order, call get_order_details to see where the order stands.\n"
                "3. Decide: answer the customer with add_ticket_message (then set_ticket_status to "
                "'waiting_on_customer'), mark it 'resolved' with set_ticket_status if nothing is left, or "
                "escalate_ticket with a reason and a summary when a person must take over.\n"
                "4. Say in two lines what you did and why."
            )

    if available("explain_order_status"):

        @server.prompt(title="Explain an order's status", description="Explain in plain words where an order is.")
        def explain_order_status(order_id: OrderArgument) -> str:
            order_id = _an_id("order_id", order_id, _ORDER_ID, "#W2611340")
            return (
                f"Call get_order_details for {order_id} and explain to the customer, in plain words, where the "
                "order stands: its status and what it allows next, what was shipped with which tracking ids, and "
                "what was paid and refunded to which payment method. Do not change anything."
            )
