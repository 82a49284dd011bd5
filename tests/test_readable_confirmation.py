"""A confirmation a person can read: the question names what changes, the form defaults to yes and asks once,
a decline is reported without claiming a person made it; and a bound session can follow its own transfer."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from mcp import Client
from mcp.types import ElicitRequestFormParams, ElicitRequestParams, ElicitResult
from shop_support import call, connected, find_order
from test_access import bound  # noqa: F401  (the fixture: a session bound to one customer, in process and over HTTP)

from shopdesk.app import build_server
from shopdesk.settings import Settings
from shopdesk.storage.repositories import audit
from shopdesk.storage.sqlite import Database


class Client_:
    """An elicitation callback answering `action` and keeping what it was asked."""

    def __init__(self, action: str, content: dict[str, Any] | None = None) -> None:
        self.action, self.content = action, content
        self.asked: list[ElicitRequestFormParams] = []

    async def __call__(self, context: Any, params: ElicitRequestParams) -> ElicitResult:
        assert isinstance(params, ElicitRequestFormParams)
        self.asked.append(params)
        return ElicitResult(action=self.action, content=self.content)  # type: ignore[arg-type]


def several_items(data: dict[str, Any]) -> dict[str, Any]:
    return find_order(data, "pending", "gift_card", min_items=2)


async def cancel_with(settings: Settings, answer: Client_, order_id: str) -> Any:
    async with connected(build_server(replace(settings, confirm="auto")), elicitation_callback=answer) as client:
        return await client.call_tool("cancel_pending_order", {"order_id": order_id, "reason": "no longer needed"})


async def test_the_cancel_question_names_each_item_and_its_options(
    settings: Settings, tau2_data: dict[str, Any]
) -> None:
    order = several_items(tau2_data)
    answer = Client_("accept", {"confirm": True})
    await cancel_with(settings, answer, order["order_id"])
    (asked,) = answer.asked
    for item in order["items"]:
        assert item["name"] in asked.message
        assert all(str(option) in asked.message for option in item["options"].values())


async def test_the_form_defaults_to_yes_and_asks_go_ahead_once(settings: Settings, tau2_data: dict[str, Any]) -> None:
    answer = Client_("accept", {})  # accepted as shown: the default stands
    result = await cancel_with(settings, answer, several_items(tau2_data)["order_id"])
    (asked,) = answer.asked
    assert asked.requested_schema["properties"]["confirm"]["default"] is True
    assert (asked.message + json.dumps(asked.requested_schema)).count("Go ahead?") == 1
    assert not result.is_error and result.structured_content["status"] == "cancelled"


@pytest.mark.parametrize(
    "answer",
    [("accept", {"confirm": False}), ("decline", None), ("cancel", None)],
    ids=["no", "decline", "cancel"],
)
async def test_a_write_not_confirmed_is_declined_without_claiming_a_person_said_so(
    settings: Settings, db: Database, tau2_data: dict[str, Any], answer: tuple[str, dict[str, Any] | None]
) -> None:
    order = several_items(tau2_data)
    result = await cancel_with(settings, Client_(*answer), order["order_id"])
    text = result.content[0].text
    assert result.is_error and "declined" in text and "person" not in text
    (entry,) = await audit.entries(db.read, order["order_id"])
    assert entry["outcome"] == "declined" and "person" not in entry["reason"]


async def test_a_bound_session_sees_the_ticket_its_transfer_opened(
    bound: tuple[Client, dict[str, str], dict[str, str]],  # noqa: F811
) -> None:
    client, mine, _ = bound
    ticket_id = (await call(client, "transfer_to_human_agents", summary="Wants a person."))["ticket_id"]
    assert (await call(client, "get_ticket", ticket_id=ticket_id))["user_id"] == mine["customer"]
    listed = await call(client, "list_tickets")
    assert ticket_id in [t["ticket_id"] for t in listed["tickets"]]


async def test_an_unbound_transfer_still_belongs_to_nobody(client: Client) -> None:
    ticket_id = (await call(client, "transfer_to_human_agents", summary="Wants a person."))["ticket_id"]
    assert (await call(client, "get_ticket", ticket_id=ticket_id))["user_id"] is None


@pytest.mark.parametrize(
    "content",
    [None, {"confirm": None}, {"confirm": []}, {"confirm": "maybe"}],
    ids=["no content", "null", "a list", "a word"],
)
async def test_an_unreadable_answer_is_a_short_declined_refusal_that_is_audited(
    settings: Settings, db: Database, tau2_data: dict[str, Any], content: dict[str, Any] | None
) -> None:
    order = several_items(tau2_data)
    result = await cancel_with(settings, Client_("accept", content), order["order_id"])
    text = result.content[0].text
    assert result.is_error and "could not be read" in text and "Nothing was changed" in text and "Next step:" in text
    assert not [word for word in ("Resolver", "<locals>", "confirm:", "shopdesk.") if word in text], text
    (entry,) = await audit.entries(db.read, order["order_id"])
    assert (entry["outcome"], entry["customer"]) == ("declined", order["user_id"])
    assert "could not be read" in entry["reason"]
    async with connected(build_server(settings)) as client:
        assert (await call(client, "get_order_details", order_id=order["order_id"]))["status"] == "pending"
