"""The words a person reads before a destructive write: what will change, with the amounts and where
the money goes. The write path compares them again just before it writes (see writes/path.py)."""

from __future__ import annotations

from collections.abc import Sequence

from ..domain.models import Address, CreditCard, GiftCard, ItemDetails, Order, OrderItem, Paypal
from ..domain.money import Movement, format_money, to_cents
from .render import address


def charged(m: CreditCard | Paypal | GiftCard) -> str:
    """A payment method as the person knows it, with its id."""
    if isinstance(m, GiftCard):
        return f"gift card {m.id}"
    if isinstance(m, CreditCard):
        return f"{m.brand} card ending {m.last_four} ({m.id})"
    return f"PayPal ({m.id})"


def method(m: CreditCard | Paypal | GiftCard) -> str:
    """A refund destination, with when the money arrives."""
    return f"{charged(m)} ({'at once' if isinstance(m, GiftCard) else 'in 5 to 7 business days'})"


def item(i: OrderItem | ItemDetails, name: str | None = None) -> str:
    options = ", ".join(i.options.values())
    return f"{name or getattr(i, 'name', '')} ({options}) {format_money(to_cents(i.price))}"


def _order(o: Order) -> str:
    total = format_money(sum(to_cents(i.price) for i in o.items))
    return f"order {o.order_id} ({len(o.items)} item{'s' if len(o.items) != 1 else ''}, {total})"


_LISTED = 10  # items named one by one; an order with more says how many others


def items(listed: Sequence[OrderItem]) -> str:
    """Items as the person knows them: name, options and price each."""
    named = "; ".join(item(i) for i in listed[:_LISTED])
    return named + (f"; and {len(listed) - _LISTED} more" if len(listed) > _LISTED else "")


def cancel(o: Order, reason: str, refunds: Sequence[tuple[Movement, CreditCard | Paypal | GiftCard]]) -> str:
    money = "; ".join(f"{format_money(r.cents)} to {method(m)}" for r, m in refunds) or "nothing to refund"
    return (
        f"Cancel {_order(o)}: {items(o.items)}; because: {reason}. Refund: {money}. "
        "A cancelled order cannot be reopened."
    )


def order_address(o: Order, new: Address) -> str:
    return f"Ship {_order(o)} to {address(new)} instead of {address(o.address)}."


def payment(o: Order, charge: Movement, new: CreditCard | Paypal | GiftCard, old_id: str) -> str:
    return (
        f"Pay {_order(o)} with {charged(new)}: it is charged "
        f"{format_money(charge.cents)}, and {old_id} gets {format_money(charge.cents)} back. "
        "The payment method of an order can be changed only once."
    )


def swaps(old: Sequence[OrderItem], new: Sequence[ItemDetails]) -> str:
    return "; ".join(f"{item(o)} -> {item(n, o.name)}" for o, n in zip(old, new, strict=True))


def difference(cents: int, m: CreditCard | Paypal | GiftCard) -> str:
    if cents > 0:
        return f"Price difference: {format_money(cents)} charged to {charged(m)}."
    if cents < 0:
        return f"Price difference: {format_money(-cents)} refunded to {method(m)}."
    return "No price difference."


def modify_items(
    o: Order, old: Sequence[OrderItem], new: Sequence[ItemDetails], cents: int, m: CreditCard | Paypal | GiftCard
) -> str:
    return (
        f"In {_order(o)}, replace {swaps(old, new)}. {difference(cents, m)} "
        "Items can be changed only once: afterwards the order cannot be cancelled or changed again."
    )


def return_items(o: Order, returned: Sequence[OrderItem], m: CreditCard | Paypal | GiftCard) -> str:
    refund = sum(to_cents(i.price) for i in returned)
    return (
        f"Return from {_order(o)}: {items(returned)}. Refund {format_money(refund)} to {method(m)} once the items "
        "arrive. The customer gets an email on how to send them back."
    )


def exchange(
    o: Order, old: Sequence[OrderItem], new: Sequence[ItemDetails], cents: int, m: CreditCard | Paypal | GiftCard
) -> str:
    return (
        f"Exchange in {_order(o)}: {swaps(old, new)}. {difference(cents, m)} An order can be exchanged only once; "
        "the customer gets an email on how to send the items back."
    )


def customer_address(name: str, old: Address, new: Address) -> str:
    return (
        f"Change the default address of {name} to {address(new)} instead of {address(old)}. "
        "Existing orders keep theirs."
    )


def close_ticket(ticket_id: str, subject: str) -> str:
    return f"Close ticket {ticket_id} ('{subject}'). A closed ticket cannot be reopened."
