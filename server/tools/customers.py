"""Tools to identify customers, read their profile and change their default address."""

# No `from __future__ import annotations`: the resolvers in modify_user_address's signature are local
# functions, which the SDK must see as objects.
from typing import Annotated

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context, Resolve
from mcp.types import CallToolResult
from pydantic import Field

from ..domain import not_found, policy
from ..domain.errors import InvalidArguments
from ..domain.models import Address, CustomerPage, User, UserIdResult
from ..shop import Shop
from ..storage.repositories import customers as repo
from ..storage.repositories.rows import Connection
from ..surface import apps as apps_ui
from ..surface.mcp_server import ShopServer
from ..text import previews, render
from ..writes.confirm import ConfirmationToken, Consent, Preview
from ..writes.path import IdempotencyKey, Plan, Write, Written, consent_resolver, perform_confirmed, preview_of
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
from .results import change, lookup, present


def _address(user_id: str, address: Address) -> Write:
    async def plan(conn: Connection) -> Plan:
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

    return Write("modify_user_address", {"user_id": user_id, **address.model_dump()}, plan)


def register(server: ShopServer, shop: Shop) -> None:
    @server.tool(annotations=lookup("Find a customer by email"))
    async def find_user_id_by_email(email: Email) -> Annotated[CallToolResult, UserIdResult]:
        """Find a customer's user id by email (any case). Identify the customer first; without an email,
        use find_user_id_by_name_zip."""
        user_id = await repo.find_user_id_by_email(shop.db.read, email)
        if user_id is None:
            raise not_found.customer_with_email(email)
        return present(UserIdResult(user_id=user_id), user_id)

    @server.tool(annotations=lookup("Find a customer by name and zip"))
    async def find_user_id_by_name_zip(
        first_name: FirstName, last_name: LastName, zip: Zip
    ) -> Annotated[CallToolResult, UserIdResult]:
        """Find a customer's user id by first and last name (any case) and zip, when they cannot give an
        email."""
        user_id = await repo.find_user_id_by_name_zip(shop.db.read, first_name, last_name, zip)
        if user_id is None:
            raise not_found.customer_named(first_name, last_name, zip)
        return present(UserIdResult(user_id=user_id), user_id)

    @server.tool(annotations=lookup("Get a customer's profile"), meta=apps_ui.ui(apps_ui.CUSTOMER_VIEW))
    async def get_user_details(user_id: UserId) -> Annotated[CallToolResult, User]:
        """Get a customer's profile: name, email, address, payment methods (with gift card balances) and
        order ids."""
        user = await repo.get(shop.db.read, user_id)
        if user is None:
            raise not_found.customer(user_id)
        return present(user, render.user(user))

    async def preview_address(
        user_id: str,
        address1: str,
        address2: str,
        city: str,
        state: str,
        country: str,
        zip: str,
        ctx: Context,
        idempotency_key: str | None = None,
    ) -> Preview:
        address = Address(address1=address1, address2=address2, city=city, state=state, country=country, zip=zip)
        return await preview_of(shop, _address(user_id, address), idempotency_key, ctx)

    ask_address = consent_resolver(shop, preview_address)

    @server.tool(annotations=change("Change a customer's default address"))
    async def modify_user_address(
        user_id: UserId,
        address1: Address1,
        address2: Address2,
        city: City,
        state: State,
        country: Country,
        zip: Zip,
        preview: Annotated[Preview, Resolve(preview_address)],
        consent: Annotated[ElicitationResult[Consent], Resolve(ask_address)],
        idempotency_key: IdempotencyKey = None,
        confirmation_token: ConfirmationToken = None,
    ) -> Annotated[CallToolResult, User]:
        """Change the default address in a customer's profile (orders keep theirs)."""
        address = Address(address1=address1, address2=address2, city=city, state=state, country=country, zip=zip)
        return await perform_confirmed(
            shop, _address(user_id, address), idempotency_key, preview, consent, confirmation_token
        )

    @server.tool(annotations=lookup("Search customers"))
    async def search_customers(
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
