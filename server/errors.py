"""Errors a tool call can end with, each telling the model what went wrong and what to do next.

    ToolError (MCP SDK)          -> an `isError` tool result the model reads
     └── ShopError               problem + next step, joined into one message
          ├── NotFound           an id that names nothing (or nothing of this customer's)
          ├── PolicyRefusal      the shop's rules forbid this action on this record
          ├── InvalidArguments   arguments of the wrong shape, unknown or missing
          └── Conflict           the record changed under us; read it again

A refused call changes nothing: every write runs in one transaction, and these
errors are raised before anything is written (or roll back what was).
"""

from __future__ import annotations

from mcp.server.mcpserver.exceptions import ToolError


class ShopError(ToolError):
    def __init__(self, problem: str, next_step: str) -> None:
        self.problem = problem
        self.next_step = next_step
        super().__init__(f"{problem} Next step: {next_step}")


class NotFound(ShopError):
    pass


class PolicyRefusal(ShopError):
    pass


class InvalidArguments(ShopError):
    pass


class Conflict(ShopError):
    pass
