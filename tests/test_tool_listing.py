"""What a client sees when it lists the tools: names, schemas, annotations, instructions, budgets, toolsets."""

import json
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from http_support import copy_shop, env, running
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.server.apps import Apps
from shop_support import connected

from shopdesk.app import build_server
from shopdesk.settings import Settings
from shopdesk.surface import apps as apps_ui
from shopdesk.tools import TOOLS
from shopdesk.tools.toolsets import ALL_TOOLS, TOOL_VERSIONS, TOOLSETS, ToolChoiceError, chosen_tools

TAU2_TOOLS = {
    "find_user_id_by_email": ["email"],
    "find_user_id_by_name_zip": ["first_name", "last_name", "zip"],
    "get_user_details": ["user_id"],
    "get_order_details": ["order_id"],
    "get_product_details": ["product_id"],
    "get_item_details": ["item_id"],
    "list_all_product_types": [],
    "cancel_pending_order": ["order_id", "reason"],
    "modify_pending_order_address": ["order_id", "address1", "address2", "city", "state", "country", "zip"],
    "modify_pending_order_payment": ["order_id", "payment_method_id"],
    "modify_pending_order_items": ["order_id", "item_ids", "new_item_ids", "payment_method_id"],
    "modify_user_address": ["user_id", "address1", "address2", "city", "state", "country", "zip"],
    "exchange_delivered_order_items": ["order_id", "item_ids", "new_item_ids", "payment_method_id"],
    "return_delivered_order_items": ["order_id", "item_ids", "payment_method_id"],
    "calculate": ["expression"],
    "transfer_to_human_agents": ["summary"],
}
WRITES = {
    "cancel_pending_order",
    "modify_pending_order_address",
    "modify_pending_order_payment",
    "modify_pending_order_items",
    "modify_user_address",
    "exchange_delivered_order_items",
    "return_delivered_order_items",
    "set_ticket_status",
    "escalate_ticket",
}
ADDITIONS = {"create_ticket", "add_ticket_message", "transfer_to_human_agents"}


async def test_tau2_tools_have_exactly_the_benchmark_names_and_arguments(client: Client) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    for name, arguments in TAU2_TOOLS.items():
        assert name in tools, name
        schema = tools[name].input_schema
        # Writes take an optional idempotency_key (and confirmation_token) too; the benchmark's calls still fit.
        optional = {"idempotency_key", "confirmation_token"} if name in WRITES | ADDITIONS else set()
        assert sorted(set(schema.get("properties", {})) - optional) == sorted(arguments), name
        assert sorted(schema.get("required", [])) == sorted(arguments), name


async def test_desk_tools_beyond_the_benchmark_are_listed(client: Client) -> None:
    names = {t.name for t in (await client.list_tools()).tools}
    assert {
        "search_orders",
        "search_customers",
        "create_ticket",
        "get_ticket",
        "list_tickets",
        "add_ticket_message",
        "set_ticket_status",
        "escalate_ticket",
    } <= names


async def test_every_tool_has_description_output_schema_and_closed_input_schema(client: Client) -> None:
    for tool in (await client.list_tools()).tools:
        assert tool.description and len(tool.description) > 40, tool.name
        assert tool.output_schema and tool.output_schema.get("type") == "object", tool.name
        assert tool.input_schema["additionalProperties"] is False, tool.name
        for name, prop in tool.input_schema.get("properties", {}).items():
            assert prop.get("description"), f"{tool.name}.{name} has no description"


async def test_annotations_tell_the_truth(client: Client) -> None:
    for tool in (await client.list_tools()).tools:
        a = tool.annotations
        assert a is not None and a.title, tool.name
        assert a.open_world_hint is False
        if tool.name in WRITES:
            assert (a.read_only_hint, a.destructive_hint, a.idempotent_hint) == (False, True, True), tool.name
        elif tool.name in ADDITIONS:
            assert (a.read_only_hint, a.destructive_hint, a.idempotent_hint) == (False, False, False), tool.name
        else:
            assert a.read_only_hint is True, tool.name


async def test_server_publishes_instructions_that_say_identify_first_and_confirm(client: Client) -> None:
    text = client.instructions or ""
    assert "find_user_id_by_email" in text
    assert "explicit yes" in text


async def test_descriptions_carry_no_docstring_indentation(client: Client) -> None:
    for tool in (await client.list_tools()).tools:
        assert tool.description and not any(line.startswith(" ") for line in tool.description.splitlines()), tool.name


async def published(client: Client) -> list[dict[str, Any]]:
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in (await client.list_tools()).tools]


