"""The MCP server class: the SDK's MCPServer, with strict arguments and one error style.

What it relies on in the SDK (mcp 2.x):
- `MCPServer.call_tool` validates arguments against the tool's signature with pydantic and
  ignores names the signature does not have; a bad value comes back as a `ToolError` whose
  `__cause__` is the `ValidationError` (a raw pydantic dump). Here an unknown name is refused,
  and every invalid field is named with what it expects, in one short message. Input schemas
  say `additionalProperties: false`, so clients know it before they call.
- A `ToolError` raised inside a tool comes back wrapped as `ToolError("Error executing tool
  NAME: ...")` with the original as `__cause__`, and anything else as `UnexpectedToolError`.
  Here the wrapper is taken off, so every message the model reads has one form, "problem.
  Next step: ...", whichever layer raised it; a database failure says what happened, and a
  crash is logged here with its traceback and reaches the model without its details.
- A call to a tool that writes whose arguments fail its schema never reaches the tool, so the write
  path cannot audit it: `refused_write` (set by app.py) is told of it here. Nor does a confirmation
  whose answer the SDK cannot read (accepted with no content, or content not matching the form): the
  SDK raises a plain `ToolError` naming the resolver while it fulfils the resolver's `Elicit`, with no
  type of its own. The shop's own errors are ShopErrors and bad arguments carry a ValidationError, so
  a plain ToolError from inside a call is that, and is answered and audited as a declined write.
- A middleware that answers a call itself owns the answer's wire form: the SDK serializes only what
  the tool handler returns. So the access gate (access/gate.py) refuses from inside the handler, through
  `guard`, and its refusals are the same bytes as the tools' own (a customer-bound session cannot tell
  another customer's record from a missing one by the shape of the answer).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.types import Tool
from pydantic import ValidationError

from ..access.caller import CallGuard
from ..domain.errors import (
    DatabaseBusy,
    InternalError,
    InvalidArguments,
    ShopError,
    StorageFailure,
    excerpt,
    no_such_tool,
)
from ..ops.observability import CALL_INFO, Metrics
from ..storage.database import describe, is_storage_error
from ..writes.confirm import UnreadableAnswer
from .listing import lean, share_output_schemas
from .session_book import SessionBook

log = logging.getLogger("shopdesk")

_MAX_SHOWN_ERRORS = 3
_MAX_HINT = 80


def describe_validation_error(tool: str, error: ValidationError, schema: dict[str, Any]) -> InvalidArguments:
    properties = schema.get("properties", {})
    problems = []
    for err in error.errors()[:_MAX_SHOWN_ERRORS]:
        field = ".".join(excerpt(part, 30) for part in err["loc"]) or "arguments"
        problem = "is required" if err["type"] == "missing" else err["msg"][0].lower() + err["msg"][1:]
        hint = properties.get(str(err["loc"][0]), {}).get("description") if err["loc"] else None
        problems.append(
            f"`{field}` {excerpt(problem, 100)}" + (f" (expected: {excerpt(hint, _MAX_HINT)})" if hint else "")
        )
    more = len(error.errors()) - _MAX_SHOWN_ERRORS
    if more > 0:
        problems.append(f"and {more} more")
    return InvalidArguments(
        f"Invalid arguments for {tool}: " + "; ".join(problems) + ".",
        "Correct these arguments and call the tool again; nothing was changed.",
    )


def _storage_cause(exc: BaseException) -> BaseException | None:
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
        if is_storage_error(exc):
            return exc
    return None


def storage_failure(tool: str, error: BaseException) -> StorageFailure:
    problem = describe(error)
    message = f"{tool} could not be completed: {problem}. Nothing was changed."
    if "busy" in problem:
        return DatabaseBusy(message, "Try the same call again in a moment.")
    return StorageFailure(message, "Tell the person that the shop's system cannot do this right now; try again later.")


def _holding_nul(value: object, name: str = "") -> str | None:
    """The name of the first argument with a NUL character in its text (PostgreSQL stores no text with one,
    and refuses the query with an error of its own; no record holds one on SQLite either)."""
    if isinstance(value, str):
        return name if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _holding_nul(item, f"{name}.{key}" if name else str(key))
        if found is not None:
            return found
    return None


class ShopServer(MCPServer[Any]):
    """An MCPServer whose tools take only the arguments they declare and answer errors in one form."""

    def __init__(
        self, *args: Any, tool_versions: Mapping[str, str], hidden_arguments: Collection[str] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.tool_versions = tool_versions
        self.hidden_arguments = frozenset(hidden_arguments)
        self._listing: list[Tool] | None = None
        self._schemas: dict[str, dict[str, Any]] | None = None
        # Told of each call to a write tool refused for its arguments: (tool, arguments it declares, refusal).
        self.refused_write: Callable[[str, Mapping[str, Any], ShopError], Awaitable[None]] | None = None
        self.guard: CallGuard | None = None  # app.py sets the access gate's
        self.metrics = Metrics()  # served at /metrics (see app.py); HTTP's limits count in it too (transport/serve.py)
        self.session_book = SessionBook()  # who holds which HTTP session (transport/http_limits.py)

    async def list_tools(self) -> list[Tool]:
        """The published listing (see listing.py), made once: the same bytes for every client, every time."""
        if self._listing is None:
            published = [
                lean(tool, self.tool_versions.get(tool.name), self.hidden_arguments)
                for tool in await super().list_tools()
            ]
            self._listing = share_output_schemas(published)
        return [tool.model_copy() for tool in self._listing]

    async def _input_schemas(self) -> dict[str, dict[str, Any]]:
        if self._schemas is None:
            self._schemas = {tool.name: tool.input_schema for tool in await self.list_tools()}
        return self._schemas

    async def _refused(self, name: str, arguments: Mapping[str, Any], error: ShopError) -> ShopError:
        """`error`, once a write tool's refusal is reported to `refused_write`."""
        tool = next((t for t in await self.list_tools() if t.name == name), None)
        writes = tool is not None and not (tool.annotations and tool.annotations.read_only_hint)
        if writes and self.refused_write is not None:
            declared = (await self._input_schemas())[name].get("properties", {})
            await self.refused_write(name, {k: v for k, v in arguments.items() if k in declared}, error)
        return error

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None) -> Any:
        if self.guard is None:
            return await self._call_tool(name, arguments, context)
        return await self.guard(name, arguments, lambda bound: self._call_tool(name, bound, context))

    async def _call_tool(self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None) -> Any:
        schema = (await self._input_schemas()).get(name)
        if schema is None:
            raise no_such_tool(name)
        known = schema.get("properties", {})
        unknown = sorted(set(arguments) - set(known))
        if unknown:
            shown = ", ".join(f"`{excerpt(u, 30)}`" for u in unknown[:3]) + (" and more" if len(unknown) > 3 else "")
            raise await self._refused(
                name,
                arguments,
                InvalidArguments(
                    f"Invalid arguments for {name}: it has no argument named {shown}.",
                    f"Call it again with only its own arguments ({', '.join(known) or 'none'}); nothing was changed.",
                ),
            )
        holding_nul = _holding_nul(arguments)
        if holding_nul is not None:
            raise await self._refused(
                name,
                arguments,
                InvalidArguments(
                    f"Invalid arguments for {name}: `{excerpt(holding_nul, 30)}` holds a NUL character (\\x00).",
                    "Call it again without that character; nothing was changed.",
                ),
            )
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            error = self._unwrapped(name, exc, schema)
            if isinstance(error, ShopError) and (
                isinstance(exc.__cause__, ValidationError) or isinstance(error, UnreadableAnswer)
            ):
                error = await self._refused(name, arguments, error)
            info = CALL_INFO.get()
            if info is not None:  # for the call's log line and metrics (see observability.CallObserver)
                info["error_class"] = type(error).__name__
            raise error from (None if error is exc.__cause__ else exc)

    def _unwrapped(self, name: str, exc: ToolError, schema: dict[str, Any]) -> ToolError:
        """The error the model should read for what the SDK wrapped as `exc`."""
        if isinstance(exc, UnexpectedToolError):
            storage = _storage_cause(exc)
            if storage is not None:
                return storage_failure(name, storage)
            log.error("tool %s crashed", name, exc_info=exc.__cause__ or exc)
            return InternalError(
                f"{name} failed because of an internal error in shopdesk (logged on the server).",
                "Read the record again to see whether anything changed before trying once more.",
            )
        if isinstance(exc.__cause__, ShopError):
            return exc.__cause__
        if isinstance(exc.__cause__, ValidationError):  # the arguments failed the schema (before any resolver ran)
            return describe_validation_error(name, exc.__cause__, schema)
        if type(exc.__cause__) is ToolError:  # a resolver's elicitation answer the SDK could not read (see above)
            return UnreadableAnswer(name)
        return exc
