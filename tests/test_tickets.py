"""Support tickets: open, read, list, reply, status changes, escalation, and the τ² hand-over."""

import re
from typing import Any

from mcp import Client
from mcp.types import PromptReference
from shop_support import call, refused, snapshot

from shopdesk.storage.repositories import audit
from shopdesk.storage.sqlite import Database


def some_user(data: dict[str, Any]) -> dict[str, Any]:
    return next(iter(data["users"].values()))


async def open_ticket(client: Client, user: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return await call(
        client,
        "create_ticket",
        user_id=user["user_id"],
        subject="Parcel arrived damaged",
        message="The box was crushed and the lamp is cracked.",
        **extra,
    )


async def test_ticket_is_created_open_with_first_message(
    client: Client, db: Database, tau2_data: dict[str, Any]
) -> None:
    user = some_user(tau2_data)
    ticket = await open_ticket(client, user, order_id=user["orders"][0], priority="high")
    assert ticket["ticket_id"].startswith("TCK-")
    assert (ticket["status"], ticket["priority"], ticket["user_id"], ticket["order_id"]) == (
        "open",
        "high",
        user["user_id"],
        user["orders"][0],
    )
    assert [(m["author"], m["body"]) for m in ticket["messages"]] == [
        ("customer", "The box was crushed and the lamp is cracked.")
    ]
    assert await call(client, "get_ticket", ticket_id=ticket["ticket_id"]) == ticket
    assert [e["tool"] for e in await audit.entries(db.read, ticket["ticket_id"])] == ["create_ticket"]


async def test_ticket_for_another_customers_order_is_refused(
    client: Client, db: Database, tau2_data: dict[str, Any]
) -> None:
    user = some_user(tau2_data)
    stranger_order = next(o for o in tau2_data["orders"].values() if o["user_id"] != user["user_id"])
    before = await snapshot(db)
    text = await refused(
        client, "create_ticket", user_id=user["user_id"], subject="x", message="y", order_id=stranger_order["order_id"]
    )
    assert "another customer" in text
    assert await snapshot(db) == before


async def test_messages_are_appended_in_order(client: Client, tau2_data: dict[str, Any]) -> None:
    ticket = await open_ticket(client, some_user(tau2_data))
    await call(client, "add_ticket_message", ticket_id=ticket["ticket_id"], body="Sorry to hear that.")
    result = await call(
        client, "add_ticket_message", ticket_id=ticket["ticket_id"], body="Photo attached.", author="customer"
    )
    assert [m["body"] for m in result["messages"]] == [
        "The box was crushed and the lamp is cracked.",
        "Sorry to hear that.",
        "Photo attached.",
    ]
    assert [m["author"] for m in result["messages"]] == ["customer", "agent", "customer"]


async def test_status_moves_and_closed_is_final(client: Client, db: Database, tau2_data: dict[str, Any]) -> None:
    ticket = await open_ticket(client, some_user(tau2_data))
    tid = ticket["ticket_id"]
    assert (await call(client, "set_ticket_status", ticket_id=tid, status="resolved"))["status"] == "resolved"
    assert (await call(client, "set_ticket_status", ticket_id=tid, status="closed"))["status"] == "closed"
    before = await snapshot(db)
    assert "final" in await refused(client, "set_ticket_status", ticket_id=tid, status="open")
    assert "closed" in await refused(client, "add_ticket_message", ticket_id=tid, body="Hello?")
    assert await snapshot(db) == before


async def test_escalation_records_reason_and_summary(client: Client, tau2_data: dict[str, Any]) -> None:
    ticket = await open_ticket(client, some_user(tau2_data))
    result = await call(
        client,
        "escalate_ticket",
        ticket_id=ticket["ticket_id"],
        reason="Damage claim over $500",
        summary="Lamp arrived cracked; customer wants a courier pick-up.",
    )
    assert result["status"] == "escalated"
    assert result["escalation"]["reason"] == "Damage claim over $500"
    assert result["escalation"]["summary"] == "Lamp arrived cracked; customer wants a courier pick-up."


async def test_list_tickets_filters_by_customer_and_status(client: Client, tau2_data: dict[str, Any]) -> None:
    users = list(tau2_data["users"].values())[:2]
    mine = [await open_ticket(client, users[0]) for _ in range(3)]
    await open_ticket(client, users[1])
    await call(client, "set_ticket_status", ticket_id=mine[0]["ticket_id"], status="waiting_on_customer")

    page = await call(client, "list_tickets", user_id=users[0]["user_id"])
    # Newest first by creation time; tickets opened within one second come in no particular order.
    assert sorted(t["ticket_id"] for t in page["tickets"]) == sorted(t["ticket_id"] for t in mine)
    waiting = await call(client, "list_tickets", status="waiting_on_customer")
    assert [t["ticket_id"] for t in waiting["tickets"]] == [mine[0]["ticket_id"]]
    first = await call(client, "list_tickets", limit=2)
    rest = await call(client, "list_tickets", limit=2, cursor=first["next_cursor"])
    assert len(first["tickets"]) == 2 and len(rest["tickets"]) == 2 and rest["next_cursor"] is None


async def test_transfer_to_human_agents_opens_an_escalated_ticket(client: Client, tau2_data: dict[str, Any]) -> None:
    result = await client.call_tool("transfer_to_human_agents", {"summary": "Customer disputes a charge."})
    assert result.structured_content["result"] == "Transfer successful"  # type: ignore[index]
    ticket = await call(client, "get_ticket", ticket_id=result.structured_content["ticket_id"])  # type: ignore[index]
    assert ticket["status"] == "escalated"
    assert ticket["escalation"]["summary"] == "Customer disputes a charge."


async def test_unknown_ticket_is_not_found(client: Client) -> None:
    assert "not found" in await refused(client, "get_ticket", ticket_id="TCK-999999")


async def test_same_escalation_twice_changes_nothing(client: Client, db: Database, tau2_data: dict[str, Any]) -> None:
    ticket = await open_ticket(client, some_user(tau2_data))
    args = dict(ticket_id=ticket["ticket_id"], reason="Needs a courier", summary="Cracked lamp.")
    first = await call(client, "escalate_ticket", **args)
    once = await snapshot(db)
    assert await call(client, "escalate_ticket", **args) == first
    assert await snapshot(db) == once


# --- ticket ids tell nothing of how many tickets there are ------------------------------------------------------


async def a_ticket_from_before(db: Database, user_id: str, key: int, at: str) -> str:
    """A ticket as shops kept them before ids were random: a sequential key, 'TCK-000042'."""
    async with db.transaction() as conn:
        row = await conn.execute_fetchall("SELECT id FROM customers WHERE user_id = ?", (user_id,))
        await conn.execute(
            "INSERT INTO tickets (id, customer_id, subject, status, priority, created_at, updated_at) "
            "VALUES (?, ?, 'Old parcel', 'open', 'normal', ?, ?)",
            (key, row[0][0], at, at),
        )
        await conn.execute(
            "INSERT INTO ticket_messages (ticket_id, author, body, created_at) VALUES (?, 'customer', 'Hi', ?)",
            (key, at),
        )
    return f"TCK-{key:06d}"


async def test_new_ticket_ids_are_twelve_random_digits_not_a_count(client: Client, tau2_data: dict[str, Any]) -> None:
    user = some_user(tau2_data)
    ids = [(await open_ticket(client, user))["ticket_id"] for _ in range(3)]
    assert all(re.fullmatch(r"TCK-[1-9][0-9]{11}", ticket_id) for ticket_id in ids), ids
    assert len(set(ids)) == 3


async def test_a_ticket_from_before_random_ids_keeps_working(
    client: Client, db: Database, tau2_data: dict[str, Any]
) -> None:
    user = some_user(tau2_data)
    old = await a_ticket_from_before(db, user["user_id"], 42, "2020-01-01T00:00:00Z")
    assert (await call(client, "get_ticket", ticket_id="TCK-42"))["ticket_id"] == old
    replied = await call(client, "add_ticket_message", ticket_id=old, body="Still waiting.")
    assert [m["body"] for m in replied["messages"]] == ["Hi", "Still waiting."]
    new = (await open_ticket(client, user))["ticket_id"]
    listed = await call(client, "list_tickets", user_id=user["user_id"])
    assert [t["ticket_id"] for t in listed["tickets"]] == [new, old]  # newest first, by creation


async def test_tickets_are_listed_newest_first_in_pages_that_miss_none(
    client: Client, db: Database, tau2_data: dict[str, Any]
) -> None:
    user = some_user(tau2_data)
    made = [await a_ticket_from_before(db, user["user_id"], n, f"2020-01-0{n}T00:00:00Z") for n in (1, 2, 3)]
    made += [(await open_ticket(client, user))["ticket_id"] for _ in range(3)]  # within a second or two
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await call(
            client, "list_tickets", user_id=user["user_id"], limit=2, **({"cursor": cursor} if cursor else {})
        )
        seen += page["tickets"]
        if (cursor := page["next_cursor"]) is None:
            break
    assert sorted(t["ticket_id"] for t in seen) == sorted(made)
    keys = [(t["created_at"], int(t["ticket_id"].removeprefix("TCK-"))) for t in seen]
    assert keys == sorted(keys, reverse=True)
    assert [t["ticket_id"] for t in seen[-3:]] == made[2::-1]


async def test_ticket_ids_complete_old_and_new_alike(client: Client, db: Database, tau2_data: dict[str, Any]) -> None:
    user = some_user(tau2_data)
    old = await a_ticket_from_before(db, user["user_id"], 7, "2020-01-01T00:00:00Z")
    new = (await open_ticket(client, user))["ticket_id"]

    async def complete(typed: str) -> list[str]:
        answer = await client.complete(
            PromptReference(type="ref/prompt", name="triage_ticket"), {"name": "ticket_id", "value": typed}
        )
        return answer.completion.values

    assert await complete("TCK-") == sorted([old, new])
    assert await complete(new[:-3]) == [new]
    assert await complete("TCK-00000") == [old]
    assert await complete(new + "0") == []
