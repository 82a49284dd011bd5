"""MCP tool listing -> Claude API tool definitions, MCP tool results -> tool_result content,
and which tools a conversation needs.

The SDK has MCP helpers of its own (`anthropic.lib.tools.mcp`, anthropic 2.14). `mcp_tool` /
`async_mcp_tool` wrap one MCP tool as a runnable tool for the beta `tool_runner()`: name and
description as listed, the input schema passed through untouched, and `strict` or `cache_control`
set only if the caller passes them for that tool; calling it calls the MCP tool and converts the
result (an `isError` result is raised as a `ToolError`), and the runner, not we, owns the loop.
`mcp_content` converts one MCP content block (text; png, jpeg, gif or webp images; embedded text,
PDF or image resources) to a Claude content block and refuses audio and resource links;
`mcp_message` converts a prompt message, `mcp_resource_to_content` and `mcp_resource_to_file` a
resource.

What this module adds, for a loop of our own (see loop.py):
- `claude_tools`, a pure function of the listing, so the prompt cache keeps hitting: strict mode
  only where every argument is required, with the schema passed through `transform_schema` (the SDK
  helper would send `strict` with the schema as it is, `pattern` and all); at most
  `MAX_STRICT_TOOLS` strict tools, the rest sent non-strict; the cache breakpoint on the last tool.
- `tool_result_content`: results converted block by block with the SDK's `mcp_content`; an
  all-text result kept as one string, and a block the API cannot take replaced by a note saying so,
  instead of the whole result failing.
- `is_destructive`, from the MCP annotations and the spec's defaults, for approvals.
- `select_tools`, the tool groups a conversation's words call for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from anthropic import transform_schema
from anthropic.lib.tools.mcp import UnsupportedMCPValueError, mcp_content
from mcp.types import CallToolResult, Tool

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


def tool_result_content(result: CallToolResult) -> str | list[dict[str, Any]]:
    """An MCP tool result as `tool_result` content, each block converted by the SDK's `mcp_content`.

    A result of text alone (every shopdesk tool's) goes as one string: the same to Claude, and
    readable in a trace. A block the API cannot take (audio, a resource link) becomes a note, so
    Claude knows something was left out and still gets the rest."""
    blocks: list[dict[str, Any]] = []
    for item in result.content:
        try:
            blocks.append(dict(mcp_content(item)))
        except UnsupportedMCPValueError as error:
            blocks.append({"type": "text", "text": f"[left out: {error}]"})
    if all(block["type"] == "text" for block in blocks):
        return "\n".join(block["text"] for block in blocks)
    return blocks


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
# The way out of any request the tools cannot handle, whatever the conversation is about.
ALWAYS_OFFERED = frozenset({"transfer_to_human_agents"})


def group_of(tool_name: str) -> str:
    if tool_name in ALWAYS_OFFERED:
        return ALWAYS
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
