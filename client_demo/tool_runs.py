"""A tool call as the agent loop (loop.py) makes it: the session it calls (`ToolSession`), one call's result
and where its time went (`ToolRun`), and the small helpers for its result and its trace line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from mcp.types import CallToolResult


class ToolSession(Protocol):
    async def call_tool(self, name: str, arguments: dict[str, Any]) -> CallToolResult: ...


@dataclass
class ToolRun:
    """One tool call's result for Claude, and where its time went."""

    content: str | list[dict[str, Any]]  # tool_result content: text, or blocks when there is more than text
    is_error: bool
    seconds: float | None = None  # the tool's own run time; None: it was not run
    approval_wait: float | None = None  # waiting for the person's yes or no; None: no one was asked

    @property
    def text(self) -> str:
        """The result as one line of text for the console; other blocks show as their type."""
        if isinstance(self.content, str):
            return self.content
        return " ".join(block["text"] if block["type"] == "text" else f"[{block['type']}]" for block in self.content)

    @property
    def size(self) -> int:
        """Characters sent to Claude: the text, or the blocks as JSON (image data included)."""
        return len(self.content if isinstance(self.content, str) else json.dumps(self.content))


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def with_note(content: str | list[dict[str, Any]], note: str) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return f"{content}\n{note}"
    return [*content, {"type": "text", "text": note}]


def milliseconds(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)
