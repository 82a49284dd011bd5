"""How every tool answers: structured content for programs, a short text for the model, honest annotations."""

from __future__ import annotations

from typing import TypeVar

from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel

from ..domain.errors import NotFound


def present(model: BaseModel, text: str) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=model.model_dump(mode="json", exclude_none=False),
    )


T = TypeVar("T")


def must_exist(value: T | None, what: str, next_step: str) -> T:
    """`value`, which must have been found: None raises NotFound naming what was looked for."""
    if value is None:
        raise NotFound(f"{what} was not found.", next_step)
    return value


def _hints(title: str, *, read_only: bool, destructive: bool = False, idempotent: bool = False) -> ToolAnnotations:
    return ToolAnnotations(
        title=title,
        read_only_hint=read_only,
        destructive_hint=destructive,
        idempotent_hint=idempotent,
        open_world_hint=False,
    )


def lookup(title: str) -> ToolAnnotations:
    """Reads only."""
    return _hints(title, read_only=True, idempotent=True)


def change(title: str) -> ToolAnnotations:
    """Overwrites or moves money; a repeat with the same arguments is refused or changes nothing more."""
    return _hints(title, read_only=False, destructive=True, idempotent=True)


def addition(title: str) -> ToolAnnotations:
    """Adds a record or message; each call adds another."""
    return _hints(title, read_only=False, destructive=False, idempotent=False)
