"""Support tickets: which status may follow which, escalations, messages."""

from __future__ import annotations

from ..errors import PolicyRefusal
from ..models import Ticket
from ..statuses import TicketStatus

# --- support tickets ------------------------------------------------------------------------

_TICKET_TRANSITIONS: dict[TicketStatus, set[TicketStatus]] = {
    "open": {"waiting_on_customer", "escalated", "resolved", "closed"},
    "waiting_on_customer": {"open", "escalated", "resolved", "closed"},
    "escalated": {"open", "waiting_on_customer", "resolved", "closed"},
    "resolved": {"open", "closed"},
    "closed": set(),
}


def ensure_ticket_transition(ticket_id: str, current: TicketStatus, new: TicketStatus) -> None:
    if new == current:
        return
    if new not in _TICKET_TRANSITIONS[current]:
        allowed = sorted(_TICKET_TRANSITIONS[current])
        raise PolicyRefusal(
            f"Ticket {ticket_id} is '{current}' and cannot move to '{new}'.",
            f"Allowed next statuses: {', '.join(allowed)}."
            if allowed
            else "A closed ticket is final: create a new one.",
        )


def is_repeat_escalation(ticket: Ticket, reason: str, summary: str) -> bool:
    """The same escalation again changes nothing (and is not recorded twice)."""
    escalation = ticket.escalation
    return (
        ticket.status == "escalated"
        and escalation is not None
        and (escalation.reason, escalation.summary)
        == (
            reason,
            summary,
        )
    )


def ensure_ticket_open_for_messages(ticket_id: str, status: TicketStatus) -> None:
    if status == "closed":
        raise PolicyRefusal(f"Ticket {ticket_id} is closed.", "Create a new ticket for a new request.")
