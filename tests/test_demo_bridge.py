"""The MCP -> Claude tool conversion and the tool-group selection, as pure functions."""

from mcp.types import (
    CallToolResult,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
    TextResourceContents,
    Tool,
    ToolAnnotations,
)

from shopdesk_demo.bridge import MAX_STRICT_TOOLS, claude_tools, is_destructive, select_tools, tool_result_content


def tool(name: str, properties: dict, required: list[str], **annotations: bool) -> Tool:
    return Tool(
        name=name,
        description=f"{name} does a thing.",
        annotations=ToolAnnotations(**annotations) if annotations else None,
        input_schema={"type": "object", "properties": properties, "required": required, "additionalProperties": False},
    )


ORDER = tool(
    "get_order_details",
    {"order_id": {"type": "string", "pattern": "^#W\\d+$", "description": "Order id."}},
    ["order_id"],
    read_only_hint=True,
)
SEARCH = tool(
    "search_orders",
    {"status": {"type": "string"}, "limit": {"type": "integer", "default": 20}},
    [],
    read_only_hint=True,
)
CANCEL = tool(
    "cancel_pending_order", {"order_id": {"type": "string"}}, ["order_id"], read_only_hint=False, destructive_hint=True
)
EMAIL = tool("find_user_id_by_email", {"email": {"type": "string"}}, ["email"], read_only_hint=True)
TICKET = tool(
    "create_ticket", {"subject": {"type": "string"}}, ["subject"], read_only_hint=False, destructive_hint=False
)


def test_names_descriptions_and_schemas_carry_over_in_order() -> None:
    definitions = claude_tools([ORDER, SEARCH, CANCEL])
    assert [d["name"] for d in definitions] == ["get_order_details", "search_orders", "cancel_pending_order"]
    assert definitions[0]["description"] == "get_order_details does a thing."
    assert definitions[0]["input_schema"]["properties"]["order_id"]["type"] == "string"


def test_strict_only_where_every_argument_is_required() -> None:
    order, search, cancel = claude_tools([ORDER, SEARCH, CANCEL])
    assert order["strict"] is True and cancel["strict"] is True
    assert "strict" not in search
    assert search["input_schema"] == SEARCH.input_schema  # passed through untouched
    # Constraints strict mode does not support move into the description, so the model still sees them.
    order_id = order["input_schema"]["properties"]["order_id"]
    assert "pattern" not in order_id and "^#W" in order_id["description"]
    assert order["input_schema"]["additionalProperties"] is False


def test_strict_tools_are_capped() -> None:
    many = [tool(f"t{i}", {"a": {"type": "string"}}, ["a"]) for i in range(MAX_STRICT_TOOLS + 3)]
    assert sum(1 for d in claude_tools(many) if d.get("strict")) == MAX_STRICT_TOOLS


def test_only_the_last_tool_carries_the_cache_breakpoint() -> None:
    definitions = claude_tools([ORDER, SEARCH, CANCEL])
    assert [d.get("cache_control") for d in definitions] == [None, None, {"type": "ephemeral"}]
    assert claude_tools([ORDER, SEARCH, CANCEL]) == definitions  # pure: same input, same output


def test_destructive_follows_the_annotations_and_the_spec_defaults() -> None:
    assert is_destructive(CANCEL)
    assert not is_destructive(ORDER)
    assert not is_destructive(TICKET)  # writes, but only adds
    assert is_destructive(tool("mystery", {}, []))  # no annotations: assume the worst


def test_tool_groups_follow_the_conversation() -> None:
    tools = [ORDER, SEARCH, CANCEL, EMAIL, TICKET]
    assert [t.name for t in select_tools(tools, ["Please cancel my order"])] == [
        "get_order_details",
        "search_orders",
        "cancel_pending_order",
        "find_user_id_by_email",
    ]
    assert [t.name for t in select_tools(tools, ["I want to talk to a human"])] == [
        "find_user_id_by_email",
        "create_ticket",
    ]
    assert select_tools(tools, ["hello"]) == tools  # nothing called for: everything


def test_the_transfer_to_a_human_is_offered_whatever_the_conversation_is_about() -> None:
    transfer = tool("transfer_to_human_agents", {"summary": {"type": "string"}}, ["summary"])
    chosen = select_tools([ORDER, CANCEL, TICKET, transfer], ["Please cancel my order"])
    assert [t.name for t in chosen] == ["get_order_details", "cancel_pending_order", "transfer_to_human_agents"]


def test_a_text_result_goes_as_one_string() -> None:
    result = CallToolResult(
        content=[TextContent(type="text", text="Order #W1: delivered"), TextContent(type="text", text="2 items")]
    )
    assert tool_result_content(result) == "Order #W1: delivered\n2 items"


def test_other_blocks_go_as_claude_blocks_and_what_the_api_cannot_take_is_named() -> None:
    result = CallToolResult(
        content=[
            ImageContent(type="image", data="aGk=", mime_type="image/jpeg"),
            EmbeddedResource(
                type="resource",
                resource=TextResourceContents(
                    uri="file:///policy.txt", text="Returns within 30 days.", mime_type="text/plain"
                ),
            ),
            ResourceLink(type="resource_link", uri="file:///invoice.pdf", name="invoice"),
        ]
    )
    image, document, note = tool_result_content(result)
    assert image == {"type": "image", "source": {"type": "base64", "data": "aGk=", "media_type": "image/jpeg"}}
    assert document["type"] == "document" and document["source"]["data"] == "Returns within 30 days."
    assert note == {"type": "text", "text": "[left out: Unsupported MCP content type: resource_link]"}
