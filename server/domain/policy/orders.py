"""Orders: whose they are, the statuses each change is allowed from and leads to, cancelling, changing a
pending order's address and payment, returning and exchanging a delivered one."""

from __future__ import annotations

from dataclasses import dataclass

from .. import not_found
from ..errors import PolicyRefusal, excerpt
from ..models import Address, CreditCard, GiftCard, Order, Paypal
from ..money import Movement, format_money, to_cents
from ..statuses import PENDING_STATUSES, OrderStatus

PaymentMethod = CreditCard | Paypal | GiftCard


# --- who owns what ------------------------------------------------------------------------------


def ensure_customers_method(user_id: str, method_id: str, found: tuple[str, PaymentMethod] | None) -> PaymentMethod:
    """The payment method `found` as (owner's user id, method), provided it is this customer's own."""
    if found is None or found[0] != user_id:
        raise not_found.payment_method(user_id, method_id)
    return found[1]


def ensure_customers_order(order_id: str, owner: str, user_id: str | None) -> None:
    """An order named together with a customer must be that customer's."""
    if user_id is not None and owner != user_id:
        raise PolicyRefusal(
            f"Order {order_id} belongs to another customer, not {excerpt(user_id)}.",
            "Attach only this customer's own orders (get_user_details lists them).",
        )


_WHAT_NEXT_BY_STATUS: dict[OrderStatus, str] = {
    "processed": "It is already processed for shipping, so it can no longer be cancelled or changed. Once "
    "delivered, its items can be returned or exchanged; or transfer the customer to a human agent.",
    "delivered": "It has been delivered: use return_delivered_order_items or exchange_delivered_order_items instead.",
    "cancelled": "It is already cancelled; nothing more can be done to it.",
    "pending (item modified)": "Its items were already modified once, which is final: it can no longer be "
    "cancelled or have its items or payment changed.",
    "return requested": "A return is already under way for it; nothing more can be changed.",
    "exchange requested": "An exchange is already under way for it; nothing more can be changed.",
}


@dataclass(frozen=True)
class OrderChange:
    """One change an order can undergo: the statuses it may start from, and the status it leaves."""

    done: str  # how a refusal words it: "Order ... is 'x', and only ... orders can be <done>."
    allowed_words: str
    from_statuses: frozenset[OrderStatus]
    to_status: OrderStatus | None  # None: the status stays as it is


# The order's state machine: every status change an order can undergo, here and nowhere else. The repository
# writes the status it is handed, guarded by the status the rules were checked against (the race guard).
ORDER_CHANGES: dict[str, OrderChange] = {
    "cancel": OrderChange("cancelled", "'pending'", frozenset({"pending"}), "cancelled"),
    # As in τ², an order whose items were modified may still get a new shipping address or payment method.
    "change address": OrderChange("modified", "pending", PENDING_STATUSES, None),
    "change payment": OrderChange("modified", "pending", PENDING_STATUSES, None),
    "change items": OrderChange("modified", "'pending'", frozenset({"pending"}), "pending (item modified)"),
    "return": OrderChange("returned", "'delivered'", frozenset({"delivered"}), "return requested"),
    "exchange": OrderChange("exchanged", "'delivered'", frozenset({"delivered"}), "exchange requested"),
}


def order_status_after(order: Order, change: str) -> OrderStatus:
    """The status `order` has after `change`; refuses a change its status does not allow."""
    rule = ORDER_CHANGES[change]
    if order.status not in rule.from_statuses:
        hint = _WHAT_NEXT_BY_STATUS.get(order.status, "Tell the customer this action is not possible.")
        raise PolicyRefusal(
            f"Order {order.order_id} is '{order.status}', and only {rule.allowed_words} orders can be {rule.done}.",
            hint,
        )
    return rule.to_status or order.status


# --- cancel ---------------------------------------------------------------------------------


def ensure_cancellable(order: Order) -> OrderStatus:
    # The reason needs no check here: the tool's argument type admits only the accepted ones.
    return order_status_after(order, "cancel")


def cancellation_refunds(order: Order) -> list[Movement]:
    """The refunds that cancel `order`: what each payment method still holds for it.

    Unlike τ², which refunds every history entry (so an order whose payment
    method was changed, then cancelled, pays the first method back twice), we
    refund each method's net payment, in the order the methods were first used.
    For an order with a single payment both give the same result.
    """
    held: dict[str, int] = {}
    for entry in order.payment_history:
        sign = 1 if entry.transaction_type == "payment" else -1
        held[entry.payment_method_id] = held.get(entry.payment_method_id, 0) + sign * to_cents(entry.amount)
    return [Movement("refund", cents, method_id) for method_id, cents in held.items() if cents > 0]


# --- modify a pending order -------------------------------------------------------------------


def ensure_address_modifiable(order: Order) -> None:
    order_status_after(order, "change address")


def address_changes(current: Address, new: Address) -> bool:
    """Whether writing `new` changes anything: the same address again is a no-op, not a second write."""
    return current != new


def changed_fields(current: Address, new: Address) -> list[str]:
    """The names of the address fields `new` changes, for the audit row (which keeps no address)."""
    return [name for name in Address.model_fields if getattr(current, name) != getattr(new, name)]


def payment_change(order: Order, new_method: PaymentMethod) -> list[Movement]:
    """Check a change of payment method; return the movements: charge the new method, refund the old."""
    order_status_after(order, "change payment")
    history = order.payment_history
    if len(history) != 1 or history[0].transaction_type != "payment":
        raise PolicyRefusal(
            f"Order {order.order_id} no longer has exactly one payment, so its payment method cannot be changed "
            "(it can be changed once, and not after its items were modified).",
            "Tell the customer the payment method of this order cannot be changed again.",
        )
    old_method_id = history[0].payment_method_id
    if new_method.id == old_method_id:
        raise PolicyRefusal(
            f"Order {order.order_id} is already paid with {old_method_id}.",
            "Ask the customer for a different payment method from their profile.",
        )
    amount = to_cents(history[0].amount)
    ensure_gift_card_covers(new_method, amount)
    return [Movement("payment", amount, new_method.id), Movement("refund", amount, old_method_id)]


def ensure_gift_card_covers(method: PaymentMethod, cents: int) -> None:
    if isinstance(method, GiftCard) and to_cents(method.balance) < cents:
        raise PolicyRefusal(
            f"Gift card {method.id} has {format_money(to_cents(method.balance))}, "
            f"less than the {format_money(cents)} needed.",
            "Ask the customer for another payment method (get_user_details lists them).",
        )


def ensure_items_modifiable(order: Order) -> OrderStatus:
    return order_status_after(order, "change items")


# --- return and exchange a delivered order ----------------------------------------------------


def ensure_returnable(order: Order) -> OrderStatus:
    return order_status_after(order, "return")


def ensure_exchangeable(order: Order) -> OrderStatus:
    return order_status_after(order, "exchange")


def ensure_refund_destination(order: Order, method: PaymentMethod) -> None:
    """A return's refund goes back to the original payment method or to a gift card."""
    original = order.payment_history[0].payment_method_id if order.payment_history else None
    if not isinstance(method, GiftCard) and method.id != original:
        raise PolicyRefusal(
            f"A refund can only go to the original payment method ({original}) or to a gift card, not {method.id}.",
            "Ask the customer to choose the original payment method or one of their gift cards.",
        )
