"""Who may do what: who is calling, the scope each tool needs, customer binding, read-only mode.

All of it is applied in one place, `AccessGate`: an SDK middleware around the tool, resource and
prompt requests, whose tool-call checks run as the server's call guard inside the tool handler (see
mcp_server.py: so its refusals have the tools' own wire form). It works out each request's caller once
(caller.py): the bearer token's (the SDK's gate has verified it), else the local operator with every scope.

- Scopes: a tool the caller lacks the scope for is not listed, and a call to it is answered as a
  name that is no tool (as is any tool not offered to the session). `admin` holds every scope.
- Read-only (`serve --read-only`): only read tools are listed or run. The database connections
  are opened read-only as well (see `Database.open`), so no code path can write.
- Customer binding (a token made with `--customer`, or `serve --customer`): the session sees and
  changes only that customer's profile, orders, payment methods and tickets. An id of another
  customer's record answers exactly like an id that names nothing; searches are confined to the
  customer; tools that search all customers are not offered. Each tool declares its scope and its
  `Binding` (which arguments name whose records) where it is defined (tools/declare.py); a tool declared
  without a binding is not offered to a bound session, and a name with no declaration needs `admin`.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, Prompt, Tool
from pydantic import BaseModel

from ..domain import not_found
from ..domain.errors import NotFound, ShopError, excerpt, no_such_tool
from ..domain.resource_uris import (
    CUSTOMER_TEMPLATE,
    EXPORT_TEMPLATE,
    ORDER_TEMPLATE,
    TICKET_TEMPLATE,
    order_id_from_uri,
)
from ..ops.observability import CALL_INFO
from ..shop import Shop
from ..storage.repositories import ownership
from ..storage.repositories.ownership import RecordKind
from .caller import UNDECLARED, Binding, Call, Caller, ToolAccess, current_caller, in_the_name_of
from .tokens import SCOPES, key_holder

# Record resources: the scope reading one needs, and whose record it is (see resources.py).
RESOURCE_RECORDS: dict[str, tuple[str, RecordKind]] = {
    ORDER_TEMPLATE: ("orders:read", "order"),
    CUSTOMER_TEMPLATE: ("customers:read", "customer"),
    TICKET_TEMPLATE: ("tickets:read", "ticket"),
}


def _read_only(tool: Tool) -> bool:
    return bool(tool.annotations and tool.annotations.read_only_hint)


def _as_dict(result: HandlerResult) -> dict[str, Any]:
    """A handler's result as its wire form (the SDK hands middleware either)."""
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json", by_alias=True, exclude_none=True)
    return result or {}


def _note_refusal(error: ShopError) -> None:
    info = CALL_INFO.get()
    if info is not None:  # for the call's log line and metrics
        info["error_class"] = type(error).__name__


def _well_formed(schema: Mapping[str, Any], value: object) -> bool:
    """Whether `value` fits the argument's string schema (its pattern and length); a value that does not
    is left to the tool, which refuses it as malformed before it looks anything up."""
    options = [schema, *schema.get("anyOf", [])]
    for option in options:
        kind = option.get("type")
        if "string" not in (kind if isinstance(kind, list) else [kind]) or not isinstance(value, str):
            continue
        if len(value) < option.get("minLength", 0) or len(value) > option.get("maxLength", len(value)):
            continue
        pattern = option.get("pattern")
        if pattern is None or re.search(pattern, value):
            return True
    return False


def _template_scope(template: str) -> str:
    if template == EXPORT_TEMPLATE:
        return "orders:read"
    return RESOURCE_RECORDS[template][0] if template in RESOURCE_RECORDS else "admin"


def _record(uri: str) -> tuple[str, RecordKind, str] | None:
    """(scope, kind, id) of the record resource `uri` names; None for any other URI."""
    for template, (scope, kind) in RESOURCE_RECORDS.items():
        base = template.split("{")[0]
        if uri.startswith(base) and "/" not in uri.removeprefix(base):
            record_id = urllib.parse.unquote(uri.removeprefix(base))
            return scope, kind, order_id_from_uri(record_id) if kind == "order" else record_id
    return None


