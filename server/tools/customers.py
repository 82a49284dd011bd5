"""Tools to identify customers, read their profile and change their default address."""

from __future__ import annotations

from typing import Annotated

from mcp.types import CallToolResult
from pydantic import Field

from ..access.caller import Binding, Caller
from ..domain import not_found, policy
from ..domain.errors import InvalidArguments
from ..domain.models import Address, CustomerPage, User, UserIdResult
from ..shop import Shop
from ..storage.repositories import customers as repo
from ..storage.repositories.rows import Connection
from ..surface import apps as apps_ui
from ..text import previews, render
from ..writes.plans import Plan, Planner, Written
from .arguments import (
    Address1,
    Address2,
    City,
    Country,
    Cursor,
    Email,
    FirstName,
    LastName,
    PageSize,
    State,
    UserId,
    Zip,
)
from .cursors import decode_cursor, encode_cursor
from .declare import confirmed_write, tool
from .results import change, lookup, present


@tool(
    lookup("Find a customer by email"),
    toolset="customers",
    scope="customers:read",
    binding=Binding(finds=lambda a: not_found.customer_with_email(str(a["email"]))),
)
async def find_user_id_by_email(shop: Shop, email: Email) -> Annotated[CallToolResult, UserIdResult]:
    """Find a customer's user id by email (any case). Identify the customer first; without an email,
    use find_user_id_by_name_zip."""
    user_id = await repo.find_user_id_by_email(shop.db.read, email)
    if user_id is None:
        raise not_found.customer_with_email(email)
    return present(UserIdResult(user_id=user_id), user_id)


@tool(
    lookup("Find a customer by name and zip"),
    toolset="customers",
    scope="customers:read",
    binding=Binding(finds=lambda a: not_found.customer_named(str(a["first_name"]), str(a["last_name"]), str(a["zip"]))),
)
async def find_user_id_by_name_zip(
    shop: Shop, first_name: FirstName, last_name: LastName, zip: Zip
) -> Annotated[CallToolResult, UserIdResult]:
    """Find a customer's user id by first and last name (any case) and zip, when they cannot give an
    email."""
    user_id = await repo.find_user_id_by_name_zip(shop.db.read, first_name, last_name, zip)
    if user_id is None:
        raise not_found.customer_named(first_name, last_name, zip)
    return present(UserIdResult(user_id=user_id), user_id)


@tool(
    lookup("Get a customer's profile"),
    toolset="customers",
    scope="customers:read",
    binding=Binding(ids={"user_id": "customer"}),
    view=apps_ui.CUSTOMER_VIEW,
)
async def get_user_details(shop: Shop, user_id: UserId) -> Annotated[CallToolResult, User]:
    """Get a customer's profile: name, email, address, payment methods (with gift card balances) and
    order ids."""
    user = await repo.get(shop.db.read, user_id)
    if user is None:
        raise not_found.customer(user_id)
    return present(user, render.user(user))


@confirmed_write(
    change("Change a customer's default address"),
    toolset="customers",
    scope="customers:write",
    output=User,
    binding=Binding(ids={"user_id": "customer"}),
)
def modify_user_address(
    user_id: UserId, address1: Address1, address2: Address2, city: City, state: State, country: Country, zip: Zip
) -> Planner:
    """Change the default address in a customer's profile (orders keep theirs)."""
    address = Address(address1=address1, address2=address2, city=city, state=state, country=country, zip=zip)

    async def plan(conn: Connection, caller: Caller) -> Plan:
        user = await repo.get(conn, user_id)
        if user is None:
            raise not_found.customer(user_id)

        async def apply(conn: Connection) -> Written:
            if not policy.address_changes(user.address, address):  # the same address again changes nothing
                return Written(user, render.user(user), user_id, user_id, changed=False)
            await repo.update_address(conn, user_id, address)
            details = {"changed": policy.changed_fields(user.address, address)}
            changed = user.model_copy(update={"address": address})
            return Written(changed, render.user(changed), user_id, user_id, details)

        if not policy.address_changes(user.address, address):
            return Plan("", apply)
        name = f"{user.name.first_name} {user.name.last_name}"
        return Plan(previews.customer_address(name, user.address, address), apply)

    return plan


@tool(lookup("Search customers"), toolset="customers", scope="customers:read", binding=Binding(hidden=True))
async def search_customers(
    shop: Shop,
    name: Annotated[
        str | None,
        Field(description="Start of first and/or last name, e.g. 'Ali Sm'.", max_length=100),
    ] = None,
    email: Annotated[str | None, Field(description="Start of the email.", max_length=254)] = None,
    phone: Annotated[str | None, Field(description="Start of the phone, e.g. '+1-555'.", max_length=30)] = None,
    zip: Annotated[str | None, Field(description="Exact zip code.", max_length=10)] = None,
    cursor: Cursor = None,
    limit: PageSize = 20,
) -> Annotated[CallToolResult, CustomerPage]:
    """Search customers by the start of name, email or phone, or by zip; a page and a cursor. For staff
    work: identify a caller with find_user_id_by_email."""
    if not any((name, email, phone, zip)):
        raise InvalidArguments(
            "search_customers needs at least one filter.", "Pass a name, email, phone or zip (or a part of it)."
        )
    rows, last = await repo.search(
        shop.db.read,
        name=name,
        email=email,
        phone=phone,
        zip_code=zip,
        after=decode_cursor("c", cursor),
        limit=limit,
    )
    page = CustomerPage(customers=rows, next_cursor=encode_cursor("c", last))
    return present(page, render.customer_page(page))
