"""search_orders: filters, newest first, cursor pages; on a generated shop, which has order dates."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from shop_support import call, connected, refused

from shopdesk.app import build_server
from shopdesk.settings import Settings


@pytest.fixture
async def generated(tmp_path: Path) -> AsyncIterator[Client]:
    settings = Settings(db_path=tmp_path / "generated.sqlite3", seed_customers=30, seed_orders=120)
    async with connected(build_server(settings)) as c:
        yield c


async def all_pages(client: Client, **filters: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await call(client, "search_orders", limit=7, **filters, **({"cursor": cursor} if cursor else {}))
        found += page["orders"]
        cursor = page["next_cursor"]
        if cursor is None:
            return found


async def test_pages_cover_every_order_once_newest_first(generated: Client) -> None:
    orders = await all_pages(generated)
    assert len(orders) == 120
    assert len({o["order_id"] for o in orders}) == 120


def newest_first(orders: list[dict[str, Any]]) -> bool:
    dates = [o["placed_at"] for o in orders]
    return dates == sorted(dates, reverse=True)


async def test_pages_stay_in_placed_date_order(generated: Client) -> None:
    # The generator gives order ids and dates independently, so id order is not date order.
    everything = await all_pages(generated)
    assert newest_first(everything)
    pending = await all_pages(generated, status="pending")
    assert len(pending) > 7 and newest_first(pending)


async def test_a_customers_latest_order_comes_first(generated: Client) -> None:
    everything = await all_pages(generated)
    busiest = max({o["user_id"] for o in everything}, key=lambda u: sum(o["user_id"] == u for o in everything))
    theirs = await all_pages(generated, user_id=busiest)
    assert len(theirs) > 1 and newest_first(theirs)
    details = await call(generated, "get_user_details", user_id=busiest)
    assert details["orders"] == [o["order_id"] for o in reversed(theirs)]  # the profile lists oldest first


async def test_orders_without_a_date_page_by_id_with_no_repeats(client: Client, tau2_data: dict[str, Any]) -> None:
    # τ² orders have no placed date: they tie on it, and the cursor's id breaks the tie.
    pending = await all_pages(client, status="pending")
    expected = [o["order_id"] for o in tau2_data["orders"].values() if o["status"] == "pending"]
    assert sorted(o["order_id"] for o in pending) == sorted(expected)
    assert len({o["order_id"] for o in pending}) == len(pending)


async def test_a_cursor_from_another_search_kind_is_refused(generated: Client) -> None:
    page = await call(generated, "list_tickets", limit=1)
    assert page["next_cursor"] is None  # no tickets: make a customer-search cursor instead
    customers = await call(generated, "search_customers", zip="", name="a", limit=1)
    text = await refused(generated, "search_orders", cursor=customers["next_cursor"])
    assert "`cursor`" in text


async def test_filters_by_status_and_customer(generated: Client) -> None:
    pending = await all_pages(generated, status="pending")
    assert pending and all(o["status"] == "pending" for o in pending)
    user_id = pending[0]["user_id"]
    theirs = await all_pages(generated, user_id=user_id)
    details = await call(generated, "get_user_details", user_id=user_id)
    assert sorted(o["order_id"] for o in theirs) == sorted(details["orders"])


async def test_filters_by_date_range(generated: Client) -> None:
    orders = await all_pages(generated)
    dates = sorted(o["placed_at"] for o in orders)
    middle = dates[len(dates) // 2]
    later = await all_pages(generated, placed_from=middle)
    assert sorted(o["placed_at"] for o in later) == [d for d in dates if d >= middle]


async def test_filters_by_product_and_summarises_items(generated: Client) -> None:
    some = (await call(generated, "search_orders", limit=1))["orders"][0]
    order = await call(generated, "get_order_details", order_id=some["order_id"])
    assert some["item_names"] == [i["name"] for i in order["items"]]
    assert some["total"] == round(sum(i["price"] for i in order["items"]), 2)
    product_id = order["items"][0]["product_id"]
    with_product = await all_pages(generated, product_id=product_id)
    assert some["order_id"] in {o["order_id"] for o in with_product}
    for summary in with_product[:5]:
        full = await call(generated, "get_order_details", order_id=summary["order_id"])
        assert product_id in {i["product_id"] for i in full["items"]}


async def test_order_summary_text_names_the_orders(generated: Client) -> None:
    result = await generated.call_tool("search_orders", {"limit": 3})
    text = result.content[0].text  # type: ignore[union-attr]
    assert all(o["order_id"] in text for o in result.structured_content["orders"])  # type: ignore[index]
    assert "cursor" in text


async def test_bad_date_is_refused_with_the_expected_format(generated: Client) -> None:
    text = await refused(generated, "search_orders", placed_from="last tuesday")
    assert "placed_from" in text and "ISO 8601" in text
