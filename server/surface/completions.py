"""Argument completion (`completion/complete`): ids as the person types them, for prompts and resources.

An order, customer or ticket id argument completes to the ids that start with what was typed, in
order, at most 100 (the protocol's limit). Only ids the caller may read are offered: none without
the read scope, only the bound customer's own in a customer-bound session (access/gate.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from mcp.types import (
    Completion,
    CompletionArgument,
    CompletionContext,
    PromptReference,
    ResourceTemplateReference,
)

from ..access.caller import current_caller
from ..domain.resource_uris import ORDER_TEMPLATE
from ..shop import Shop
from ..storage.repositories import completion
from ..storage.repositories.rows import Connection
from .mcp_server import ShopServer

MAX_VALUES = 100

Finder = Callable[[Connection, str, str | None, int], Awaitable[list[str]]]

# Argument name: (the scope reading it needs, how to find ids starting with a prefix).
ARGUMENTS: dict[str, tuple[str, Finder]] = {
    "order_id": ("orders:read", completion.order_ids),
    "user_id": ("customers:read", completion.user_ids),
    "ticket_id": ("tickets:read", completion.ticket_ids),
}


def register(server: ShopServer, shop: Shop) -> None:
    @server.completion()  # type: ignore[untyped-decorator,no-untyped-call]  # the SDK leaves it untyped
    async def complete(
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion | None:
        known = ARGUMENTS.get(argument.name)
        caller = current_caller()
        if known is None or caller is None:
            return None
        scope, find = known
        if not caller.may_read(scope) or not await _exists(server, ref):
            return None
        if not completion.may_start_an_id(argument.value):
            return Completion(values=[], has_more=False)
        # Order ids start with '#', typed or not; in a URI they go without it (see resources.py).
        prefix = "#" + argument.value.removeprefix("#") if argument.name == "order_id" else argument.value
        found = await find(shop.db.read, prefix, caller.customer, MAX_VALUES + 1)
        in_uri = isinstance(ref, ResourceTemplateReference) and ref.uri == ORDER_TEMPLATE
        values = [value.removeprefix("#") if in_uri else value for value in found[:MAX_VALUES]]
        return Completion(values=values, has_more=len(found) > MAX_VALUES)


async def _exists(server: ShopServer, ref: PromptReference | ResourceTemplateReference) -> bool:
    """Whether `ref` names a prompt or resource template this server has."""
    if isinstance(ref, PromptReference):
        return ref.name in {prompt.name for prompt in await server.list_prompts()}
    return ref.uri in {template.uri_template for template in await server.list_resource_templates()}
