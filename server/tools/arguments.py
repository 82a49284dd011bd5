"""Argument types shared by the tools: each says what it expects, with bounds, for the model to read."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

OrderId = Annotated[
    str,
    Field(
        description="e.g. '#W0000000'.",
        pattern=r"^#W[0-9]{1,12}$",
    ),
]
UserId = Annotated[str, Field(description="A user id, e.g. 'sara_doe_496'.", min_length=1, max_length=80)]
ProductId = Annotated[
    str,
    Field(description="A product id, not an item id, e.g. '6086499569'.", pattern=r"^[0-9]{1,20}$"),
]
ItemId = Annotated[
    str,
    Field(
        description="An item (variant) id, not a product id, e.g. '1008292230'.",
        pattern=r"^[0-9]{1,20}$",
    ),
]
ItemIds = Annotated[
    list[ItemId],
    Field(
        description="Item ids in the order; an id twice for two units of it.",
        min_length=1,
        max_length=50,
    ),
]
PaymentMethodId = Annotated[
    str,
    Field(
        description="The customer's payment method id, e.g. 'gift_card_0000000'.",
        pattern=r"^[a-z_]+_[0-9]{1,12}$",
        max_length=40,
    ),
]
Email = Annotated[str, Field(description="An email address, e.g. 'someone@example.com'.", min_length=3, max_length=254)]
FirstName = Annotated[str, Field(description="The customer's first name, e.g. 'John'.", min_length=1, max_length=100)]
LastName = Annotated[str, Field(description="The customer's last name, e.g. 'Doe'.", min_length=1, max_length=100)]
Zip = Annotated[str, Field(description="e.g. '12345'.", min_length=3, max_length=10)]
Address1 = Annotated[str, Field(description="e.g. '123 Main St'.", min_length=1, max_length=200)]
Address2 = Annotated[str, Field(description="e.g. 'Apt 1', or ''.", max_length=200)]
City = Annotated[str, Field(description="e.g. 'San Francisco'.", min_length=1, max_length=100)]
State = Annotated[str, Field(description="e.g. 'CA'.", min_length=1, max_length=100)]
Country = Annotated[str, Field(description="e.g. 'USA'.", min_length=1, max_length=100)]
Cursor = Annotated[str | None, Field(description="next_cursor of the previous page.", max_length=200)]
PageSize = Annotated[int, Field(description="Results per page.", ge=1, le=50)]
IsoDate = Annotated[
    str | None,
    Field(
        description="A date or date-time, ISO 8601, e.g. '2026-05-01' or '2026-05-01T13:00:00'.",
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2})?)?$",
    ),
]
TicketId = Annotated[str, Field(description="e.g. 'TCK-000042'.", pattern=r"^TCK-[0-9]{1,12}$")]
ShortText = Annotated[str, Field(description="One line, at most 200 characters.", min_length=1, max_length=200)]
LongText = Annotated[str, Field(description="Free text, at most 4000 characters.", min_length=1, max_length=4000)]
NewItemIds = Annotated[
    list[ItemId],
    Field(
        description="One new item id per entry of item_ids, in order.",
        min_length=1,
        max_length=50,
    ),
]
