"""Every status and fixed choice of the shop, spelled once.

The pydantic models, the tools' argument types, the SQL CHECK constraints and the
policy all take their values from here.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

OrderStatus = Literal[
    "pending",
    "pending (item modified)",
    "processed",
    "delivered",
    "cancelled",
    "return requested",
    "exchange requested",
]
# An order still waiting to be processed: its address may change in either state.
PENDING_STATUSES: frozenset[OrderStatus] = frozenset({"pending", "pending (item modified)"})
CancelReason = Literal["no longer needed", "ordered by mistake"]
TicketStatus = Literal["open", "waiting_on_customer", "escalated", "resolved", "closed"]
TicketPriority = Literal["low", "normal", "high", "urgent"]
MessageAuthor = Literal["customer", "agent", "system"]
# Who may post through add_ticket_message: "system" messages are the shop's own (escalations, transfers).
PostedBy = Literal["customer", "agent"]
# What became of a call to a tool that writes, as the audit log records it.
AuditOutcome = Literal["done", "unchanged", "refused", "declined", "replayed"]
PaymentSource = Literal["credit_card", "paypal", "gift_card"]
TransactionType = Literal["payment", "refund"]


def sql_choices(choices: Any) -> str:
    """The values of a Literal as a SQL list for a CHECK (... IN (...)) constraint: 'a', 'b'.

    Only for the constants above, never for input; a quote would be doubled as SQL wants.
    """
    return ", ".join("'" + str(value).replace("'", "''") + "'" for value in get_args(choices))