def without_views(listing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The listing less the MCP Apps extension's `_meta.ui` entries (issue 12 lets the listing grow by them)."""
    return [
        {**tool, "_meta": {key: value for key, value in tool["_meta"].items() if key != "ui"}}
        if "_meta" in tool
        else tool
        for tool in listing
    ]


async def test_the_listing_fits_its_budget(client: Client) -> None:
    """All tools on: the whole compact listing in 35 KB (not counting the views' `_meta.ui`), and what a model
    reads of it (name, description, input schema) in 4,000 tokens at four characters a token."""
    listing = await published(client)
    assert len(listing) == len(ALL_TOOLS)
    assert len(json.dumps({"tools": without_views(listing)}, separators=(",", ":"))) <= 35_000
    model_facing = sum(
        len(t["name"]) + len(t["description"]) + len(json.dumps(t["inputSchema"], separators=(",", ":")))
        for t in listing
    )
    assert model_facing / 4 <= 4_000


async def test_the_views_add_only_their_meta_ui_to_the_listing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the MCP Apps views the listing differs from one without them only by `_meta.ui` on the tools that
    have a view: what a model reads (name, description, input schema) and everything else are the same bytes."""
    async with connected(build_server(settings)) as client:
        with_views = await published(client)
    monkeypatch.setattr(apps_ui, "ui", lambda uri: None)
    monkeypatch.setattr(apps_ui, "extension", lambda enabled: Apps())
    async with connected(build_server(settings)) as client:
        plain = await published(client)
    assert {t["name"] for t in with_views if "ui" in t.get("_meta", {})} == {
        spec.name for spec in TOOLS if spec.view in apps_ui.VIEWS
    }
    assert not any("ui" in t.get("_meta", {}) for t in plain)
    assert json.dumps(without_views(with_views)) == json.dumps(plain)

    def model_facing(listing: list[dict[str, Any]]) -> str:
        return json.dumps([[t["name"], t["description"], t["inputSchema"]] for t in listing])

    assert model_facing(with_views) == model_facing(plain)


async def test_the_listing_is_the_same_bytes_every_time_and_for_every_session(settings: Settings) -> None:
    server = build_server(settings)
    async with connected(server) as one, connected(server) as two:
        first = json.dumps(await published(one))
        assert json.dumps(await published(one)) == first
        assert json.dumps(await published(two)) == first


async def test_no_schema_carries_generated_titles_or_null_options(client: Client) -> None:
    text = json.dumps(await published(client))
    assert '"title"' not in text.replace('"annotations": {"title"', "")
    assert '{"type": "null"}' not in text


async def test_tools_that_return_a_read_tools_object_point_at_its_schema(client: Client) -> None:
    tools = {t["name"]: t for t in await published(client)}
    full = tools["get_order_details"]["outputSchema"]
    assert "items" in full["properties"] and "payment_history" in full["properties"]
    short = tools["cancel_pending_order"]["outputSchema"]
    assert "get_order_details" in short["description"]
    assert set(short["required"]) == {"order_id", "user_id", "status"}
    assert short.get("additionalProperties", True) is True  # open: the whole order still validates
    result = await client.call_tool("cancel_pending_order", {"order_id": "#W0000000", "reason": "no longer needed"})
    assert result.is_error  # no such order; the point is the call went through the shared schema


@pytest.mark.parametrize("toolset", sorted(TOOLSETS))
async def test_one_toolset_offers_its_tools_and_the_instructions_name_no_other(
    settings: Settings, toolset: str
) -> None:
    async with connected(build_server(replace(settings, toolsets=(toolset,)))) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names == set(TOOLSETS[toolset])
        off = set(ALL_TOOLS) - names
        assert not off & set(re.findall(r"[a-z_]+", client.instructions or ""))
        other = sorted(off)[0]
        result = await client.call_tool(other, {})
        assert result.is_error and f"no tool named `{other}`" in result.content[0].text  # type: ignore[union-attr]


async def test_single_tools_add_to_the_toolsets(settings: Settings) -> None:
    chosen = replace(settings, toolsets=("catalog",), tools=("get_order_details",))
    async with connected(build_server(chosen)) as client:
        names = {t.name for t in (await client.list_tools()).tools}
    assert names == {*TOOLSETS["catalog"], "get_order_details"}
    alone = replace(settings, toolsets=None, tools=("get_ticket",))
    async with connected(build_server(alone)) as client:
        assert [t.name for t in (await client.list_tools()).tools] == ["get_ticket"]


def test_unknown_toolsets_and_tools_are_refused_by_name() -> None:
    with pytest.raises(ToolChoiceError, match="unknown toolset nope; the toolsets are customers, orders"):
        chosen_tools(["orders", "nope"])
    with pytest.raises(ToolChoiceError, match="unknown tool get_everything"):
        chosen_tools(None, ["get_everything"])
    assert chosen_tools(["all"]) == chosen_tools(None) == frozenset(ALL_TOOLS)


def test_every_tool_is_declared_once_with_a_toolset_and_a_version() -> None:
    declared = [spec.name for spec in TOOLS]
    assert sorted(ALL_TOOLS) == sorted(set(declared)) == sorted(declared) == sorted(TOOL_VERSIONS)
    assert {name for names in TOOLSETS.values() for name in names} == set(declared)


@pytest.mark.slow
async def test_toolsets_apply_over_http_and_stdio_alike(tmp_path: Path, tau2_template: Path) -> None:
    db = copy_shop(tau2_template, tmp_path)
    with running(db, "--toolsets", "tickets", "--tools", "get_order_details") as server:
        async with connected(server.url) as client:
            over_http = sorted(t.name for t in (await client.list_tools()).tools)
    chosen = {"SHOPDESK_TOOLSETS": "tickets", "SHOPDESK_TOOLS": "get_order_details"}
    stdio = StdioServerParameters(
        command=sys.executable, args=["-m", "shopdesk", "serve", "--db", str(db)], env={**env(), **chosen}
    )
    async with connected(stdio) as client:
        over_stdio = sorted(t.name for t in (await client.list_tools()).tools)
    assert over_http == over_stdio == sorted([*TOOLSETS["tickets"], "get_order_details"])
