"""The shop's business rules, as plain functions over records.

Tools call these before they write anything; a rule that fails raises
`PolicyRefusal` (or `NotFound`) with what is wrong and what to do instead, so
an agent cannot talk the server into an action the policy forbids. The rules
agree with the τ²-bench retail tools, with two deliberate exceptions marked
"Unlike τ²" in its modules, where that benchmark's code moves money or prices wrongly.

One module per area; every rule is importable from here (`policy.ensure_cancellable`).
"""

from __future__ import annotations

from .items import Swap, ensure_items_in_order, items_listed, plan_swaps, price_difference
from .orders import (
    ORDER_CHANGES,
    OrderChange,
    PaymentMethod,
    address_changes,
    cancellation_refunds,
    changed_fields,
    ensure_address_modifiable,
    ensure_cancellable,
    ensure_customers_method,
    ensure_customers_order,
    ensure_exchangeable,
    ensure_gift_card_covers,
    ensure_items_modifiable,
    ensure_refund_destination,
    ensure_returnable,
    order_status_after,
    payment_change,
)
from .tickets import ensure_ticket_open_for_messages, ensure_ticket_transition, is_repeat_escalation

__all__ = [
    "ORDER_CHANGES",
    "OrderChange",
    "PaymentMethod",
    "Swap",
    "address_changes",
    "cancellation_refunds",
    "changed_fields",
    "ensure_address_modifiable",
    "ensure_cancellable",
    "ensure_customers_method",
    "ensure_customers_order",
    "ensure_exchangeable",
    "ensure_gift_card_covers",
    "ensure_items_in_order",
    "ensure_items_modifiable",
    "ensure_refund_destination",
    "ensure_returnable",
    "ensure_ticket_open_for_messages",
    "ensure_ticket_transition",
    "is_repeat_escalation",
    "items_listed",
    "order_status_after",
    "payment_change",
    "plan_swaps",
    "price_difference",
]
