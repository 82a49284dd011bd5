"""The person confirms destructive writes through the server: elicitation, or the two-step token."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest
from http_support import running
from mcp import Client
from mcp.types import ElicitRequestParams, ElicitResult
from shop_support import call, connected, db_arg, find_order, refused, snapshot

from shopdesk.app import build_server
from shopdesk.settings import Settings
from shopdesk.storage.repositories import audit
from shopdesk.storage.sqlite import Database
from shopdesk.writes import confirm

Answer = Callable[[str], Awaitable[ElicitResult]]


class Person:
    """Answers the server's questions as scripted, and remembers them."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.questions: list[str] = []

    async def __call__(self, context: Any, params: ElicitRequestParams) -> ElicitResult:
        self.questions.append(params.message)
        return await self.answer(params.message)


async def yes(_: str) -> ElicitResult:
    return ElicitResult(action="accept", content={"confirm": True})


async def no(_: str) -> ElicitResult:
    return ElicitResult(action="accept", content={"confirm": False})


async def decline(_: str) -> ElicitResult:
    return ElicitResult(action="decline")


async def cancel(_: str) -> ElicitResult:
    return ElicitResult(action="cancel")


@asynccontextmanager
async def session(
    settings: Settings, person: Person | None, mode: str = "auto", era: str | None = None
) -> AsyncIterator[Client]:
    """A client of a server with `--confirm mode`, answering elicitation as `person` (None: it cannot), on the
    protocol generation `era` ('legacy': questions mid-call; default: the newest the SDK speaks)."""
    server = build_server(replace(settings, confirm=mode))  # type: ignore[arg-type]
    options: dict[str, Any] = {"elicitation_callback": person} if person is not None else {}
    if era is not None:
        options["mode"] = era
    async with connected(server, **options) as client:
        yield client


def cancellation(data: dict[str, Any]) -> dict[str, Any]:
    order = find_order(data, "pending", "gift_card")
    return {"order_id": order["order_id"], "reason": "no longer needed"}


@pytest.mark.parametrize("era", ["legacy", "auto"])
async def test_the_person_sees_exactly_what_will_change_and_a_yes_writes_it(
    settings: Settings, db: Database, tau2_data: dict[str, Any], era: str
) -> None:
    person = Person(yes)
    arguments = cancellation(tau2_data)
    async with session(settings, person, era=era) as client:
        result = await call(client, "cancel_pending_order", **arguments)
    assert result["status"] == "cancelled"
    (question,) = person.questions
    order = tau2_data["orders"][arguments["order_id"]]
    paid = order["payment_history"][0]
    assert arguments["order_id"] in question and "no longer needed" in question
    assert f"${paid['amount']:,.2f}" in question and paid["payment_method_id"] in question


@pytest.mark.parametrize("answer", [no, decline, cancel], ids=["no", "decline", "cancel"])
async def test_a_person_who_does_not_agree_changes_nothing_and_it_is_audited(
    settings: Settings, db: Database, tau2_data: dict[str, Any], answer: Answer
) -> None:
    arguments = cancellation(tau2_data)
    before = await snapshot(db)
    async with session(settings, Person(answer)) as client:
        text = await refused(client, "cancel_pending_order", **arguments)
    assert "Nothing was changed" in text and ("declined" in text or "cancelled" in text)
    assert await snapshot(db) == before
    (entry,) = await audit.entries(db.read, arguments["order_id"])
    assert entry["outcome"] == "declined"


async def test_confirm_off_asks_nobody(settings: Settings, tau2_data: dict[str, Any]) -> None:
    person = Person(no)
    async with session(settings, person, mode="off") as client:
        assert (await call(client, "cancel_pending_order", **cancellation(tau2_data)))["status"] == "cancelled"
    assert person.questions == []


async def test_auto_writes_at_once_for_a_client_that_cannot_ask(settings: Settings, tau2_data: dict[str, Any]) -> None:
    async with session(settings, None, mode="auto") as client:
        assert (await call(client, "cancel_pending_order", **cancellation(tau2_data)))["status"] == "cancelled"


async def test_a_refused_write_is_refused_before_anybody_is_asked(
    settings: Settings, db: Database, tau2_data: dict[str, Any]
) -> None:
    person = Person(yes)
    delivered = find_order(tau2_data, "delivered")
    async with session(settings, person) as client:
        await refused(client, "cancel_pending_order", order_id=delivered["order_id"], reason="no longer needed")
    assert person.questions == []
    (entry,) = await audit.entries(db.read, delivered["order_id"])
    assert entry["outcome"] == "refused"


async def test_non_destructive_writes_and_ordinary_ticket_moves_ask_nobody(
    settings: Settings, tau2_data: dict[str, Any]
) -> None:
    person = Person(yes)
    async with session(settings, person) as client:
        ticket = await call(client, "create_ticket", user_id=next(iter(tau2_data["users"])), subject="s", message="m")
        await call(client, "set_ticket_status", ticket_id=ticket["ticket_id"], status="resolved")
        assert person.questions == []
        await call(client, "set_ticket_status", ticket_id=ticket["ticket_id"], status="closed")
    assert len(person.questions) == 1 and "cannot be reopened" in person.questions[0]


