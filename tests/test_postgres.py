"""PostgreSQL: the backend's own pieces, and several stateless shopdesk processes serving one shop.

The rest of the suite runs on PostgreSQL too (SHOPDESK_TEST_DB=postgresql, see conftest.py); these tests run
in every pass, on a throwaway server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from conftest import drop_postgres_database, new_postgres_database
from http_support import env, running
from mcp.client.streamable_http import streamable_http_client
from pg_support import PostgresServer
from shop_support import call, connected, refused, tau2_text

from shopdesk.shopdata.tau2 import import_into
from shopdesk.storage.database import open_database
from shopdesk.storage.postgres import PostgresDatabase, translate
from shopdesk.storage.schema import MIGRATION_SCRIPTS
from shopdesk.storage.sqlite import Database, DatabaseUnavailable

pytestmark = pytest.mark.slow  # starts PostgreSQL and shopdesk processes


def test_translate_rewrites_only_what_postgresql_spells_differently() -> None:
    assert translate("SELECT a FROM t WHERE b = ? AND c LIKE ? ESCAPE '\\' LIMIT ?") == (
        "SELECT a FROM t WHERE b = $1 AND c LIKE $2 ESCAPE '\\' LIMIT $3"
    )
    assert translate("SELECT '?' AS q, \"odd?name\" FROM t WHERE x = ?") == (
        "SELECT '?' AS q, \"odd?name\" FROM t WHERE x = $1"
    )
    assert translate("SELECT json_group_array(json_array(a, b)) FROM t ORDER BY name COLLATE BINARY") == (
        'SELECT json_group_array(json_build_array(a, b)) FROM t ORDER BY name COLLATE "C"'
    )


@pytest.fixture
def empty_database(postgres_server: PostgresServer) -> Iterator[str]:
    url = new_postgres_database(postgres_server)
    yield url
    drop_postgres_database(postgres_server, url)


@pytest.fixture
def shop_url(postgres_server: PostgresServer, postgres_template: str) -> Iterator[str]:
    url = new_postgres_database(postgres_server, postgres_template)
    yield url
    drop_postgres_database(postgres_server, url)


async def _fetch(url: str, sql: str, *args: Any) -> list[Any]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def test_the_same_schema_steps_as_sqlite_and_the_same_shop(empty_database: str, tmp_path: Path) -> None:
    db = await open_database(tmp_path / "unused", empty_database)
    counts = await import_into(db, tau2_text())
    await db.close()
    steps = [row[0] for row in await _fetch(empty_database, "SELECT name FROM schema_migrations ORDER BY name")]
    assert steps == [name for name, _ in MIGRATION_SCRIPTS]
    # Opening again applies nothing twice, and the same τ² import on SQLite counts the same rows.
    again = await PostgresDatabase.open(empty_database)
    await again.close()
    assert len(await _fetch(empty_database, "SELECT name FROM schema_migrations")) == len(MIGRATION_SCRIPTS)
    lite = await Database.open(tmp_path / "shop.sqlite3")
    assert await import_into(lite, tau2_text()) == counts
    await lite.close()


async def test_another_programs_tables_are_refused_and_left_alone(empty_database: str) -> None:
    conn = await asyncpg.connect(empty_database)
    await conn.execute("CREATE TABLE invoices (id int PRIMARY KEY, total numeric)")
    await conn.close()
    with pytest.raises(DatabaseUnavailable, match="another program's tables"):
        await PostgresDatabase.open(empty_database)
    tables = await _fetch(empty_database, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    assert [row[0] for row in tables] == ["invoices"]


async def test_an_unreachable_server_is_one_line_without_the_password(postgres_server: PostgresServer) -> None:
    url = f"postgresql://shop:s3cret@127.0.0.1:{postgres_server.port + 1}/shop"
    with pytest.raises(DatabaseUnavailable) as caught:
        await PostgresDatabase.open(url)
    assert "cannot connect to postgresql://shop:***@127.0.0.1" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_the_cli_fills_an_empty_database_and_refuses_a_full_one(empty_database: str, tmp_path: Path) -> None:
    def shopdesk(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "shopdesk", *args, "--db", empty_database]
        return subprocess.run(command, capture_output=True, text=True, env=env(), cwd=tmp_path, timeout=120)

    first = shopdesk("import-tau2")
    assert first.returncode == 0, first.stderr
    assert "500 customers" in first.stdout
    second = shopdesk("import-tau2")
    assert second.returncode == 2
    assert "already holds a shop" in second.stderr
    exported = shopdesk("export-tau2", "-")
    assert exported.returncode == 0, exported.stderr
    assert '"mia_garcia_4516"' in exported.stdout


async def test_read_only_serves_reads_and_refuses_writes(shop_url: str, tmp_path: Path) -> None:
    from shopdesk.app import build_server
    from shopdesk.settings import Settings

    settings = Settings(db_path=tmp_path / "unused", db_url=shop_url, read_only=True)
    async with connected(build_server(settings)) as client:
        assert (await call(client, "get_order_details", order_id="#W2974929"))["status"] == "pending"
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert "cancel_pending_order" not in names


# Several shopdesk processes, stateless, on one PostgreSQL shop: what a load balancer in front of replicas
# does, done by the test itself (each call goes to a replica of its choosing).


@pytest.fixture
def replicas(shop_url: str, tmp_path: Path) -> Iterator[list[str]]:
    with (
        running(shop_url, "--stateless", "--confirm", "always", folder=tmp_path) as a,
        running(shop_url, "--stateless", "--confirm", "always", folder=tmp_path) as b,
        running(shop_url, "--stateless", "--confirm", "always", folder=tmp_path) as c,
    ):
        yield [a.url, b.url, c.url]


async def _call(url: str, tool: str, arguments: dict[str, Any]) -> Any:
    async with connected(streamable_http_client(url)) as client:
        return await client.call_tool(tool, arguments)


async def _confirmed(url: str, tool: str, arguments: dict[str, Any]) -> Any:
    """A destructive call with --confirm always and no elicitation: ask for the token, then send it."""
    first = await _call(url, tool, arguments)
    text = first.content[0].text
    if "confirmation_token='" not in text:
        return first  # refused outright (the rules), or a replay
    return await _call(url, tool, {**arguments, "confirmation_token": _token(text)})


def _token(text: str) -> str:
    return text.split("confirmation_token='")[1].split("'")[0]


async def _gift_card_balance(url: str, method_id: str) -> Decimal:
    rows = await _fetch(url, "SELECT balance_cents FROM payment_methods WHERE method_id = $1", method_id)
    return Decimal(rows[0][0]) / 100


async def _refunds(url: str, order_id: str) -> int:
    rows = await _fetch(
        url,
        "SELECT count(*) FROM payments p JOIN orders o ON o.id = p.order_id "
        "WHERE o.order_id = $1 AND p.transaction_type = 'refund'",
        order_id,
    )
    return int(rows[0][0])


async def test_replicas_race_one_cancellation_many_ways_and_refund_once(replicas: list[str], shop_url: str) -> None:
    # #W8193638 is pending, paid with gift_card_1776915 ($89.00 on it, $1,436.31 paid).
    arguments = {"order_id": "#W8193638", "reason": "no longer needed"}
    results = await asyncio.gather(*(_confirmed(replicas[i % 3], "cancel_pending_order", arguments) for i in range(9)))
    done = [r for r in results if not r.is_error]
    assert len(done) == 1, [r.content[0].text for r in results]
    assert all("cancelled" in r.content[0].text for r in results if r.is_error)
    assert await _refunds(shop_url, "#W8193638") == 1
    assert await _gift_card_balance(shop_url, "gift_card_1776915") == Decimal("89.00") + Decimal("1436.31")


async def test_replicas_lose_no_update_to_one_gift_card(replicas: list[str], shop_url: str) -> None:
    # Three pending orders paid with gift_card_4544711 ($37.00), cancelled at once through three replicas.
    orders = {"#W1547606": "3232.90", "#W5762451": "1485.02", "#W3417600": "938.75"}
    results = await asyncio.gather(
        *(
            _confirmed(url, "cancel_pending_order", {"order_id": order_id, "reason": "ordered by mistake"})
            for url, order_id in zip(replicas, orders, strict=True)
        )
    )
    assert not any(r.is_error for r in results), [r.content[0].text for r in results]
    expected = Decimal("37.00") + sum(Decimal(amount) for amount in orders.values())
    assert await _gift_card_balance(shop_url, "gift_card_4544711") == expected


async def test_one_idempotency_key_through_every_replica_writes_once(replicas: list[str], shop_url: str) -> None:
    arguments = {"order_id": "#W3618959", "reason": "no longer needed", "idempotency_key": "cancel-W3618959"}
    results = await asyncio.gather(*(_confirmed(replicas[i % 3], "cancel_pending_order", arguments) for i in range(9)))
    assert not any(r.is_error for r in results), [r.content[0].text for r in results]
    assert {r.structured_content["status"] for r in results} == {"cancelled"}
    assert await _refunds(shop_url, "#W3618959") == 1
    outcomes = await _fetch(
        shop_url,
        "SELECT outcome, count(*) FROM audit_log WHERE target = '#W3618959' AND action = 'cancel_pending_order' "
        "GROUP BY outcome ORDER BY outcome",
    )
    counts = {row[0]: row[1] for row in outcomes}
    assert counts.get("done") == 1
    assert counts.get("done", 0) + counts.get("replayed", 0) == 9


async def test_a_confirmation_token_from_one_replica_works_once_on_any(replicas: list[str], shop_url: str) -> None:
    arguments = {"order_id": "#W2974929", "reason": "ordered by mistake"}
    asked = await _call(replicas[0], "cancel_pending_order", arguments)
    token = _token(asked.content[0].text)
    done = await _call(replicas[1], "cancel_pending_order", {**arguments, "confirmation_token": token})
    assert not done.is_error, done.content[0].text
    again = await _call(replicas[2], "cancel_pending_order", {**arguments, "confirmation_token": token})
    assert again.is_error
    assert "already" in again.content[0].text
    async with connected(streamable_http_client(replicas[2])) as client:
        assert (await call(client, "get_order_details", order_id="#W2974929"))["status"] == "cancelled"
        text = await refused(client, "cancel_pending_order", order_id="#W2974929", reason="ordered by mistake")
        assert "cancelled" in text
