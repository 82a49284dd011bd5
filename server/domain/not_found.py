"""The "not found" answer for each kind of record, worded once.

Tools use these for ids that name nothing; a customer-bound session uses the same ones for
other customers' records, so that those answer exactly like records that do not exist.
"""

from __future__ import annotations

from .errors import NotFound, excerpt

_ASK_AGAIN = "Ask the customer to check the details, or look them up another way (email, or name + zip)."


def customer(user_id: str) -> NotFound:
    return NotFound(f"Customer {excerpt(user_id)} was not found.", _ASK_AGAIN)


def customer_with_email(email: str) -> NotFound:
    return NotFound(f"A customer with email {excerpt(email)} was not found.", _ASK_AGAIN)


def customer_named(first_name: str, last_name: str, zip_code: str) -> NotFound:
    return NotFound(
        f"A customer named {excerpt(first_name)} {excerpt(last_name)} with zip {excerpt(zip_code)} was not found.",
        _ASK_AGAIN,
    )


def order(order_id: str) -> NotFound:
    return NotFound(
        f"Order {excerpt(order_id)} was not found.",
        "Check the id with the customer (it looks like '#W0000000'), or list their orders with get_user_details.",
    )


def ticket(ticket_id: str) -> NotFound:
    return NotFound(
        f"Ticket {excerpt(ticket_id)} was not found.",
        "Check the ticket id (e.g. 'TCK-000042'), or find it with list_tickets.",
    )


def payment_method(user_id: str, method_id: str) -> NotFound:
    return NotFound(
        f"Payment method {excerpt(method_id)} of customer {excerpt(user_id)} was not found.",
        "Use one of the customer's own payment methods; get_user_details lists them.",
    )
