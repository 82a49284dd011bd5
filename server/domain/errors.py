"""Errors a tool call can end with, each telling the model what went wrong and what to do next.

    ToolError (MCP SDK)          -> an `isError` tool result the model reads
     └── ShopError               problem + "Next step: ...", at most 300 characters, one line
          ├── NotFound           an id that names nothing (or nothing of this customer's)
          ├── PolicyRefusal      the shop's rules forbid this action on this record
          ├── InvalidArguments   arguments of the wrong shape, unknown or missing
          ├── Conflict           the record changed under us; read it again
          ├── StorageFailure     the database could not do it (read-only, disk full)
          │    └── DatabaseBusy  another program holds the lock: try again
          └── InternalError      a bug in shopdesk; the details stay in the server's log

Every message has the same form, whichever layer raised it, and never carries raw input: a
value echoed back is shortened and its control characters escaped (`excerpt`), and the whole
message is cut to its budget. A refused call changes nothing: every write runs in one
transaction, and these errors are raised before anything is written (or roll back what was).
"""

from __future__ import annotations

import unicodedata

from mcp.server.mcpserver.exceptions import ToolError

MESSAGE_BUDGET = 300
NEXT_STEP_BUDGET = 200  # the rest, at least 100 characters, is the problem's


def _escaped(text: str) -> str:
    """Control, format and unpaired surrogate characters written as escapes (\\n, \\x00, \\u202e)."""
    return "".join(
        char.encode("unicode_escape", "backslashreplace").decode("ascii")
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn") and char != " "
        else char
        for char in text
    )


def _shortened(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis, at a word boundary when one is near."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    space = cut.rfind(" ")
    return (cut[:space] if space >= limit * 0.6 else cut) + "…"


def excerpt(value: object, limit: int = 40) -> str:
    """A value from the caller, safe to echo: escaped and at most `limit` characters."""
    return _shortened(_escaped(str(value)), limit)


class ShopError(ToolError):
    budget = MESSAGE_BUDGET
    next_step_budget = NEXT_STEP_BUDGET

    def __init__(self, problem: str, next_step: str) -> None:
        self.next_step = _shortened(_escaped(next_step), self.next_step_budget)
        tail = f" Next step: {self.next_step}"
        self.problem = _shortened(_escaped(problem), self.budget - len(tail))
        super().__init__(self.problem + tail)


class NotFound(ShopError):
    pass


class PolicyRefusal(ShopError):
    pass


class InvalidArguments(ShopError):
    pass


class Conflict(ShopError):
    pass


class StorageFailure(ShopError):
    pass


class DatabaseBusy(StorageFailure):
    pass


class InternalError(ShopError):
    pass


def no_such_tool(name: str) -> InvalidArguments:
    """The answer to a name that is no tool, and to a tool this session is not offered: the same words."""
    return InvalidArguments(f"There is no tool named `{excerpt(name)}`.", "Call one of the tools this server lists.")
