"""What a client sees when it lists the tools: names, schemas, annotations, instructions."""

from mcp import Client

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
