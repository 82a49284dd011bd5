"""A customer binding tells nothing, checked on the wire: over real HTTP with a token bound to one customer,
another customer's record gets the very bytes a record that does not exist gets (every key, in order, the
log messages sent before the answer included), and a tool the session is not offered gets the bytes of a
name that is no tool. Both protocol eras: a handshake session (2025-11-25) and stateless 2026-07-28 requests.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from http_support import copy_shop, running, session
from shop_support import call

from shopdesk.access.tokens import AuthFile
from shopdesk.settings import default_auth_file
from shopdesk.tools import TOOLS

BINDINGS = {spec.name: spec.access.binding for spec in TOOLS if spec.access.binding is not None}

pytestmark = pytest.mark.slow  # every test talks to a shopdesk HTTP server process

HANDSHAKE, MODERN = "2025-11-25", "2026-07-28"
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
# Well-formed ids that name nothing, one of each kind.
NOWHERE = {"customer": "nobody_0000", "order": "#W0000001", "ticket": "TCK-999999", "payment_method": "paypal_0000001"}


@dataclass
class Shop:
    url: str
    bound: str  # admin scopes, bound to `mine`
    narrow: str  # catalog:read only, bound to `mine`
    mine: dict[str, str]  # one record of each kind of the bound customer's
    theirs: dict[str, str]  # and of another customer's
    them: dict[str, Any]  # the other customer as τ² has them


def records(data: dict[str, Any], user_id: str) -> dict[str, str]:
    user = data["users"][user_id]
    return {"customer": user_id, "order": user["orders"][0], "payment_method": next(iter(user["payment_methods"]))}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, tau2_template: Path, tau2_data: dict[str, Any]) -> Iterator[Shop]:
    db = copy_shop(tau2_template, tmp_path_factory.mktemp("binding-wire"))
    auth = AuthFile(default_auth_file(db))
    mine, theirs = [u for u, user in tau2_data["users"].items() if user["orders"] and user["payment_methods"]][:2]
    _, admin = auth.create("ops", ["admin"])
    _, bound = auth.create("web-chat", ["admin"], customer=mine)
    _, narrow = auth.create("web-chat", ["catalog:read"], customer=mine)
    # Hundreds of requests and sessions of one subject in a few seconds: above the default per-subject limits,
    # which are not what is tested here (tests/test_http_limits.py is).
    limits = ("--rate-limit", "10000", "--rate-burst", "10000", "--max-sessions-per-token", "500")
    with running(db, *limits) as server:

        async def open_tickets() -> dict[str, str]:
            async with session(server.url, admin) as client:
                return {
                    user_id: (await call(client, "create_ticket", user_id=user_id, subject="Parcel", message="Where?"))[
                        "ticket_id"
                    ]
                    for user_id in (mine, theirs)
                }

        tickets = asyncio.run(open_tickets())
        yield Shop(
            server.url,
            bound,
            narrow,
            {**records(tau2_data, mine), "ticket": tickets[mine]},
            {**records(tau2_data, theirs), "ticket": tickets[theirs]},
            tau2_data["users"][theirs],
        )


def _events(response: httpx2.Response) -> list[str]:
    """The JSON-RPC messages of an answer, as the bytes sent (an SSE stream's data lines, or a JSON body)."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        return [line.removeprefix("data: ") for line in response.text.splitlines() if line.startswith("data: ")]
    return [response.text]


def exchange(url: str, token: str, version: str, method: str, params: dict[str, Any]) -> list[str]:
    """One request, as a fresh client would send it at `version` with every log message asked for; what came
    back, minus the request's own id."""
    headers = {**HEADERS, "Authorization": f"Bearer {token}", "Mcp-Protocol-Version": version}
    if version == MODERN:
        meta = {
            "io.modelcontextprotocol/protocolVersion": version,
            "io.modelcontextprotocol/clientInfo": {"name": "wire", "version": "0"},
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/logLevel": "debug",
        }
        name = params.get("name", params.get("uri"))
        headers |= {"Mcp-Method": method} | ({"Mcp-Name": name} if isinstance(name, str) else {})
        params = {**params, "_meta": meta}
    else:
        hello = {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "wire", "version": "0"}}
        opened = httpx2.post(
            url, headers=headers, json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": hello}
        )
        headers["Mcp-Session-Id"] = opened.headers["mcp-session-id"]
        httpx2.post(url, headers=headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
        level = {"jsonrpc": "2.0", "id": 2, "method": "logging/setLevel", "params": {"level": "debug"}}
        assert httpx2.post(url, headers=headers, json=level).status_code == 200
    response = httpx2.post(url, headers=headers, json={"jsonrpc": "2.0", "id": 77, "method": method, "params": params})
    return [f"{response.status_code}"] + [event.replace('"id":77,', "") for event in _events(response)]


def masked(events: list[str], values: list[str]) -> list[str]:
    """The answer with each value the caller gave (as it appears in JSON, and in a URI) replaced by a mark."""
    out = []
    for event in events:
        for n, value in enumerate(values):
            for form in (json.dumps(value)[1:-1], value.removeprefix("#")):
                event = event.replace(form, f"<{n}>")
        out.append(event)
    return out


# (name, method, params for another customer's record, params for no record, the values each names)
Case = tuple[str, str, dict[str, Any], dict[str, Any], list[str], list[str]]


def cases(shop: Shop) -> list[Case]:
    found: list[Case] = []
    for tool, binding in sorted(BINDINGS.items()):
        for argument, kind in binding.ids.items():
            theirs, nowhere = shop.theirs[kind], NOWHERE[kind]
            found.append(
                (
                    f"{tool}.{argument}",
                    "tools/call",
                    {"name": tool, "arguments": {argument: theirs}},
                    {"name": tool, "arguments": {argument: nowhere}},
                    [theirs],
                    [nowhere],
                )
            )
    email = shop.them["email"]
    found.append(
        (
            "find_user_id_by_email",
            "tools/call",
            {"name": "find_user_id_by_email", "arguments": {"email": email}},
            {"name": "find_user_id_by_email", "arguments": {"email": "nobody@nowhere.example"}},
            [email],
            ["nobody@nowhere.example"],
        )
    )
    name = [shop.them["name"]["first_name"], shop.them["name"]["last_name"], shop.them["address"]["zip"]]
    nobody = ["Nobody", "Atall", "00000"]
    keys = ("first_name", "last_name", "zip")
    found.append(
        (
            "find_user_id_by_name_zip",
            "tools/call",
            {"name": "find_user_id_by_name_zip", "arguments": dict(zip(keys, name, strict=True))},
            {"name": "find_user_id_by_name_zip", "arguments": dict(zip(keys, nobody, strict=True))},
            name,
            nobody,
        )
    )
    for kind, uri in (("customer", "customers"), ("order", "orders"), ("ticket", "tickets")):
        theirs, nowhere = shop.theirs[kind].removeprefix("#"), NOWHERE[kind].removeprefix("#")
        found.append(
            (
                f"resource {uri}",
                "resources/read",
                {"uri": f"shopdesk://{uri}/{theirs}"},
                {"uri": f"shopdesk://{uri}/{nowhere}"},
                [theirs],
                [nowhere],
            )
        )
    theirs, nowhere = shop.theirs["customer"], NOWHERE["customer"]
    export = "shopdesk://exports/orders.csv?user_id="
    found.append(("export", "resources/read", {"uri": export + theirs}, {"uri": export + nowhere}, [theirs], [nowhere]))
    theirs, nowhere = shop.theirs["order"], NOWHERE["order"]
    prompt = "explain_order_status"
    found.append(
        (
            "prompt",
            "prompts/get",
            {"name": prompt, "arguments": {"order_id": theirs}},
            {"name": prompt, "arguments": {"order_id": nowhere}},
            [theirs],
            [nowhere],
        )
    )
    for argument, kind, template in (
        ("order_id", "order", "shopdesk://orders/{order_id}"),
        ("user_id", "customer", "shopdesk://customers/{user_id}"),
        ("ticket_id", "ticket", "shopdesk://tickets/{ticket_id}"),
    ):
        typed, untyped = shop.theirs[kind].removeprefix("#"), NOWHERE[kind].removeprefix("#")
        ref = {"type": "ref/resource", "uri": template}
        found.append(
            (
                f"completion {argument}",
                "completion/complete",
                {"ref": ref, "argument": {"name": argument, "value": typed}},
                {"ref": ref, "argument": {"name": argument, "value": untyped}},
                [typed],
                [untyped],
            )
        )
    return found


CASE_NAMES = [
    *(f"{tool}.{argument}" for tool, binding in sorted(BINDINGS.items()) for argument in binding.ids),
    "find_user_id_by_email",
    "find_user_id_by_name_zip",
    "resource customers",
    "resource orders",
    "resource tickets",
    "export",
    "prompt",
    "completion order_id",
    "completion user_id",
    "completion ticket_id",
]


@pytest.mark.parametrize("version", [HANDSHAKE, MODERN])
@pytest.mark.parametrize("case", CASE_NAMES)
def test_another_customers_record_gets_the_bytes_of_a_missing_one(shop: Shop, case: str, version: str) -> None:
    (_, method, foreign, missing, foreign_values, missing_values) = next(c for c in cases(shop) if c[0] == case)
    theirs = masked(exchange(shop.url, shop.bound, version, method, foreign), foreign_values)
    nobodys = masked(exchange(shop.url, shop.bound, version, method, missing), missing_values)
    assert theirs == nobodys
    assert shop.theirs["customer"] not in "".join(theirs)


@pytest.mark.parametrize("version", [HANDSHAKE, MODERN])
@pytest.mark.parametrize(("token", "hidden"), [("bound", "search_customers"), ("narrow", "get_order_details")])
def test_a_tool_the_session_is_not_offered_gets_the_bytes_of_a_name_that_is_no_tool(
    shop: Shop, token: str, hidden: str, version: str
) -> None:
    key = getattr(shop, token)
    arguments = {"order_id": shop.mine["order"]}
    offered = exchange(shop.url, key, version, "tools/call", {"name": hidden, "arguments": arguments})
    unknown = exchange(shop.url, key, version, "tools/call", {"name": "no_such_tool", "arguments": arguments})
    assert masked(offered, [hidden]) == masked(unknown, ["no_such_tool"])
    assert "There is no tool named" in offered[-1]


@pytest.mark.parametrize("version", [HANDSHAKE, MODERN])
def test_the_log_messages_a_client_is_sent_carry_no_duration(shop: Shop, version: str) -> None:
    answer = exchange(shop.url, shop.bound, version, "tools/call", {"name": "list_all_product_types", "arguments": {}})
    logs = [json.loads(event)["params"]["data"] for event in answer[1:] if '"notifications/message"' in event]
    assert logs == ["tools/call list_all_product_types ok"]