class AccessGate:
    """The SDK middleware that applies scopes, read-only mode and customer binding to every tool call,
    resource read and prompt."""

    def __init__(
        self,
        shop: Shop,
        declared: Mapping[str, ToolAccess],
        list_tools: Callable[[], Awaitable[list[Tool]]],
        prompt_tools: Mapping[str, Collection[str]] | None = None,
        list_prompts: Callable[[], Awaitable[list[Prompt]]] | None = None,
    ) -> None:
        self.shop = shop
        self.declared = declared
        self._list_tools = list_tools
        self._tools: dict[str, Tool] | None = None
        self._prompt_tools = prompt_tools or {}
        self._list_prompts = list_prompts

    def caller(self) -> Caller:
        settings = self.shop.settings
        token = get_access_token()
        if token is None:  # stdio, or HTTP without an auth file: the operator running shopdesk
            return Caller("local", frozenset(SCOPES), settings.customer, settings.read_only)
        claims = token.claims or {}
        subject = token.subject or token.client_id
        if "iss" in claims and subject != token.client_id:  # an OAuth token: a person, through a client
            subject = f"{subject} via {token.client_id}"
        holder = key_holder(token.token, claims)  # whose keys and confirmation tokens (access/tokens.py)
        return Caller(subject, frozenset(token.scopes), claims.get("customer"), settings.read_only, holder)

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        caller = self.caller()
        with in_the_name_of(caller):
            return await self._gate(ctx, call_next, caller)

    async def _gate(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext, caller: Caller) -> HandlerResult:
        if ctx.method == "tools/list":
            listing = _as_dict(await call_next(ctx))
            tools = [
                t
                for t in listing.get("tools", [])
                if caller.offered(
                    self.access(t["name"]), read_only=bool((t.get("annotations") or {}).get("readOnlyHint"))
                )
            ]
            return {**listing, "tools": tools}
        if ctx.method == "resources/templates/list":
            listing = _as_dict(await call_next(ctx))
            templates = [
                t for t in listing.get("resourceTemplates", []) if caller.may_read(_template_scope(t["uriTemplate"]))
            ]
            return {**listing, "resourceTemplates": templates}
        if ctx.method == "resources/read" and ctx.params is not None:
            await self._check_read(str(ctx.params.get("uri", "")), caller)
        if ctx.method == "prompts/list":
            listing = _as_dict(await call_next(ctx))
            offered = [p for p in listing.get("prompts", []) if await self._prompt_offered(p["name"], caller)]
            return {**listing, "prompts": offered}
        if ctx.method == "prompts/get" and ctx.params is not None:
            await self._check_prompt(str(ctx.params.get("name", "")), ctx.params.get("arguments") or {}, caller)
        return await call_next(ctx)

    async def _check_prompt(self, name: str, arguments: object, caller: Caller) -> None:
        """A prompt this caller is offered, with exactly its arguments; else invalid params saying what to send
        (the SDK would answer an internal error)."""
        prompts = {p.name: p for p in await self._list_prompts()} if self._list_prompts else {}
        if name not in prompts or not await self._prompt_offered(name, caller):
            offered = [p for p in prompts if await self._prompt_offered(p, caller)]
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"There is no prompt `{excerpt(name)}`; "
                + (f"the prompts are {', '.join(offered)}." if offered else "this session is offered none."),
            )
        declared = {a.name: a.required for a in prompts[name].arguments or []}
        given = set(arguments) if isinstance(arguments, Mapping) else set()
        missing = sorted(a for a, required in declared.items() if required and a not in given)
        unknown = sorted(given - set(declared))
        if missing or unknown:
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"The prompt {name} takes the arguments {', '.join(declared) or '(none)'}"
                + (f"; {', '.join(missing)} missing" if missing else "")
                + (f"; no argument named {', '.join(excerpt(u, 30) for u in unknown[:3])}" if unknown else "")
                + ".",
            )

    async def _check_read(self, uri: str, caller: Caller) -> None:
        """Refuse a record resource outside the caller's scopes, or another customer's (as if missing).
        An export needs orders:read; a customer-bound session's export holds its own orders only."""
        if uri.startswith(EXPORT_TEMPLATE.split("{")[0]) and not caller.may_read("orders:read"):
            raise MCPError(
                code=INVALID_PARAMS,
                message="Exporting orders needs the scope orders:read, which this session's token does not have.",
                data={"uri": uri},
            )
        record = _record(uri)
        if record is None:
            return
        scope, kind, record_id = record
        if not caller.may_read(scope):
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"Reading {excerpt(uri)} needs the scope {scope}, which this session's token does not have.",
                data={"uri": uri},
            )
        if caller.customer is None:
            return
        owner = record_id if kind == "customer" else await ownership.owner(self.shop.db.read, kind, record_id)
        if owner != caller.customer:
            raise MCPError(
                code=INVALID_PARAMS, message=str(_missing(kind, record_id, caller.customer)), data={"uri": uri}
            )

    async def _prompt_offered(self, name: str, caller: Caller) -> bool:
        """A prompt is offered when every tool it tells the model to use is offered to the caller."""
        if name not in self._prompt_tools:
            return False
        for tool_name in self._prompt_tools.get(name, ()):
            tool = await self._tool(tool_name)
            if tool is None or not caller.offered(self.access(tool_name), read_only=_read_only(tool)):
                return False
        return True

    def access(self, name: str) -> ToolAccess:
        return self.declared.get(name, UNDECLARED)

    def _binding(self, name: str) -> Binding:
        binding = self.access(name).binding
        assert binding is not None  # a tool without one is not offered to a bound session
        return binding

    async def _tool(self, name: str) -> Tool | None:
        if self._tools is None:
            self._tools = {tool.name: tool for tool in await self._list_tools()}
        return self._tools.get(name)

    async def guard_call(self, name: str, arguments: dict[str, Any], call: Call) -> Any:
        """The server's call guard (ShopServer.guard): runs inside the tool handler, so that what it refuses
        reaches the client in exactly the form of the tools' own refusals. A tool this caller is not
        offered answers as a name that is no tool; in a bound session another customer's record answers
        as a missing one."""
        tool = await self._tool(name)
        caller = current_caller() or self.caller()
        if tool is None:
            return await call(arguments)  # the server answers unknown names itself
        if not caller.offered(self.access(name), read_only=_read_only(tool)):
            info = CALL_INFO.get()
            if info is not None:  # the call's log line sent to the client names no tool, as for an unknown name
                info["not_offered"] = "yes"
            raise no_such_tool(name)
        if caller.customer is None:
            return await call(arguments)
        try:
            bound = await self._bind(tool, dict(arguments), caller.customer)
            result = await call(bound)
            finds = self._binding(name).finds
            if finds is not None:
                answer = _as_dict(result)
                structured = answer.get("structuredContent") or {}
                if not answer.get("isError") and structured.get("user_id") != caller.customer:
                    raise finds(bound)
        except ShopError as error:
            _note_refusal(error)
            raise
        return result

    async def _bind(self, tool: Tool, arguments: dict[str, Any], customer: str) -> dict[str, Any]:
        """The arguments confined to `customer`; raises the not-found of any record that is not theirs."""
        binding = self._binding(tool.name)
        if binding.fills is not None and arguments.get(binding.fills) is None:
            arguments[binding.fills] = customer
        properties = tool.input_schema.get("properties", {})
        for argument, kind in binding.ids.items():
            value = arguments.get(argument)
            if value is None or not _well_formed(properties.get(argument, {}), value):
                continue
            if kind == "customer":
                owner: str | None = value
            else:
                owner = await ownership.owner(self.shop.db.read, kind, value)
            if owner != customer:
                raise _missing(kind, value, customer)
        return arguments


def _missing(kind: RecordKind, record_id: str, customer: str) -> NotFound:
    if kind == "customer":
        return not_found.customer(record_id)
    if kind == "order":
        return not_found.order(record_id)
    if kind == "ticket":
        return not_found.ticket(record_id)
    return not_found.payment_method(customer, record_id)
