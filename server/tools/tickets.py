"""Support tickets: open, read, list, reply, change status, escalate; and the τ² hand-over to a human."""

# No `from __future__ import annotations`: the resolvers in set_ticket_status's signature are local
# functions, which the SDK must see as objects.
from typing import Annotated

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context, Resolve
from mcp.types import CallToolResult
from pydantic import Field

from ..access.gate import current_caller
from ..domain import not_found, policy
from ..domain.models import Ticket, TicketPage, Transfer
from ..domain.statuses import PostedBy, TicketPriority, TicketStatus
from ..shop import Shop
from ..storage.repositories import customers as customers_repo
from ..storage.repositories import orders as orders_repo
from ..storage.repositories import tickets as repo
from ..storage.repositories.rows import Connection
from ..surface import apps as apps_ui
from ..surface.mcp_server import ShopServer
from ..text import previews, render
from ..writes.confirm import ConfirmationToken, Consent, Preview
from ..writes.path import IdempotencyKey, Plan, Write, Written, consent_resolver, perform, perform_confirmed, preview_of
from .arguments import Cursor, LongText, OrderId, PageSize, ShortText, TicketId, UserId
from .cursors import decode_cursor, encode_cursor
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


def _status(ticket_id: str, status: TicketStatus) -> Write:
    """Closing is final, so the person confirms it; other moves need no question."""

    async def plan(conn: Connection) -> Plan:
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

    return Write("set_ticket_status", {"ticket_id": ticket_id, "status": status}, plan)


def register(server: ShopServer, shop: Shop) -> None:
    @server.tool(annotations=addition("Open a support ticket"))
    async def create_ticket(
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

    @server.tool(annotations=lookup("Get a support ticket"), meta=apps_ui.ui(apps_ui.TICKET_VIEW))
    async def get_ticket(ticket_id: TicketId) -> Annotated[CallToolResult, Ticket]:
        """Get a support ticket with its status, priority, escalation and whole message thread."""
        ticket = await _ticket(shop.db.read, ticket_id)
        return present(ticket, render.ticket(ticket))

    @server.tool(annotations=lookup("List support tickets"))
    async def list_tickets(
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

    @server.tool(annotations=addition("Add a message to a ticket"))
    async def add_ticket_message(
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

    async def preview_status(
        ticket_id: str, status: TicketStatus, ctx: Context, idempotency_key: str | None = None
    ) -> Preview:
        return await preview_of(shop, _status(ticket_id, status), idempotency_key, ctx)

    ask_status = consent_resolver(shop, preview_status)

    @server.tool(annotations=change("Change a ticket's status"))
    async def set_ticket_status(
        ticket_id: TicketId,
        status: Annotated[TicketStatus, Field(description="The new status.")],
        preview: Annotated[Preview, Resolve(preview_status)],
        consent: Annotated[ElicitationResult[Consent], Resolve(ask_status)],
        idempotency_key: IdempotencyKey = None,
        confirmation_token: ConfirmationToken = None,
    ) -> Annotated[CallToolResult, Ticket]:
        """Set a ticket's status: closed is final, resolved can reopen. To hand it to a human, use
        escalate_ticket."""
        return await perform_confirmed(
            shop, _status(ticket_id, status), idempotency_key, preview, consent, confirmation_token
        )

    @server.tool(annotations=change("Escalate a ticket to a human"))
    async def escalate_ticket(
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

    @server.tool(annotations=addition("Transfer to a human agent"))
    async def transfer_to_human_agents(
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
