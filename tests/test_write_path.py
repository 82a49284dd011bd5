"""The one write path: idempotency keys, the audit trail, durable commits."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from shop_support import call, connected, db_arg, find_order, refused, server_env, snapshot

from shopdesk.app import build_server
from shopdesk.settings import Settings
from shopdesk.storage.repositories import audit
from shopdesk.storage.sqlite import Database
from shopdesk.writes.plans import REPLAY_META

TICKET = {"subject": "Parcel", "message": "Where is my parcel? Call me at 555-0100."}


def some_user(data: dict[str, Any]) -> str:
    return next(iter(data["users"]))


async def ticket_count(db: Database) -> int:
    (row,) = await db.read.execute_fetchall("SELECT count(*) FROM tickets")
    return int(row[0])


async def test_a_retried_create_ticket_with_its_key_opens_one_ticket(
    client: Client, db: Database, tau2_data: dict[str, Any]
) -> None:
    arguments = {"user_id": some_user(tau2_data), **TICKET, "idempotency_key": "retry-1"}
    first = await client.call_tool("create_ticket", arguments)
    again = await client.call_tool("create_ticket", arguments)
    assert not first.is_error and not again.is_error
    assert again.structured_content == first.structured_content
    assert again.meta and again.meta.get(REPLAY_META) is True and not (first.meta or {}).get(REPLAY_META)
    assert "nothing was changed again" in again.content[0].text  # type: ignore[union-attr]
    assert await ticket_count(db) == 1


async def test_without_a_key_each_create_ticket_opens_another(
    client: Client, db: Database, tau2_data: dict[str, Any]
) -> None:
    for _ in range(2):
        await call(client, "create_ticket", user_id=some_user(tau2_data), **TICKET)
    assert await ticket_count(db) == 2


async def test_a_key_reused_for_other_arguments_is_refused_and_changes_nothing(
    client: Client, db: Database, tau2_data: dict[str, Any]
) -> None:
    user_id = some_user(tau2_data)
    await call(client, "create_ticket", user_id=user_id, **TICKET, idempotency_key="k")
    before = await snapshot(db)
    text = await refused(client, "create_ticket", user_id=user_id, subject="Other", message="m", idempotency_key="k")
    assert "already used for a different call" in text
    text = await refused(client, "transfer_to_human_agents", summary="Wants a human.", idempotency_key="k")
    assert "already used for a different call" in text
    assert await snapshot(db) == before


async def test_a_retried_cancel_replays_instead_of_being_refused(
    client: Client, db: Database, tau2_data: dict[str, Any]
) -> None:
    order = find_order(tau2_data, "pending", "gift_card")
    arguments = {"order_id": order["order_id"], "reason": "no longer needed", "idempotency_key": "cancel-1"}
    first = await call(client, "cancel_pending_order", **arguments)
    state = await snapshot(db)
    again = await client.call_tool("cancel_pending_order", arguments)
    assert not again.is_error and again.structured_content == first
    assert await snapshot(db) == state  # refunded once
    without_key = await refused(client, "cancel_pending_order", order_id=order["order_id"], reason="no longer needed")
    assert "is 'cancelled'" in without_key


async def test_one_key_raced_from_twenty_sessions_writes_once(
    settings: Settings, db: Database, tau2_data: dict[str, Any]
) -> None:
    # Twenty servers on one database file, as twenty processes would be, all sending the same request at once.
    arguments = {"user_id": some_user(tau2_data), **TICKET, "idempotency_key": "raced"}

    async def one() -> Any:
        async with connected(build_server(settings)) as client:
            return await call(client, "create_ticket", **arguments)

    results = await asyncio.gather(*(one() for _ in range(20)))
    assert len({r["ticket_id"] for r in results}) == 1
    assert await ticket_count(db) == 1
    outcomes = [e["outcome"] for e in await audit.entries(db.read, results[0]["ticket_id"])]
    assert sorted(outcomes) == ["done"] + ["replayed"] * 19


async def test_every_write_refusal_and_replay_is_audited_with_who_and_masked_values(
    client: Client, db: Database, tau2_data: dict[str, Any]
) -> None:
    user_id = some_user(tau2_data)
    address = {"address1": "7 Quay Street", "address2": "", "city": "Salem", "state": "MA", "country": "USA"}
    await call(client, "modify_user_address", user_id=user_id, **address, zip="01970", idempotency_key="a1")
    await call(client, "modify_user_address", user_id=user_id, **address, zip="01970", idempotency_key="a1")
    await call(client, "modify_user_address", user_id=user_id, **address, zip="01970")
    await refused(client, "modify_user_address", user_id="nobody_0000", **address, zip="01970")
    done, replayed, unchanged = await audit.entries(db.read, user_id)
    assert [done["outcome"], replayed["outcome"], unchanged["outcome"]] == ["done", "replayed", "unchanged"]
    assert done["subject"] == "local" and done["customer"] == user_id
    assert done["arguments"]["address1"] == "7***" and done["arguments"]["zip"] == "0***"
    assert done["arguments"]["state"] == "M***" and done["arguments"]["user_id"] == user_id[0] + "***"
    assert "7 Quay Street" not in json.dumps(done)
    (refusal,) = await audit.entries(db.read, "n***")
    assert refusal["outcome"] == "refused" and "was not found" in refusal["reason"]


async def test_free_text_reaches_the_audit_log_only_as_its_length(
    client: Client, db: Database, tau2_data: dict[str, Any]
) -> None:
    ticket = await call(client, "create_ticket", user_id=some_user(tau2_data), **TICKET)
    (entry,) = await audit.entries(db.read, ticket["ticket_id"])
    assert entry["arguments"]["message"] == f"<{len(TICKET['message'])} characters>"
    assert "555-0100" not in json.dumps(entry)


async def test_the_audit_log_is_read_with_cursor_pages(client: Client, tau2_data: dict[str, Any]) -> None:
    user_id = some_user(tau2_data)
    made = [
        (await call(client, "create_ticket", user_id=user_id, subject=f"Q{n}", message="m"))["ticket_id"]
        for n in range(5)
    ]
    seen: list[str] = []
    cursor = None
    while True:
        page = await call(
            client, "list_audit_events", user_id=user_id, limit=2, **({"cursor": cursor} if cursor else {})
        )
        seen += [e["target"] for e in page["events"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made


@pytest.mark.slow
def test_the_audit_command_prints_lines_and_json(settings: Settings, tmp_path: Path) -> None:
    def shopdesk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "shopdesk", *args, "--db", db_arg(settings)],
            capture_output=True, text=True, env=server_env(), cwd=tmp_path, timeout=60,
        )  # fmt: skip

    async def write() -> None:
        async with connected(build_server(settings)) as client:
            await refused(client, "cancel_pending_order", order_id="#W0000001", reason="no longer needed")

    asyncio.run(write())
    lines = shopdesk("audit").stdout.splitlines()
    assert len(lines) == 1 and "cancel_pending_order" in lines[0] and "refused" in lines[0]
    (entry,) = [json.loads(line) for line in shopdesk("audit", "--json", "--order", "#W0000001").stdout.splitlines()]
    assert entry["outcome"] == "refused" and entry["subject"] == "local"
    assert shopdesk("audit", "--order", "#W0000002").stdout == ""


@pytest.mark.sqlite_only  # PostgreSQL's own default (synchronous_commit=on) is durable already
async def test_writes_are_committed_with_synchronous_full_by_default(settings: Settings) -> None:
    db = await Database.open(settings.db_path, synchronous=settings.synchronous)
    try:
        async with db.transaction() as conn, conn.execute("PRAGMA synchronous") as cur:
            assert (await cur.fetchone())[0] == 2  # type: ignore[index]  # 2 = FULL
    finally:
        await db.close()
    assert Settings(db_path=settings.db_path).synchronous == "FULL"


async def test_keys_are_kept_a_week_and_then_cleared(client: Client, db: Database, tau2_data: dict[str, Any]) -> None:
    async with db.transaction() as conn:
        for key, age in (("six-days-old", 6), ("eight-days-old", 8)):
            at = (datetime.now(UTC) - timedelta(days=age)).strftime("%Y-%m-%dT%H:%M:%SZ")
            await conn.execute(
                "INSERT INTO idempotency_keys (holder, key, tool, fingerprint, result, created_at) "
                "VALUES ('local', ?, 'create_ticket', 'x', '{}', ?)",
                (key, at),
            )
    await call(client, "create_ticket", user_id=some_user(tau2_data), **TICKET, idempotency_key="new")
    rows = await db.read.execute_fetchall("SELECT key FROM idempotency_keys ORDER BY key")
    assert [r[0] for r in rows] == ["new", "six-days-old"]


@pytest.mark.sqlite_only  # counts the statements on SQLite's read connections
@pytest.mark.parametrize("mode", ["auto", "off"])
async def test_a_write_nobody_is_asked_about_reads_only_in_its_transaction(
    settings: Settings, tau2_data: dict[str, Any], mode: str
) -> None:
    # A client that cannot ask the person (no elicitation) under --confirm auto, or --confirm off: there is
    # no preview to show, so the records are read once, by the write's own transaction.
    from shopdesk.shop import Shop

    order_id = find_order(tau2_data, "pending")["order_id"]
    shop = Shop(replace(settings, confirm=mode))
    async with connected(build_server(shop=shop)) as client:
        reads: list[str] = []
        await shop.db.read.set_trace_callback(reads.append)  # type: ignore[attr-defined]
        done = await call(client, "cancel_pending_order", order_id=order_id, reason="no longer needed")
        assert done["status"] == "cancelled"
        assert reads == []
        text = await refused(client, "cancel_pending_order", order_id=order_id, reason="no longer needed")
        assert "cancelled" in text and reads == []
