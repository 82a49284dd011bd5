"""Tools to read the catalogue: product types, a product's variants, one item."""

from __future__ import annotations

import json
from typing import Annotated

from mcp.types import CallToolResult

from ..access.caller import Binding
from ..domain.models import ItemDetails, Product, ProductTypes
from ..shop import Shop
from ..storage.repositories import products as repo
from ..text import render
from .arguments import ItemId, ProductId
from .declare import tool
from .results import lookup, must_exist, present


@tool(lookup("List product types"), toolset="catalog", scope="catalog:read", binding=Binding())
async def list_all_product_types(shop: Shop) -> Annotated[CallToolResult, ProductTypes]:
    """List the product types the shop sells, as name -> product id."""
    types = await repo.product_types(shop.db.read)
    return present(ProductTypes(product_types=types), json.dumps(types, sort_keys=True))


@tool(lookup("Get a product and its variants"), toolset="catalog", scope="catalog:read", binding=Binding())
async def get_product_details(shop: Shop, product_id: ProductId) -> Annotated[CallToolResult, Product]:
    """Get a product's variant items: item id, options, price and availability."""
    product = must_exist(
        await repo.get(shop.db.read, product_id),
        f"Product {product_id}",
        "Check the id: list_all_product_types lists product ids (an item id is not a product id).",
    )
    return present(product, render.product(product))


@tool(lookup("Get one item (variant)"), toolset="catalog", scope="catalog:read", binding=Binding())
async def get_item_details(shop: Shop, item_id: ItemId) -> Annotated[CallToolResult, ItemDetails]:
    """Get one item (variant): its options, price, availability and product."""
    items = await repo.items(shop.db.read, [item_id])
    item = must_exist(
        items.get(item_id),
        f"Item {item_id}",
        "Check the id: get_order_details and get_product_details show item ids.",
    )
    return present(item, render.item(item))
