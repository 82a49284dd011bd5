"""Short text renderings of tool results, for the model and the person to read.

The structured content carries every field; the text says what matters in a
few lines, with the ids the next tool call needs.
"""

from __future__ import annotations

from ..domain.models import (
    Address,
    AuditPage,
    CreditCard,
    CustomerPage,
    GiftCard,
    ItemDetails,
    Order,
    OrderPage,
    Product,
    Ticket,
    TicketPage,
    TicketSummary,
    User,
)
from ..domain.money import cents_of, format_money


def _options(options: dict[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in options.items())


def address(a: Address) -> str:
    return ", ".join(part for part in (a.address1, a.address2, a.city, f"{a.state} {a.zip}", a.country) if part)


def user(u: User) -> str:
    lines = [
        f"Customer {u.user_id}: {u.name.first_name} {u.name.last_name} <{u.email}>"
        + (f", phone {u.phone}" if u.phone else ""),
        f"Default address: {address(u.address)}",
        "Payment methods:",
    ]
    for m in u.payment_methods.values():
        if isinstance(m, GiftCard):
            lines.append(f"  - {m.id}: gift card, balance {format_money(cents_of(m.balance))}")
        elif isinstance(m, CreditCard):
            lines.append(f"  - {m.id}: {m.brand} card ending {m.last_four}")
        else:
            lines.append(f"  - {m.id}: PayPal")
    lines.append(f"Orders ({len(u.orders)}): {', '.join(u.orders) if u.orders else 'none'}")
    return "\n".join(lines)


def order(o: Order) -> str:
    placed = f", placed {o.placed_at}" if o.placed_at else ""
    lines = [f"Order {o.order_id} for {o.user_id}: {o.status}{placed}", f"Ship to: {address(o.address)}", "Items:"]
    for item in o.items:
        lines.append(
            f"  - {item.name} (item {item.item_id}, product {item.product_id}; {_options(item.options)}): "
            f"{format_money(cents_of(item.price))}"
        )
    lines.append(f"Items total: {format_money(sum(cents_of(i.price) for i in o.items))}")
    for entry in o.payment_history:
        lines.append(
            f"{entry.transaction_type.capitalize()}: {format_money(cents_of(entry.amount))} "
            f"via {entry.payment_method_id}"
        )
    for f in o.fulfillments:
        lines.append(f"Shipment {', '.join(f.tracking_id)}: items {', '.join(f.item_ids)}")
    if o.cancel_reason:
        lines.append(f"Cancelled because: {o.cancel_reason}")
    if o.return_items is not None:
        lines.append(f"Return requested for items {', '.join(o.return_items)}; refund to {o.return_payment_method_id}")
    if o.exchange_items is not None and o.exchange_new_items is not None:
        diff = format_money(cents_of(o.exchange_price_difference or 0))
        lines.append(
            f"Exchange requested: {', '.join(o.exchange_items)} -> {', '.join(o.exchange_new_items)}; "
            f"price difference {diff} settled with {o.exchange_payment_method_id}"
        )
    return "\n".join(lines)


def product(p: Product) -> str:
    lines = [f"{p.name} (product {p.product_id}), {len(p.variants)} variants:"]
    for v in p.variants.values():
        state = "available" if v.available else "NOT available"
        lines.append(f"  - item {v.item_id}: {_options(v.options)}; {format_money(cents_of(v.price))}; {state}")
    return "\n".join(lines)


def item(i: ItemDetails) -> str:
    state = "available" if i.available else "NOT available"
    return (
        f"Item {i.item_id}: {i.product_name} (product {i.product_id}); {_options(i.options)}; "
        f"{format_money(cents_of(i.price))}; {state}"
    )


def _more(cursor: str | None) -> str:
    return f"More results: call again with cursor '{cursor}'." if cursor else "No more results."


def order_page(page: OrderPage) -> str:
    if not page.orders:
        return "No orders match."
    lines = [
        f"{o.order_id} | {o.customer_name} ({o.user_id}) | {o.status} | {o.placed_at or 'date unknown'} | "
        f"{o.item_count} item{'' if o.item_count == 1 else 's'}, {format_money(cents_of(o.total))}: "
        f"{', '.join(o.item_names)}"
        for o in page.orders
    ]
    return "\n".join([*lines, _more(page.next_cursor)])


def customer_page(page: CustomerPage) -> str:
    if not page.customers:
        return "No customers match."
    lines = [
        f"{c.user_id} | {c.name} | {c.email} | {c.phone or 'no phone'} | {c.city}, {c.state} {c.zip} | "
        f"{c.order_count} orders"
        for c in page.customers
    ]
    return "\n".join([*lines, _more(page.next_cursor)])


def _ticket_line(t: TicketSummary) -> str:
    about = ", ".join(x for x in (t.user_id, t.order_id) if x) or "no customer yet"
    return f"{t.ticket_id} [{t.status}, {t.priority}] {t.subject} ({about}; updated {t.updated_at})"


def ticket(t: Ticket) -> str:
    lines = [_ticket_line(t)]
    if t.escalation:
        lines.append(f"Escalated {t.escalation.escalated_at}: {t.escalation.reason}. Summary: {t.escalation.summary}")
    lines += [f"  {m.created_at} {m.author}: {m.body}" for m in t.messages]
    return "\n".join(lines)


def ticket_page(page: TicketPage) -> str:
    if not page.tickets:
        return "No tickets match."
    return "\n".join([*(_ticket_line(t) for t in page.tickets), _more(page.next_cursor)])


def audit_page(page: AuditPage) -> str:
    if not page.events:
        return "No audit events match."
    lines = [
        f"{e.at} {e.tool} {e.target} {e.outcome} by {e.subject}" + (f": {e.reason}" if e.reason else "")
        for e in page.events
    ]
    return "\n".join([*lines, _more(page.next_cursor)])
