"""Idempotency keys and confirmation tokens belong to a bearer token, not to its subject, over real HTTP.

Two tokens with one subject ("web-chat", as the deployment page's example) bound to different customers must not
replay each other's results, nor learn which keys the other used; a confirmation token one token was given
is refused to another. The audit trail still names the subject.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from http_support import running, session
from shop_support import call, db_arg, refused

from shopdesk.access.tokens import AuthFile
from shopdesk.settings import Settings, default_auth_file
from shopdesk.writes.plans import REPLAY_META

pytestmark = pytest.mark.slow  # every test talks to a shopdesk HTTP server process


@dataclass
class Shop:
    url: str
    admin: str
    alice: str  # web-chat, bound to customer `a`
    alice_again: str  # another web-chat token bound to `a`
    bob: str  # web-chat, bound to customer `b`
    a: str
    b: str


@pytest.fixture
def shop(settings: Settings, tau2_data: dict[str, Any]) -> Iterator[Shop]:
    """A server on the test's shop (SQLite or PostgreSQL) that asks for confirmation with two-step tokens."""
    path = default_auth_file(settings.db_path)
    auth = AuthFile(path)
    a, b = list(tau2_data["users"])[:2]
    tokens = [auth.create("ops", ["admin"])[1]]
    tokens += [auth.create("web-chat", ["admin"], customer=customer)[1] for customer in (a, a, b)]
    arguments = ("--auth-file", str(path), "--confirm", "always")
    with running(db_arg(settings), *arguments, folder=settings.db_path.parent) as server:
        yield Shop(server.url, *tokens, a, b)


def token_in(text: str) -> str:
    return text.split("confirmation_token='")[1].split("'")[0]


async def transfer(url: str, token: str, summary: str, key: str) -> tuple[dict[str, Any], bool]:
    """transfer_to_human_agents with an idempotency key: its result, and whether it was a replay."""
    async with session(url, token) as client:
        result = await client.call_tool("transfer_to_human_agents", {"summary": summary, "idempotency_key": key})
    assert not result.is_error, result.content[0].text  # type: ignore[union-attr]
    assert result.structured_content is not None
    return result.structured_content, bool((result.meta or {}).get(REPLAY_META))


async def test_a_key_another_token_of_the_subject_used_is_not_replayed_to_it(shop: Shop) -> None:
    first, _ = await transfer(shop.url, shop.alice, "Wants a person.", "shared-key-1")
    second, replayed = await transfer(shop.url, shop.bob, "Wants a person.", "shared-key-1")
    assert not replayed and second["ticket_id"] != first["ticket_id"]
    again, replayed = await transfer(shop.url, shop.alice, "Wants a person.", "shared-key-1")
    assert replayed and again["ticket_id"] == first["ticket_id"]  # the key still works for its own token


async def test_a_token_is_not_told_that_another_token_of_the_subject_used_a_key(shop: Shop) -> None:
    await transfer(shop.url, shop.alice, "About a refund.", "shared-key-2")
    answer, replayed = await transfer(shop.url, shop.bob, "About a delivery.", "shared-key-2")
    assert not replayed and answer["result"] == "Transfer successful"


async def test_a_confirmation_token_given_to_one_token_is_refused_to_another_of_the_subject(shop: Shop) -> None:
    async with session(shop.url, shop.alice) as client:
        ticket = await call(client, "create_ticket", user_id=shop.a, subject="Parcel", message="Where is it?")
        closing = {"ticket_id": ticket["ticket_id"], "status": "closed"}
        confirmation = token_in(await refused(client, "set_ticket_status", **closing))
    async with session(shop.url, shop.alice_again) as other:
        text = await refused(other, "set_ticket_status", **closing, confirmation_token=confirmation)
        assert "issued to someone else" in text
        assert (await call(other, "get_ticket", ticket_id=ticket["ticket_id"]))["status"] == "open"
    async with session(shop.url, shop.alice) as client:  # still good for the token it was given to
        closed = await call(client, "set_ticket_status", **closing, confirmation_token=confirmation)
    assert closed["status"] == "closed"


async def test_the_audit_trail_names_the_subject_of_a_tokens_write(shop: Shop) -> None:
    answer, _ = await transfer(shop.url, shop.bob, "Audit me.", "audited-key")
    async with session(shop.url, shop.admin) as client:
        events = (await call(client, "list_audit_events", limit=50))["events"]
    (event,) = [e for e in events if e["target"] == answer["ticket_id"]]
    assert event["subject"] == "web-chat"
