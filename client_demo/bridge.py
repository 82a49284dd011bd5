"""MCP tool listing -> Claude API tool definitions, and which tools a conversation needs.

`claude_tools` is a pure function: the same listing always gives the same definitions,
so the prompt cache (whose breakpoint sits on the last tool) keeps hitting.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from anthropic import transform_schema
from mcp.types import Tool

# The API accepts a limited number of strict tools per request; past it, tools go non-strict.
MAX_STRICT_TOOLS = 20
CACHE_BREAKPOINT = {"type": "ephemeral"}


def strict_compatible(schema: dict[str, Any]) -> bool:
    """Strict mode needs every property required (optional ones would have to become nullable, which
    changes what the tool receives). Schemas like that are passed through transform_schema."""
    properties = schema.get("properties", {})
    return schema.get("type") == "object" and set(properties) == set(schema.get("required", []))


def claude_tools(tools: Sequence[Tool]) -> list[dict[str, Any]]:
    """Claude tool definitions for MCP tools, in listing order, the last one carrying the cache breakpoint."""
    definitions: list[dict[str, Any]] = []
    strict_count = 0
    for tool in tools:
        schema = dict(tool.input_schema)
        definition: dict[str, Any] = {"name": tool.name, "description": tool.description or tool.title or tool.name}
        if strict_count < MAX_STRICT_TOOLS and strict_compatible(schema):
            definition["input_schema"] = transform_schema(schema)
            definition["strict"] = True
            strict_count += 1
        else:
            definition["input_schema"] = schema
        definitions.append(definition)
    if definitions:
        definitions[-1] = {**definitions[-1], "cache_control": CACHE_BREAKPOINT}
    return definitions


def is_destructive(tool: Tool) -> bool:
    """Per the MCP spec's defaults: a tool not marked read-only may write, and may destroy unless marked not to."""
    annotations = tool.annotations
    if annotations is None:
        return True
    if annotations.read_only_hint:
        return False
    return annotations.destructive_hint is not False


# Tool groups, by words in a tool's name, and the words in a conversation that call for each group.
GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "orders": (("order",), ("order", "cancel", "return", "exchange", "refund", "ship", "deliver", "track", "#w")),
    "catalogue": (("product", "item"), ("product", "item", "size", "color", "colour", "variant", "swap", "exchange")),
    "tickets": (("ticket", "human", "escalat"), ("ticket", "complain", "human", "escalat", "agent", "follow")),
}
ALWAYS = "core"  # identifying the customer, profiles, arithmetic: every conversation needs these


def group_of(tool_name: str) -> str:
    for group, (name_words, _) in GROUPS.items():
        if any(word in tool_name for word in name_words):
            return group
    return ALWAYS


def select_tools(tools: Sequence[Tool], conversation: Iterable[str]) -> list[Tool]:
    """The tools whose group the conversation's words call for, plus the core group.

    Cheap to decide (keywords, no model call) and stable: groups are only ever added as the
    conversation goes on, so the tool list changes rarely and the prompt cache keeps hitting.
    With no group called for, every tool is passed.
    """
    text = " ".join(conversation).lower()
    wanted = {group for group, (_, topic_words) in GROUPS.items() if any(word in text for word in topic_words)}
    if not wanted:
        return list(tools)
    return [tool for tool in tools if group_of(tool.name) in wanted | {ALWAYS}]
