"""Each tool is declared once, beside its handler: its toolset, the scope it needs, what a customer-bound
session may pass it, its annotations, its version and its view. Everything else reads the declaration: the
access gate (scope, binding), the toolset choice and the listing (toolset, version), the MCP Apps views.

    @tool(lookup("Get a product and its variants"), toolset="catalog", scope="catalog:read", binding=Binding())
    async def get_product_details(shop: Shop, product_id: ProductId) -> Annotated[CallToolResult, Product]:
        '''The description the model reads.'''

A handler takes the shop first; the rest of its parameters are the tool's arguments. A destructive tool the
person confirms is declared with `confirmed_write`: it returns the plan of the write, and the write path
builds the preview, the person's consent and the tool around it (writes/path.py).

Closed by default: the scope has no default, and a tool declared without a binding is not offered to a
session bound to a customer.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context, Resolve
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import BaseModel

from ..access.caller import Binding, ToolAccess
from ..shop import Shop
from ..surface import apps
from ..surface.mcp_server import ShopServer
from ..writes.confirm import ConfirmationToken, Consent, Preview
from ..writes.path import consent_resolver, perform_confirmed, preview_of
from ..writes.plans import IdempotencyKey, Planner, Write

Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    module: str  # where it is declared
    toolset: str
    access: ToolAccess
    annotations: ToolAnnotations
    version: str
    view: str | None
    build: Callable[[Shop], Handler]  # the tool's function for one shop, as the SDK registers it

    def register(self, server: ShopServer, shop: Shop) -> None:
        meta = apps.ui(self.view) if self.view else None
        server.tool(annotations=self.annotations, meta=meta)(self.build(shop))


# Every declared tool by name (tools/__init__.py imports every tool module, and orders them).
DECLARED: dict[str, ToolSpec] = {}


def _declare(spec: ToolSpec) -> None:
    if spec.name in DECLARED:
        raise ValueError(f"tool {spec.name} is declared twice")
    DECLARED[spec.name] = spec


def tool(
    annotations: ToolAnnotations,
    *,
    toolset: str,
    scope: str | None,
    binding: Binding | None = None,
    view: str | None = None,
    version: str = "1.0.0",
) -> Callable[[Handler], Handler]:
    """Declare the handler below as a tool (see the module's docstring)."""

    def declare(handler: Handler) -> Handler:
        access = ToolAccess(scope, binding)
        _declare(
            ToolSpec(
                handler.__name__, handler.__module__, toolset, access, annotations, version, view, _shop_bound(handler)
            )
        )
        return handler

    return declare


def confirmed_write(
    annotations: ToolAnnotations,
    *,
    toolset: str,
    scope: str,
    output: type[BaseModel],
    binding: Binding | None = None,
    version: str = "1.0.0",
) -> Callable[[Callable[..., Planner]], Callable[..., Planner]]:
    """Declare a destructive tool the person confirms. The function below takes the tool's arguments and
    returns the write's plan; its docstring is the tool's description."""

    def declare(planner: Callable[..., Planner]) -> Callable[..., Planner]:
        name = planner.__name__
        access = ToolAccess(scope, binding)
        build = _confirmed(name, planner, output)
        _declare(ToolSpec(name, planner.__module__, toolset, access, annotations, version, None, build))
        return planner

    return declare


def _shop_bound(handler: Handler) -> Callable[[Shop], Handler]:
    """The handler with its first parameter (the shop) filled in, and a signature the SDK reads as the tool's."""
    signature = inspect.signature(handler, eval_str=True)
    parameters = list(signature.parameters.values())[1:]

    def build(shop: Shop) -> Handler:
        async def call(**arguments: Any) -> Any:
            return await handler(shop, **arguments)

        return _named(call, handler, signature.replace(parameters=parameters))

    return build


def _confirmed(name: str, planner: Callable[..., Planner], output: type[BaseModel]) -> Callable[[Shop], Handler]:
    """Build the tool, its `preview` resolver (what will change, in words) and its `consent` resolver (the
    person's yes) from the planner's own signature: one declaration instead of three functions."""
    signature = inspect.signature(planner, eval_str=True)
    arguments = list(signature.parameters.values())
    keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD

    def write(values: dict[str, Any]) -> Write:
        ordered = {p.name: values.get(p.name, p.default) for p in arguments}  # the audit row keeps this order
        return Write(name, ordered, planner(**ordered))

    def build(shop: Shop) -> Handler:
        async def preview(ctx: Context, idempotency_key: str | None = None, **values: Any) -> Preview:
            return await preview_of(shop, write(values), idempotency_key, ctx)

        # The SDK fills a resolver's parameters by name from the tool's arguments, and its Context by type.
        preview.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [inspect.Parameter(p.name, keyword) for p in arguments]
            + [
                inspect.Parameter("ctx", keyword, annotation=Context),
                inspect.Parameter("idempotency_key", keyword, default=None),
            ]
        )
        preview.__annotations__ = {"ctx": Context}
        ask = consent_resolver(shop, preview)

        async def call(
            preview: Preview,
            consent: ElicitationResult[Consent],
            idempotency_key: str | None = None,
            confirmation_token: str | None = None,
            **values: Any,
        ) -> CallToolResult:
            return await perform_confirmed(shop, write(values), idempotency_key, preview, consent, confirmation_token)

        tool_signature = inspect.Signature(
            [
                *arguments,
                inspect.Parameter("preview", keyword, annotation=Annotated[Preview, Resolve(preview)]),
                inspect.Parameter("consent", keyword, annotation=Annotated[ElicitationResult[Consent], Resolve(ask)]),
                inspect.Parameter("idempotency_key", keyword, default=None, annotation=IdempotencyKey),
                inspect.Parameter("confirmation_token", keyword, default=None, annotation=ConfirmationToken),
            ],
            return_annotation=Annotated[CallToolResult, output],
        )
        return _named(call, planner, tool_signature)

    return build


def _named(call: Handler, like: Callable[..., Any], signature: inspect.Signature) -> Handler:
    """`call`, presented to the SDK as the tool `like` declares: its name, description and signature."""
    call.__name__ = like.__name__
    call.__qualname__ = like.__qualname__
    call.__doc__ = like.__doc__
    call.__module__ = like.__module__
    call.__signature__ = signature  # type: ignore[attr-defined]
    call.__annotations__ = {p.name: p.annotation for p in signature.parameters.values() if p.annotation is not p.empty}
    call.__annotations__["return"] = signature.return_annotation
    return call
