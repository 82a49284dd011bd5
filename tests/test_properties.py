"""Properties of every tool the server lists, over arguments made up by hypothesis: real ids, ids that look
right but name nothing, wrong types, unknown argument names, huge strings, control characters.

- every call gets an answer: never an exception from the client (a protocol error), never a crash
  (a traceback, "Error executing tool", an internal error) in the text;
- a refusal has the server's one error form ("... Next step: ...");
- a refused call changes nothing: every table is as it was (audit rows of refusals aside).

One server and one database serve every example: writes that succeed change the shop, so later examples
meet a shop that earlier ones changed. Run with `-s` to see how many calls were made.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import string
from collections import Counter
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import hypothesis
import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from mcp import Client
from mcp.types import CallToolResult, TextContent
from shop_support import call, connected

from shopdesk.app import build_server
from shopdesk.settings import Settings
from shopdesk.storage.repositories import audit
from shopdesk.storage.sqlite import Database
from shopdesk.tools import TOOLS as DECLARED

TOOL_SCOPES = {spec.name: spec.access.scope for spec in DECLARED}

T = TypeVar("T")
# Tools that open tickets first, so that later tools meet tickets to work on.
TOOLS = sorted(TOOL_SCOPES, key=lambda name: (name not in ("create_ticket", "transfer_to_human_agents"), name))
pytestmark = pytest.mark.slow  # 32 hypothesis examples for each of the 29 tools: about half a minute

EXAMPLES_PER_TOOL = 32
PROPERTY = hypothesis.settings(
    max_examples=EXAMPLES_PER_TOOL,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


# --- the shop, shared by every example ---------------------------------------------------------------------


@dataclass
class Live:
    """A server on its own event loop, a second handle on its database, and the last dump of that database."""

    loop: asyncio.AbstractEventLoop
    client: Client
    reader: sqlite3.Connection
    schemas: dict[str, dict[str, Any]]
    state: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)


def dump(reader: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, as `shop_support.snapshot` but stricter (timestamps, phones and every table
    included); audit rows only of writes that happened, as refusals and replays leave rows of their own.
    (Read on a plain sqlite3 connection: in WAL mode it sees what the server committed, and it is quick.)"""
    tables = [row[0] for row in reader.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    state = {}
    for table in tables:
        where = "WHERE outcome IN ('done', 'unchanged')" if table == "audit_log" else ""
        state[table] = reader.execute(f"SELECT * FROM {table} {where} ORDER BY rowid").fetchall()
    return state


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, tau2_template: Path) -> Iterator[Live]:
    path = tmp_path_factory.mktemp("properties") / "shop.sqlite3"
    shutil.copy(tau2_template, path)
    # Tickets as shops kept them before ids were random, TCK-000001 to TCK-000012, for the arguments to name
    # (a new ticket's id is 12 random digits, which no strategy would hit).
    writer = sqlite3.connect(path)
    with writer:
        writer.executemany(
            "INSERT INTO tickets (id, customer_id, subject, status, priority, created_at, updated_at) "
            "VALUES (?, 1, 'Parcel', 'open', 'normal', '2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z')",
            [(n,) for n in range(1, 13)],
        )
    writer.close()
    loop = asyncio.new_event_loop()
    session = connected(build_server(Settings(db_path=path)))
    client = loop.run_until_complete(session.__aenter__())
    reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    tools = loop.run_until_complete(client.list_tools()).tools
    shop = Live(loop, client, reader, {tool.name: tool.input_schema for tool in tools})
    shop.state = dump(reader)
    try:
        yield shop
    finally:
        reader.close()
        loop.run_until_complete(session.__aexit__(None, None, None))
        loop.close()
        refused = sum(n for (_, outcome), n in shop.calls.items() if outcome == "refused")
        for tool in sorted({t for t, _ in shop.calls}):
            print(f"\n  {tool}: {shop.calls[tool, 'answered']} answered, {shop.calls[tool, 'refused']} refused", end="")
        print(
            f"\nproperty cases: {sum(shop.calls.values())} calls over {len({t for t, _ in shop.calls})} tools, "
            f"{refused} refused, {sum(shop.calls.values()) - refused} answered"
        )


