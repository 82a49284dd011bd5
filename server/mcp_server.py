"""The MCP server class: the SDK's MCPServer, with arguments checked the way a model can act on.

The SDK ignores unknown argument names and reports bad ones as a raw pydantic
dump. Here an unknown name is refused, and every invalid field is named with
what it expects, in one short message. Input schemas say
`additionalProperties: false`, so clients know it before they call.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.types import Tool
from pydantic import ValidationError

from .errors import InvalidArguments
from .shop import Shop

_MAX_SHOWN_ERRORS = 5


def describe_validation_error(tool: str, error: ValidationError, schema: dict[str, Any]) -> InvalidArguments:
    properties = schema.get("properties", {})
    problems = []
    for err in error.errors()[:_MAX_SHOWN_ERRORS]:
        field = ".".join(str(part) for part in err["loc"]) or "arguments"
        problem = "is required" if err["type"] == "missing" else err["msg"][0].lower() + err["msg"][1:]
        hint = properties.get(str(err["loc"][0]), {}).get("description") if err["loc"] else None
        problems.append(f"`{field}` {problem}" + (f" (expected: {hint})" if hint else ""))
    more = len(error.errors()) - _MAX_SHOWN_ERRORS
    if more > 0:
        problems.append(f"and {more} more")
    return InvalidArguments(
        f"Invalid arguments for {tool}: " + "; ".join(problems) + ".",
        "Correct these arguments and call the tool again; nothing was changed.",
    )


class ShopServer(MCPServer[Any]):
    def __init__(self, shop: Shop, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, lifespan=shop.lifespan, **kwargs)
        self.shop = shop
        self._schemas: dict[str, dict[str, Any]] | None = None

    async def list_tools(self) -> list[Tool]:
        tools = await super().list_tools()
        for tool in tools:
            tool.input_schema = {**tool.input_schema, "additionalProperties": False}
        return tools

    async def _input_schemas(self) -> dict[str, dict[str, Any]]:
        if self._schemas is None:
            self._schemas = {tool.name: tool.input_schema for tool in await self.list_tools()}
        return self._schemas

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None) -> Any:
        schema = (await self._input_schemas()).get(name)
        if schema is not None:
            unknown = sorted(set(arguments) - set(schema.get("properties", {})))
            if unknown:
                known = ", ".join(schema.get("properties", {})) or "none"
                raise InvalidArguments(
                    f"{name} has no argument named {', '.join(f'`{u}`' for u in unknown)}.",
                    f"Call it again with only its arguments ({known}); nothing was changed.",
                )
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError) and not isinstance(exc, UnexpectedToolError) and schema:
                raise describe_validation_error(name, exc.__cause__, schema) from exc.__cause__
            raise
