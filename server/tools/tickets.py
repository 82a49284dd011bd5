"""Support tickets: open, read, list, reply, change status, escalate; and the τ² hand-over to a human."""

from __future__ import annotations

from typing import Annotated

from mcp.types import CallToolResult
from pydantic import Field

from ..access.caller import Binding, Caller, current_caller
from ..domain import not_found, policy
from ..domain.models import Ticket, TicketPage, Transfer
from ..domain.statuses import PostedBy, TicketPriority, TicketStatus
from ..shop import Shop
from ..storage.repositories import customers as customers_repo
from ..storage.repositories import orders as orders_repo
from ..storage.repositories import tickets as repo
from ..storage.repositories.rows import Connection
from ..surface import apps as apps_ui
from ..text import previews, render
from ..writes.path import perform
from ..writes.plans import IdempotencyKey, Plan, Planner, Written
from .arguments import Cursor, LongText, OrderId, PageSize, ShortText, TicketId, UserId
from .cursors import decode_cursor, encode_cursor
from .declare import confirmed_write, tool
from .results import addition, change, lookup, present


async def _ticket(conn: Connection, ticket_id: str) -> Ticket:
    ticket = await repo.get(conn, ticket_id)
    if ticket is None:
        raise not_found.ticket(ticket_id)
    return ticket


async def _customer_key(conn: Connection, user_id: str | None) -> int | None:
    if user_id is None:
        return None
    key = await customers_repo.internal_id(conn, user_id)
    if key is None:
        raise not_found.customer(user_id)
    return key


async def _order_key(conn: Connection, order_id: str | None, user_id: str | None) -> int | None:
    if order_id is None:
        return None
    found = await orders_repo.key_and_owner(conn, order_id)
    if found is None:
        raise not_found.order(order_id)
    key, owner = found
    policy.ensure_customers_order(order_id, owner, user_id)
    return key


@tool(
    addition("Open a support ticket"),
    toolset="tickets",
    scope="tickets:write",
    binding=Binding(ids={"user_id": "customer", "order_id": "order"}),
)
async def create_ticket(
    shop: Shop,
    user_id: UserId,
    subject: Annotated[ShortText, Field(description="What it is about, in one line.")],
    message: Annotated[LongText, Field(description="The customer's request.")],
    order_id: Annotated[OrderId | None, Field(description="The order this is about, if any.")] = None,
    priority: Annotated[TicketPriority, Field(description="How urgent.")] = "normal",
    idempotency_key: IdempotencyKey = None,
) -> Annotated[CallToolResult, Ticket]:
    """Open a support ticket for a customer, optionally about an order, with a first message. Each call
    opens one: check list_tickets first."""

    async def open_ticket(conn: Connection) -> Written:
        ticket_id = await repo.create(
            conn,
            customer_key=await _customer_key(conn, user_id),
            order_key=await _order_key(conn, order_id, user_id),
            subject=subject,
            priority=priority,
            first_message=message,
            author="customer",
        )
        ticket = await _ticket(conn, ticket_id)
        return Written(ticket, render.ticket(ticket), ticket_id, user_id, {"order_id": order_id})

    arguments = {
        "user_id": user_id,
        "subject": subject,
        "message": message,
        "order_id": order_id,
        "priority": priority,
    }
    return await perform(shop, "create_ticket", arguments, idempotency_key, open_ticket)


@tool(
    lookup("Get a support ticket"),
    toolset="tickets",
    scope="tickets:read",
    binding=Binding(ids={"ticket_id": "ticket"}),
    view=apps_ui.TICKET_VIEW,
)
async def get_ticket(shop: Shop, ticket_id: TicketId) -> Annotated[CallToolResult, Ticket]:
    """Get a support ticket with its status, priority, escalation and whole message thread."""
    ticket = await _ticket(shop.db.read, ticket_id)
    return present(ticket, render.ticket(ticket))


@tool(
    lookup("List support tickets"),
    toolset="tickets",
    scope="tickets:read",
    binding=Binding(ids={"user_id": "customer", "order_id": "order"}, fills="user_id"),
)
async def list_tickets(
    shop: Shop,
    user_id: Annotated[UserId | None, Field(description="Only this customer's tickets.")] = None,
    order_id: Annotated[OrderId | None, Field(description="Only tickets about this order.")] = None,
    status: Annotated[TicketStatus | None, Field(description="Only tickets with this status.")] = None,
    priority: Annotated[TicketPriority | None, Field(description="Only tickets with this priority.")] = None,
    cursor: Cursor = None,
    limit: PageSize = 20,
) -> Annotated[CallToolResult, TicketPage]:
    """List support tickets, newest first, by customer, order, status or priority; a page and a cursor."""
    conn = shop.db.read
    rows, last = await repo.search(
        conn,
        customer_key=await _customer_key(conn, user_id),
        order_key=await _order_key(conn, order_id, None),
        status=status,
        priority=priority,
        after=decode_cursor("t", cursor, (str, int)),
        limit=limit,
    )
    page = TicketPage(tickets=rows, next_cursor=encode_cursor("t", last))
    return present(page, render.ticket_page(page))