# --- arguments -----------------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
CONTROL = st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Co"]), min_size=1, max_size=20)
SURROGATES = st.text(st.characters(categories=["Cs"]), min_size=1, max_size=5)
HUGE = st.builds(lambda chunk, times: chunk * times, st.text(min_size=1, max_size=3), st.integers(300, 10_000))
LOOKALIKES = st.builds(
    lambda real, tail: real + tail,
    st.sampled_from(["#W0000000", "#W", "TCK-000001", "TCK-", "gift_card_0000000", "1008292230", "sara_doe_496"]),
    st.sampled_from(["", " ", "\x00", "\n", "'", '"', "%", "_", "' OR 1=1 --", "\u202e", "\ufeff", "0" * 30]) | CONTROL,
)
HOSTILE = st.one_of(
    JSON_VALUES,
    CONTROL,
    SURROGATES,
    HUGE,
    LOOKALIKES,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from(["", " ", "null", "[]", "{}", "'; DROP TABLE orders; --", "%%", "\\", "../../etc/passwd"]),
)
UNKNOWN_NAMES = st.sampled_from(
    ["orderId", "ORDER_ID", "order_id ", "idempotency-key", "__proto__", "", "user", "force", "admin", "id"]
) | st.text(min_size=1, max_size=30)
# Prices, and numbers long enough for a product or a quotient to overflow a float.
NUMBER = st.decimals(0, 10**6, places=2).map(str) | st.integers(0, 10**300).map(str)
EXPRESSION = st.recursive(
    NUMBER,
    lambda inner: (
        st.builds(lambda a, op, b: f"{a} {op} {b}", inner, st.sampled_from("+-*/"), inner)
        | inner.map(lambda e: f"({e})")
        | inner.map(lambda e: f"-{e}")
    ),
    max_leaves=8,
)


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of the shape the schema declares: right type, bounds and pattern (ids that name nothing, mostly)."""
    if "anyOf" in schema:
        return st.one_of(*(from_schema(option) for option in schema["anyOf"]))
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "integer":
        return st.integers(schema.get("minimum", -(2**31)), schema.get("maximum", 2**31))
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {})), min_size=schema.get("minItems", 0), max_size=4)
    if kind == "string" and "pattern" in schema:
        longest = schema.get("maxLength", 200)
        return st.from_regex(schema["pattern"], fullmatch=True).filter(lambda s: len(s) <= longest)
    if kind == "string":
        low, high = schema.get("minLength", 0), min(schema.get("maxLength", 100), 100)
        return st.text(min_size=low, max_size=high) | st.text(string.printable, min_size=low, max_size=high)
    return JSON_VALUES


class Shop:
    """Ids and values that exist in the τ² shop, to reach past the lookups into the rules and the writes."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        users = data["users"]
        items = sorted({v for p in data["products"].values() for v in p["variants"]})
        self.orders = sorted(data["orders"])
        self.values: dict[str, st.SearchStrategy[Any]] = {
            "order_id": st.sampled_from(self.orders),
            "user_id": st.sampled_from(sorted(users)),
            "email": st.sampled_from(sorted(u["email"] for u in users.values())).map(str.upper),
            "first_name": st.sampled_from(sorted(u["name"]["first_name"] for u in users.values())),
            "last_name": st.sampled_from(sorted(u["name"]["last_name"] for u in users.values())),
            "zip": st.sampled_from(sorted(u["address"]["zip"] for u in users.values())),
            "name": st.sampled_from(sorted(u["name"]["first_name"][:3] for u in users.values())),
            "payment_method_id": st.sampled_from(sorted(m for u in users.values() for m in u["payment_methods"])),
            "product_id": st.sampled_from(sorted(data["products"])),
            "item_id": st.sampled_from(items),
            "item_ids": st.lists(st.sampled_from(items), min_size=1, max_size=3),
            "new_item_ids": st.lists(st.sampled_from(items), min_size=1, max_size=3),
            "ticket_id": st.integers(1, 12).map(lambda n: f"TCK-{n:06d}"),
            "expression": EXPRESSION,
            # Now and then one of a handful of keys, so that some calls reuse a key: replays, refused reuse.
            "idempotency_key": st.uuids().map(str) | st.uuids().map(str) | st.sampled_from(["key-1", "key-2"]),
            "since": st.sampled_from(["2020-01-01", "2099-12-31T23:59:59"]),
            "status": st.sampled_from(["pending", "delivered", "open", "closed", "escalated"]),
        }

    def variants_of(self, product_id: str) -> list[str]:
        return sorted(self.data["products"][product_id]["variants"])


