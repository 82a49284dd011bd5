"""Products, items and the calculator."""

import json
from typing import Any

from mcp import Client
from shop_support import call, refused


async def test_product_types_map_names_to_ids_sorted(client: Client, tau2_data: dict[str, Any]) -> None:
    result = await client.call_tool("list_all_product_types", {})
    expected = {p["name"]: p["product_id"] for p in tau2_data["products"].values()}
    assert result.structured_content == {"product_types": expected}
    text = result.content[0].text  # type: ignore[union-attr]
    assert list(json.loads(text)) == sorted(expected)


async def test_product_details_list_every_variant(client: Client, tau2_data: dict[str, Any]) -> None:
    product = next(iter(tau2_data["products"].values()))
    assert await call(client, "get_product_details", product_id=product["product_id"]) == product


async def test_item_id_given_as_product_id_is_not_found(client: Client, tau2_data: dict[str, Any]) -> None:
    product = next(iter(tau2_data["products"].values()))
    item_id = next(iter(product["variants"]))
    text = await refused(client, "get_product_details", product_id=item_id)
    assert "item id is not a product id" in text


async def test_item_details_name_their_product(client: Client, tau2_data: dict[str, Any]) -> None:
    product = next(iter(tau2_data["products"].values()))
    variant = next(iter(product["variants"].values()))
    result = await call(client, "get_item_details", item_id=variant["item_id"])
    assert result == {**variant, "product_id": product["product_id"], "product_name": product["name"]}


async def test_calculate_rounds_to_cents(client: Client) -> None:
    result = await client.call_tool("calculate", {"expression": "(10 + 2.555) * 2 / 3"})
    assert result.structured_content == {"expression": "(10 + 2.555) * 2 / 3", "result": 8.37}
    assert result.content[0].text == "8.37"  # type: ignore[union-attr]


async def test_calculate_refuses_what_is_not_arithmetic(client: Client) -> None:
    assert "only numbers" in await refused(client, "calculate", expression="__import__('os')")
    assert "no powers" in await refused(client, "calculate", expression="9**9**9")
    assert "divides by zero" in await refused(client, "calculate", expression="1/0")
    assert "not a complete" in await refused(client, "calculate", expression="(1 + ")


async def test_calculate_handles_deep_nesting_within_the_length_bound(client: Client) -> None:
    assert (await call(client, "calculate", expression="(" * 150 + "1" + ")" * 150))["result"] == 1.0
    assert "nested too deeply" in await refused(client, "calculate", expression="(" * 249 + "1" + ")" * 249)
    assert (await call(client, "calculate", expression="-" * 499 + "1"))["result"] == -1.0