async def test_a_record_that_changes_while_the_person_decides_is_not_written(
    settings: Settings, db: Database, tau2_data: dict[str, Any]
) -> None:
    order = find_order(tau2_data, "pending", where=lambda o, u: len(u["payment_methods"]) > 1)
    other = next(m for m in tau2_data["users"][order["user_id"]]["payment_methods"]
                 if m != order["payment_history"][0]["payment_method_id"])  # fmt: skip

    async def meanwhile_someone_changes_the_payment(_: str) -> ElicitResult:
        async with session(settings, None, mode="off") as other_desk:
            await call(other_desk, "modify_pending_order_payment", order_id=order["order_id"], payment_method_id=other)
        return ElicitResult(action="accept", content={"confirm": True})

    async with session(settings, Person(meanwhile_someone_changes_the_payment), era="legacy") as client:
        text = await refused(client, "cancel_pending_order", order_id=order["order_id"], reason="ordered by mistake")
    assert "changed after the person was asked" in text
    state = await call_order(settings, order["order_id"])
    assert (
        state["status"] == "pending"
        and state["payment_history"][-1]["payment_method_id"] == order["payment_history"][0]["payment_method_id"]
    )


async def call_order(settings: Settings, order_id: str) -> Any:
    async with session(settings, None) as client:
        return await call(client, "get_order_details", order_id=order_id)


# --- the two-step token, for clients that cannot ask (--confirm always) ----------------------------


def token_in(text: str) -> str:
    return text.split("confirmation_token='")[1].split("'")[0]


async def test_without_elicitation_always_answers_a_preview_and_a_token_that_then_writes(
    settings: Settings, db: Database, tau2_data: dict[str, Any]
) -> None:
    arguments = cancellation(tau2_data)
    before = await snapshot(db)
    async with session(settings, None, mode="always") as client:
        first = await refused(client, "cancel_pending_order", **arguments)
        assert first.startswith("Confirmation needed.") and arguments["order_id"] in first
        assert await snapshot(db) == before
        token = token_in(first)
        done = await call(client, "cancel_pending_order", **arguments, confirmation_token=token)
        assert done["status"] == "cancelled"
        again = await refused(client, "cancel_pending_order", **arguments, confirmation_token=token)
    assert "is 'cancelled'" in again or "already used" in again


async def test_a_token_is_refused_for_other_arguments_a_changed_record_tampering_and_reuse(
    settings: Settings, tau2_data: dict[str, Any]
) -> None:
    arguments = cancellation(tau2_data)
    async with session(settings, None, mode="always") as client:
        token = token_in(await refused(client, "cancel_pending_order", **arguments))
        other = await refused(client, "cancel_pending_order", **{**arguments, "reason": "ordered by mistake"},
                              confirmation_token=token)  # fmt: skip
        assert "different call" in other
        tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
        assert "not a token this shop issued" in await refused(
            client, "cancel_pending_order", **arguments, confirmation_token=tampered
        )
        assert "not a token" in await refused(client, "cancel_pending_order", **arguments, confirmation_token="x")

    ticket_args = {"user_id": next(iter(tau2_data["users"])), "subject": "s", "message": "m"}
    async with session(settings, None, mode="always") as client:
        ticket = await call(client, "create_ticket", **ticket_args)
        closing = {"ticket_id": ticket["ticket_id"], "status": "closed"}
        token = token_in(await refused(client, "set_ticket_status", **closing))
        await call(client, "add_ticket_message", ticket_id=ticket["ticket_id"], body="more")  # harmless
        await call(client, "escalate_ticket", ticket_id=ticket["ticket_id"], reason="r", summary="s")
        # The preview names the ticket's subject only, so an escalation leaves it the same: still valid once.
        assert (await call(client, "set_ticket_status", **closing, confirmation_token=token))["status"] == "closed"


async def test_a_token_for_a_record_that_changed_since_is_refused(
    settings: Settings, tau2_data: dict[str, Any]
) -> None:
    order = find_order(tau2_data, "pending", where=lambda o, u: len(u["payment_methods"]) > 1)
    other = next(m for m in tau2_data["users"][order["user_id"]]["payment_methods"]
                 if m != order["payment_history"][0]["payment_method_id"])  # fmt: skip
    arguments = {"order_id": order["order_id"], "reason": "ordered by mistake"}
    async with session(settings, None, mode="always") as client:
        token = token_in(await refused(client, "cancel_pending_order", **arguments))
        payment = {"order_id": order["order_id"], "payment_method_id": other}
        pay_token = token_in(await refused(client, "modify_pending_order_payment", **payment))
        await call(client, "modify_pending_order_payment", **payment, confirmation_token=pay_token)
        text = await refused(client, "cancel_pending_order", **arguments, confirmation_token=token)
    assert "changed since the customer confirmed" in text


async def test_an_expired_token_is_refused(
    settings: Settings, tau2_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    arguments = cancellation(tau2_data)
    async with session(settings, None, mode="always") as client:
        token = token_in(await refused(client, "cancel_pending_order", **arguments))
        later = time.time() + confirm.TOKEN_LIFETIME + 1
        monkeypatch.setattr(confirm.time, "time", lambda: later)
        text = await refused(client, "cancel_pending_order", **arguments, confirmation_token=token)
    assert "expired" in text


@pytest.mark.slow
async def test_over_http_the_person_is_asked_and_a_decline_changes_nothing(
    settings: Settings, db: Database, tau2_data: dict[str, Any]
) -> None:
    arguments = cancellation(tau2_data)
    before = await snapshot(db)
    with running(db_arg(settings), "--confirm", "always", folder=settings.db_path.parent) as server:
        person = Person(decline)
        async with connected(server.url, elicitation_callback=person) as client:
            assert "declined" in await refused(client, "cancel_pending_order", **arguments)
        assert await snapshot(db) == before
        person = Person(yes)
        async with connected(server.url, elicitation_callback=person) as client:
            assert (await call(client, "cancel_pending_order", **arguments))["status"] == "cancelled"
    assert len(person.questions) == 1 and arguments["order_id"] in person.questions[0]