@st.composite
def coherent(draw: st.DrawFn, shop: Shop) -> dict[str, Any]:
    """Arguments that agree with one another: an order, items of it, variants of those, its customer's method."""
    order = shop.data["orders"][draw(st.sampled_from(shop.orders))]
    user = shop.data["users"][order["user_id"]]
    chosen = draw(st.lists(st.sampled_from(order["items"]), min_size=1, max_size=len(order["items"])))
    return {
        "order_id": order["order_id"],
        "user_id": order["user_id"],
        "item_ids": [item["item_id"] for item in chosen],
        "new_item_ids": [draw(st.sampled_from(shop.variants_of(item["product_id"]))) for item in chosen],
        "payment_method_id": draw(st.sampled_from(sorted(user["payment_methods"]))),
        "reason": draw(st.sampled_from(["no longer needed", "ordered by mistake"])),
    }


@pytest.fixture(scope="module")
def shop(tau2_data: dict[str, Any]) -> Shop:
    return Shop(tau2_data)


@st.composite
def arguments(draw: st.DrawFn, schema: dict[str, Any], shop: Shop) -> dict[str, Any]:
    """Arguments of the declared shape (real ids, ids that agree with one another, or merely well-formed ones),
    then some of them spoiled: left out, or replaced by a hostile value; sometimes names the tool lacks added."""
    declared: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    agreeing = draw(coherent(shop)) if draw(st.booleans()) else {}
    chosen: dict[str, Any] = {}
    for name, declaration in declared.items():
        if name not in required and draw(st.booleans()):
            continue
        sources = [from_schema(declaration)]
        if name in shop.values:
            sources += [shop.values[name]] * 2
        if name in agreeing:
            sources = [st.just(agreeing[name])]
        chosen[name] = draw(st.one_of(sources))
    how = draw(st.sampled_from(["as made", "as made", "spoiled", "spoiled", "unknown names"]))
    if how == "spoiled" and declared:
        for name in draw(st.lists(st.sampled_from(sorted(declared)), min_size=1, max_size=3, unique=True)):
            if draw(st.integers(0, 3)) == 0:
                chosen.pop(name, None)
            else:
                chosen[name] = draw(HOSTILE)
    if how == "unknown names":
        unknown = UNKNOWN_NAMES.filter(lambda n: n not in declared)
        chosen.update(draw(st.dictionaries(unknown, JSON_VALUES, min_size=1, max_size=2)))
    return chosen


def text_of(result: CallToolResult) -> str:
    return "\n".join(part.text for part in result.content if isinstance(part, TextContent))


# --- the properties ------------------------------------------------------------------------------------------


def test_the_properties_cover_every_listed_tool(live: Live) -> None:
    assert set(TOOLS) == set(live.schemas)


@pytest.mark.parametrize("tool", TOOLS)
@PROPERTY
@given(data=st.data())
def test_any_arguments_get_an_answer_and_a_refusal_changes_nothing(
    live: Live, shop: Shop, tool: str, data: st.DataObject
) -> None:
    arguments_sent = data.draw(arguments(live.schemas[tool], shop), label="arguments")
    result = live.run(live.client.call_tool(tool, arguments_sent))  # raises on a protocol error
    text = text_of(result)
    for crash in ("Traceback", "Error executing tool", "internal error"):
        assert crash not in text, text
    after = dump(live.reader)
    live.calls[tool, "refused" if result.is_error else "answered"] += 1
    if result.is_error:
        assert "Next step:" in text, text
        changed = sorted(table for table in after if after[table] != live.state.get(table))
        assert not changed, f"refused {tool} changed {changed}: {text}"
    else:
        assert isinstance(result.structured_content, dict) and text
    live.state = after


# --- what the properties found (fixed since) -----------------------------------------------------------------


async def test_calculate_refuses_a_result_too_large_for_a_number(client: Client) -> None:
    big = "1" + "0" * 200  # 1e200, a finite float; its square is not
    result = await client.call_tool("calculate", {"expression": f"{big} * {big}"})
    assert result.is_error and "too large" in text_of(result)


@pytest.mark.parametrize("spelling", ["TCK-1", "TCK-0000000001"])
async def test_a_ticket_write_is_audited_under_the_tickets_own_id_however_it_was_spelled(
    client: Client, db: Database, tau2_data: dict[str, Any], spelling: str
) -> None:
    # New tickets have 12-digit ids, spelled one way only; tickets from before random ids, 'TCK-000001', have more.
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO tickets (id, subject, status, priority, created_at, updated_at) "
            "VALUES (1, 'Parcel', 'open', 'normal', '2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z')"
        )
    answer = await call(client, "add_ticket_message", ticket_id=spelling, body="On its way.")
    assert answer["ticket_id"] == "TCK-000001" and len(answer["messages"]) == 1
    trail = [(entry["tool"], entry["outcome"]) for entry in await audit.entries(db.read, "TCK-000001")]
    assert trail == [("add_ticket_message", "done")]
