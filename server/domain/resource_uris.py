"""The URIs of shopdesk's resources, in one place: the resources serve them (resources.py), the access gate
decides who may read them (access/gate.py), completion fills in their ids (surface/completions.py)."""

from __future__ import annotations

POLICY_URI = "shopdesk://policy"
ORDER_TEMPLATE = "shopdesk://orders/{order_id}"
CUSTOMER_TEMPLATE = "shopdesk://customers/{user_id}"
TICKET_TEMPLATE = "shopdesk://tickets/{ticket_id}"
EXPORT_TEMPLATE = "shopdesk://exports/orders.csv{?status,user_id,placed_from,placed_to}"


def order_id_from_uri(value: str) -> str:
    """The order id a URI names: 'W2611340' (the '#' cannot stand in a URI path) or '#W2611340' encoded."""
    return value if value.startswith("#") else "#" + value
