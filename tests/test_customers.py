"""Identifying customers, reading and changing their profile, searching them."""

from typing import Any

import pytest
from mcp import Client
from shop_support import call, refused, snapshot

from shopdesk.storage.repositories import audit
from shopdesk.storage.repositories import customers as customers_repository
from shopdesk.storage.sqlite import Database


def some_user(data: dict[str, Any]) -> dict[str, Any]:
    return next(iter(data["users"].values()))


async def test_find_by_email_ignores_case(client: Client, tau2_data: dict[str, Any]) -> None:
    user = some_user(tau2_data)
    result = await client.call_tool("find_user_id_by_email", {"email": user["email"].upper()})
    assert result.structured_content == {"user_id": user["user_id"]}
    assert result.content[0].text == user["user_id"]  # type: ignore[union-attr]


async def test_unknown_email_says_how_else_to_find_the_customer(client: Client) -> None:
    text = await refused(client, "find_user_id_by_email", email="nobody@example.org")
    assert "not found" in text and "name + zip" in text


async def test_find_by_name_and_zip(client: Client, tau2_data: dict[str, Any]) -> None:
    user = some_user(tau2_data)
    result = await call(
        client,
        "find_user_id_by_name_zip",
        first_name=user["name"]["first_name"].lower(),
        last_name=user["name"]["last_name"].upper(),
        zip=user["address"]["zip"],
    )
    assert result == {"user_id": user["user_id"]}


async def test_name_with_wrong_zip_is_not_found(client: Client, tau2_data: dict[str, Any]) -> None:
    user = some_user(tau2_data)
    await refused(
        client,
        "find_user_id_by_name_zip",
        first_name=user["name"]["first_name"],
        last_name=user["name"]["last_name"],
        zip="00000",
    )


async def test_user_details_match_the_imported_profile(client: Client, tau2_data: dict[str, Any]) -> None:
    user = some_user(tau2_data)
    result = await client.call_tool("get_user_details", {"user_id": user["user_id"]})
    assert result.structured_content == {**user, "phone": None}
    text = result.content[0].text  # type: ignore[union-attr]
    assert user["email"] in text and all(order_id in text for order_id in user["orders"])


async def test_modify_user_address_changes_profile_and_is_audited(
    client: Client, db: Database, tau2_data: dict[str, Any]
) -> None:
    user = some_user(tau2_data)
    new = {
        "address1": "1 Elm Street",
        "address2": "Apt 3",
        "city": "Austin",
        "state": "TX",
        "country": "USA",
        "zip": "78701",
    }
    result = await call(client, "modify_user_address", user_id=user["user_id"], **new)
    assert result["address"] == new
    entries = await audit.entries(db.read, user["user_id"])
    assert [e["tool"] for e in entries] == ["modify_user_address"]
    assert entries[0]["details"] == {"changed": [k for k in new if new[k] != user["address"][k]]}


async def test_modify_address_of_unknown_user_changes_nothing(client: Client, db: Database) -> None:
    before = await snapshot(db)
    await refused(
        client,
        "modify_user_address",
        user_id="no_such_user_1",
        address1="1 A St",
        address2="",
        city="B",
        state="C",
        country="USA",
        zip="12345",
    )
    assert await snapshot(db) == before


async def test_search_customers_by_partial_name_pages_without_overlap(
    client: Client, tau2_data: dict[str, Any]
) -> None:
    first = some_user(tau2_data)["name"]["first_name"]
    expected = sorted(
        u["user_id"]
        for u in tau2_data["users"].values()
        if u["name"]["first_name"].lower().startswith(first[:3].lower())
        or u["name"]["last_name"].lower().startswith(first[:3].lower())
    )
    seen: list[str] = []
    cursor = None
    while True:
        args: dict[str, Any] = {"name": first[:3].lower(), "limit": 2}
        if cursor:
            args["cursor"] = cursor
        page = await call(client, "search_customers", **args)
        seen += [c["user_id"] for c in page["customers"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == expected and len(seen) == len(set(seen)) and len(seen) > 2


async def test_search_customers_by_zip_counts_orders(client: Client, tau2_data: dict[str, Any]) -> None:
    user = some_user(tau2_data)
    page = await call(client, "search_customers", zip=user["address"]["zip"])
    match = next(c for c in page["customers"] if c["user_id"] == user["user_id"])
    assert match["order_count"] == len(user["orders"])


async def test_search_customers_treats_wildcards_as_text(client: Client) -> None:
    page = await call(client, "search_customers", name="%")
    assert page["customers"] == []


async def test_search_customers_needs_a_filter(client: Client) -> None:
    assert "at least one filter" in await refused(client, "search_customers")


async def test_search_customers_rejects_a_forged_cursor(client: Client) -> None:
    text = await refused(client, "search_customers", name="a", cursor="not-a-cursor")
    assert "cursor" in text


async def test_same_address_again_changes_nothing(client: Client, db: Database, tau2_data: dict[str, Any]) -> None:
    user = some_user(tau2_data)
    new = {
        "address1": "1 Elm Street",
        "address2": "",
        "city": "Austin",
        "state": "TX",
        "country": "USA",
        "zip": "78701",
    }
    await call(client, "modify_user_address", user_id=user["user_id"], **new)
    once = await snapshot(db)
    assert (await call(client, "modify_user_address", user_id=user["user_id"], **new))["address"] == new
    assert await snapshot(db) == once


@pytest.mark.parametrize("window", [3, 1000], ids=["beyond-the-first-ids", "within-the-first-ids"])
@pytest.mark.parametrize("limit", [2, 7])
@pytest.mark.parametrize(
    "search",
    [{"name": "m"}, {"name": "MI"}, {"name": "mia ga"}, {"name": "zzz"}, {"email": "n"}, {"name": "a", "zip": ""}],
)
async def test_search_customers_pages_are_every_match_in_id_order(
    client: Client,
    tau2_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    window: int,
    limit: int,
    search: dict[str, str],
) -> None:
    # The search looks through the next `window` ids first, then asks the name indexes (see
    # repositories/customers.py); either way a page must be the next matches in id (import) order.
    monkeypatch.setattr(customers_repository, "_WINDOW", window)

    def matches(user: dict[str, Any]) -> bool:
        names = (user["name"]["first_name"].lower(), user["name"]["last_name"].lower())
        words = search.get("name", "").lower().split()
        return all(any(n.startswith(w) for n in names) for w in words) and user["email"].lower().startswith(
            search.get("email", "").lower()
        )

    expected = [u["user_id"] for u in tau2_data["users"].values() if matches(u)]
    seen: list[str] = []
    cursor = None
    while True:
        page = await call(client, "search_customers", **search, limit=limit, **({"cursor": cursor} if cursor else {}))
        seen += [c["user_id"] for c in page["customers"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