@tool(
    addition("Add a message to a ticket"),
    toolset="tickets",
    scope="tickets:write",
    binding=Binding(ids={"ticket_id": "ticket"}),
)
async def add_ticket_message(
    shop: Shop,
    ticket_id: TicketId,
    body: Annotated[LongText, Field(description="The message text.")],
    author: Annotated[PostedBy, Field(description="Who wrote it; 'agent' is you.")] = "agent",
    idempotency_key: IdempotencyKey = None,
) -> Annotated[CallToolResult, Ticket]:
    """Add a message to a ticket's thread (not to a closed one). Returns the ticket."""

    async def add(conn: Connection) -> Written:
        ticket = await _ticket(conn, ticket_id)
        policy.ensure_ticket_open_for_messages(ticket_id, ticket.status)
        await repo.add_message(conn, ticket_id, author, body)
        ticket = await _ticket(conn, ticket_id)
        return Written(ticket, render.ticket(ticket), ticket.ticket_id, ticket.user_id, {"author": author})

    arguments = {"ticket_id": ticket_id, "body": body, "author": author}
    return await perform(shop, "add_ticket_message", arguments, idempotency_key, add)


@confirmed_write(
    change("Change a ticket's status"),
    toolset="tickets",
    scope="tickets:write",
    output=Ticket,
    binding=Binding(ids={"ticket_id": "ticket"}),
)
def set_ticket_status(
    ticket_id: TicketId, status: Annotated[TicketStatus, Field(description="The new status.")]
) -> Planner:
    """Set a ticket's status: closed is final, resolved can reopen. To hand it to a human, use
    escalate_ticket."""

    # Closing is final, so the person confirms it (a preview); other moves need no question (no preview).
    async def plan(conn: Connection, caller: Caller) -> Plan:
        ticket = await _ticket(conn, ticket_id)
        policy.ensure_ticket_transition(ticket_id, ticket.status, status)

        async def apply(conn: Connection) -> Written:
            if status == ticket.status:
                return Written(ticket, render.ticket(ticket), ticket.ticket_id, ticket.user_id, changed=False)
            await repo.set_status(conn, ticket_id, status)
            moved = await _ticket(conn, ticket_id)
            details = {"old_status": ticket.status, "status": status}
            return Written(moved, render.ticket(moved), ticket.ticket_id, ticket.user_id, details)

        closing = status == "closed" and ticket.status != "closed"
        return Plan(previews.close_ticket(ticket_id, ticket.subject) if closing else "", apply)

    return plan


@tool(
    change("Escalate a ticket to a human"),
    toolset="tickets",
    scope="tickets:write",
    binding=Binding(ids={"ticket_id": "ticket"}),
)
async def escalate_ticket(
    shop: Shop,
    ticket_id: TicketId,
    reason: Annotated[ShortText, Field(description="Why a human must take over, in one line.")],
    summary: Annotated[LongText, Field(description="For the human: the request, what was done, what is left.")],
    idempotency_key: IdempotencyKey = None,
) -> Annotated[CallToolResult, Ticket]:
    """Hand a ticket to a human agent, recording why and a summary for them. Returns the ticket."""

    async def escalate(conn: Connection) -> Written:
        ticket = await _ticket(conn, ticket_id)
        policy.ensure_ticket_transition(ticket_id, ticket.status, "escalated")
        if policy.is_repeat_escalation(ticket, reason, summary):
            return Written(ticket, render.ticket(ticket), ticket.ticket_id, ticket.user_id, changed=False)
        await repo.escalate(conn, ticket_id, reason, summary)
        ticket = await _ticket(conn, ticket_id)
        return Written(ticket, render.ticket(ticket), ticket.ticket_id, ticket.user_id, {"reason": reason})

    arguments = {"ticket_id": ticket_id, "reason": reason, "summary": summary}
    return await perform(shop, "escalate_ticket", arguments, idempotency_key, escalate)


@tool(addition("Transfer to a human agent"), toolset="tickets", scope="tickets:write", binding=Binding())
async def transfer_to_human_agents(
    shop: Shop,
    summary: Annotated[LongText, Field(description="The customer's issue, for the human agent.")],
    idempotency_key: IdempotencyKey = None,
) -> Annotated[CallToolResult, Transfer]:
    """Hand the customer to a human agent, with a summary, when they ask for one or the request is
    beyond the tools and policy; then tell them."""

    # In a session bound to a customer the hand-over is theirs: filed under them, so they can follow it.
    caller = current_caller()
    customer = None if caller is None else caller.customer

    async def transfer(conn: Connection) -> Written:
        ticket_id = await repo.create(
            conn,
            customer_key=await _customer_key(conn, customer),
            order_key=None,
            subject="Transfer to a human agent",
            priority="high",
            first_message=summary,
            author="agent",
        )
        await repo.escalate(conn, ticket_id, "Transferred by the AI agent", summary)
        answer = Transfer(result="Transfer successful", ticket_id=ticket_id)
        return Written(answer, f"Transfer successful (ticket {ticket_id}).", ticket_id, customer)

    return await perform(shop, "transfer_to_human_agents", {"summary": summary}, idempotency_key, transfer)
