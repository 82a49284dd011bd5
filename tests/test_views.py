"""The MCP Apps views (issue 12): an order, a customer and a ticket drawn for the person in the host.

Server side: a client that negotiated `io.modelcontextprotocol/ui` finds each view from its tool's `_meta.ui` and
reads it (self-contained HTML, a CSP allowing nothing external); a client that did not gets today's results.
Build: rebuilding views/ reproduces the committed HTML byte for byte (needs `npm ci --prefix views`).
Browser: headless Chromium (Debian's `chromium`) loads tests/views_host/host.html, a host made with the official
AppBridge, which shows each view in a sandboxed iframe and reaches a real shopdesk server through this test.
Without chromium, Node or playwright these skip; with SHOPDESK_REQUIRE_PEERS=1 (CI) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.extension import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID, Apps
from mcp.types import ElicitRequestParams, ElicitResult
from shop_support import ROOT, call, connected, find_order, open_shop, snapshot

from shopdesk.app import build_server
from shopdesk.settings import Settings
from shopdesk.surface import apps as apps_ui
from shopdesk.tools.toolsets import enabled_tools, views_shown

APPS = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})
REQUIRED = os.environ.get("SHOPDESK_REQUIRE_PEERS") == "1"
BUILT = [
    "server/surface/views/order.html",
    "server/surface/views/customer.html",
    "server/surface/views/ticket.html",
    "tests/views_host/host.html",
]


def missing(reason: str) -> None:
    if REQUIRED:
        pytest.fail(reason)
    pytest.skip(reason)


async def test_an_apps_client_finds_each_view_through_its_tool(settings: Settings) -> None:
    async with connected(build_server(settings), extensions=[APPS]) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        listed = {str(r.uri) for r in (await client.list_resources()).resources}
        shown_by = views_shown(set(tools))
        assert set(shown_by) == set(apps_ui.VIEWS)  # every view is shown by a tool that declares it
        for uri, (file, _) in apps_ui.VIEWS.items():
            tool = shown_by[uri]
            assert (tools[tool].meta or {})["ui"] == {"resourceUri": uri}
            assert uri in listed
            (content,) = (await client.read_resource(uri)).contents
            assert content.mime_type == APP_MIME_TYPE
            assert content.text == (ROOT / "server" / "surface" / "views" / file).read_text(encoding="utf-8")  # type: ignore[union-attr]
            # The host is told to allow nothing external, and the page itself says the same.
            assert (content.meta or {})["ui"]["csp"] == {
                "connectDomains": [],
                "resourceDomains": [],
                "frameDomains": [],
                "baseUriDomains": [],
            }
            assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\';' in content.text  # type: ignore[union-attr]
        others = [t.name for t in tools.values() if "ui" in (t.meta or {})]
        assert sorted(others) == sorted(shown_by.values())


async def test_a_client_without_apps_gets_the_same_results_as_from_a_server_without_views(
    settings: Settings, tau2_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    order = find_order(tau2_data, "delivered")
    calls: list[tuple[str, dict[str, Any]]] = [
        ("get_order_details", {"order_id": order["order_id"]}),
        ("get_user_details", {"user_id": order["user_id"]}),
    ]

    async def answers() -> tuple[list[str], list[dict[str, Any]]]:
        async with connected(build_server(settings)) as client:
            resources = [str(r.uri) for r in (await client.list_resources()).resources]
            results = [(await client.call_tool(name, arguments)).model_dump(mode="json") for name, arguments in calls]
        return resources, results

    async with connected(build_server(settings)) as client:
        ticket = await call(
            client,
            "create_ticket",
            user_id=order["user_id"],
            subject="Parcel",
            message="Where is it?",
            order_id=order["order_id"],
        )
    calls.append(("get_ticket", {"ticket_id": ticket["ticket_id"]}))
    with_views = await answers()
    monkeypatch.setattr(apps_ui, "ui", lambda uri: None)
    monkeypatch.setattr(apps_ui, "extension", lambda enabled: Apps())
    assert with_views == await answers()
    assert with_views[0] == ["shopdesk://policy"]


async def test_a_view_goes_with_its_tool(settings: Settings) -> None:
    """A toolset without get_ticket has no ticket view to offer."""
    enabled = set(enabled_tools(settings)) - {"get_ticket"}
    apps = apps_ui.extension(views_shown(enabled))
    assert {b.resource.uri for b in apps.resources()} == {apps_ui.ORDER_VIEW, apps_ui.CUSTOMER_VIEW}


def node() -> str | None:
    peers = ROOT / "tests" / "peers" / "node_modules" / ".bin" / "node"
    return str(peers) if peers.exists() else shutil.which("node")


@pytest.mark.slow
def test_rebuilding_the_views_reproduces_the_committed_html(tmp_path: Path) -> None:
    runtime = node()
    if runtime is None or not (ROOT / "views" / "node_modules" / "esbuild").is_dir():
        missing("views/node_modules is missing: run `npm ci --prefix views` (needs Node and npm)")
    built = subprocess.run(
        [str(runtime), str(ROOT / "views" / "build.mjs"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    for path in BUILT:
        assert (tmp_path / path).read_bytes() == (ROOT / path).read_bytes(), f"{path} is stale: npm run build in views/"


# --- in a real browser ---------------------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HOST_PAGE = ROOT / "tests" / "views_host" / "host.html"
# The host's background colour of each theme (views_host PALETTES), as the browser computes it.
BACKGROUNDS = {"light": "rgb(255, 255, 255)", "dark": "rgb(17, 24, 39)"}


def screenshot_folder(tmp: Path) -> Path:
    """Where the browser tests save the views' screenshots: the folder SHOPDESK_SCREENSHOTS names (the README's
    command to refresh docs/screenshots sets it), else `tmp`, so that a test run leaves the committed ones alone."""
    asked = os.environ.get("SHOPDESK_SCREENSHOTS")
    return Path(asked) if asked else tmp


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshot_folder(tmp_path_factory.mktemp("screenshots"))


def test_screenshots_go_to_a_temporary_folder_unless_a_folder_is_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHOPDESK_SCREENSHOTS", raising=False)
    assert screenshot_folder(tmp_path) == tmp_path
    monkeypatch.setenv("SHOPDESK_SCREENSHOTS", "docs/screenshots")
    assert screenshot_folder(tmp_path) == Path("docs/screenshots")


def wire(model: Any) -> Any:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


class Host:
    """The test host page in Chromium, its MCP client being `client` (a real shopdesk server)."""

    def __init__(self, page: Any, client: Client) -> None:
        self.page = page
        self.client = client
        self.requests: list[str] = []
        self.results: list[dict[str, Any]] = []  # what the server answered each call, in order

    async def start(self) -> None:
        async def list_tools() -> list[dict[str, Any]]:
            return [wire(t) for t in (await self.client.list_tools()).tools]

        async def read(uri: str) -> dict[str, Any]:
            return dict(wire(await self.client.read_resource(uri)))

        async def call_tool(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
            result = dict(wire(await self.client.call_tool(name, arguments)))
            self.results.append(result)
            return result

        self.page.on("request", lambda request: self.requests.append(request.url))
        await self.page.expose_function("shopdeskListTools", list_tools)
        await self.page.expose_function("shopdeskRead", read)
        await self.page.expose_function("shopdeskCall", call_tool)
        await self.page.set_content(HOST_PAGE.read_text(encoding="utf-8"))

    async def open(self, tool: str, arguments: dict[str, Any], theme: str = "light") -> Any:
        """Show `tool`'s view of a call with `arguments`; the view's frame."""
        await self.page.evaluate("([t, a, th]) => window.host.open(t, a, th)", [tool, arguments, theme])
        return self.page.frame_locator("iframe")

    async def calls(self) -> list[dict[str, Any]]:
        """The tool calls the view made through the host."""
        calls: list[dict[str, Any]] = await self.page.evaluate("window.host.calls")
        return calls

    async def theme_applied(self, theme: str) -> None:
        frame = self.page.frames[1]
        await frame.wait_for_function(
            "([theme, colour]) => document.documentElement.dataset.theme === theme"
            " && getComputedStyle(document.body).backgroundColor === colour",
            arg=[theme, BACKGROUNDS[theme]],
        )

    async def shoot(self, path: Path) -> None:
        """A screenshot of the view into `path`, once the iframe has the height the view asked for."""
        frame = self.page.frames[1]
        height = await frame.evaluate("Math.ceil(document.documentElement.getBoundingClientRect().height)")
        await self.page.wait_for_function(
            "h => Math.abs(parseFloat(document.querySelector('iframe').style.height) - h) <= 1", arg=height
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        await self.page.locator("iframe").screenshot(path=str(path))


@asynccontextmanager
async def browser(client: Client) -> AsyncIterator[Host]:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        missing("playwright is not installed: pip install -e '.[test]'")
    if not CHROMIUM.exists():
        missing("Debian's chromium is not installed: apt-get install -y chromium")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = await chromium.new_page(viewport={"width": 780, "height": 2400})
            host = Host(page, client)
            await host.start()
            yield host
            # The views fetched nothing: every request the page made would be listed here.
            assert host.requests == []
        finally:
            await chromium.close()


class Person:
    """Answers the server's confirmation question, and remembers it."""

    def __init__(self, confirm: bool) -> None:
        self.confirm = confirm
        self.questions: list[str] = []

    async def __call__(self, context: Any, params: ElicitRequestParams) -> ElicitResult:
        self.questions.append(params.message)
        if self.confirm:
            return ElicitResult(action="accept", content={"confirm": True})
        return ElicitResult(action="decline")


async def shop_state(settings: Settings) -> dict[str, Any]:
    db = await open_shop(settings)
    try:
        return await snapshot(db)
    finally:
        await db.close()


def delivered(tau2_data: dict[str, Any]) -> dict[str, Any]:
    """A delivered τ² order with several items, shipped with a tracking id."""
    return find_order(tau2_data, "delivered", min_items=2, where=lambda order, user: bool(order["fulfillments"]))


@pytest.mark.slow
@pytest.mark.parametrize("theme", ["light", "dark"])
async def test_the_order_view_shows_the_orders_items_and_status(
    settings: Settings, tau2_data: dict[str, Any], theme: str, screenshots: Path
) -> None:
    order = delivered(tau2_data)
    async with connected(build_server(settings), extensions=[APPS]) as client, browser(client) as host:
        view = await host.open("get_order_details", {"order_id": order["order_id"]}, theme)
        await view.get_by_role("heading", name=f"Order {order['order_id']}").wait_for()
        items = view.get_by_role("table", name=f"Items of order {order['order_id']}")
        rows = items.locator("tbody tr")
        assert await rows.count() == len(order["items"])
        for row, item in zip(await rows.all(), order["items"], strict=True):
            text = await row.inner_text()
            assert item["name"] in text and item["item_id"] in text and f"${item['price']:,.2f}" in text
            assert all(str(value) in text for value in item["options"].values())
        progress = view.get_by_role("list", name="Order progress")
        assert await progress.locator("[aria-current=step]").text_content() == "Delivered (done)"
        assert order["fulfillments"][0]["tracking_id"][0] in await progress.inner_text()
        payments = await view.get_by_role(
            "table", name=f"Payments and refunds of order {order['order_id']}"
        ).inner_text()
        assert order["payment_history"][0]["payment_method_id"] in payments
        assert order["address"]["city"] in await view.locator("address").inner_text()
        await host.theme_applied(theme)
        await host.shoot(screenshots / f"order-{theme}.png")
        assert await host.calls() == []  # showing an order calls nothing


@pytest.mark.slow
@pytest.mark.parametrize("theme", ["light", "dark"])
async def test_the_customer_view_opens_an_order_through_the_host(
    settings: Settings, tau2_data: dict[str, Any], theme: str, screenshots: Path
) -> None:
    user_id, user = next((uid, u) for uid, u in tau2_data["users"].items() if len(u["orders"]) >= 2)
    async with connected(build_server(settings), extensions=[APPS]) as client, browser(client) as host:
        view = await host.open("get_user_details", {"user_id": user_id}, theme)
        name = f"{user['name']['first_name']} {user['name']['last_name']}"
        await view.get_by_role("heading", name=name).wait_for()
        methods = await view.get_by_role("region", name="Payment methods").inner_text()
        for method in user["payment_methods"].values():
            assert method["id"] in methods
            if method["source"] == "gift_card":
                assert f"${method['balance']:,.2f}" in methods
        await host.theme_applied(theme)
        await host.shoot(screenshots / f"customer-{theme}.png")
        opened = user["orders"][1]
        button = view.get_by_role("button", name=f"Open order {opened}")
        await button.focus()
        await host.page.keyboard.press("Enter")  # by keyboard, as a person without a mouse would
        await view.get_by_role("heading", name=f"Order {opened}").wait_for()
        assert await host.calls() == [{"name": "get_order_details", "arguments": {"order_id": opened}}]


@pytest.mark.slow
@pytest.mark.parametrize("theme", ["light", "dark"])
async def test_the_ticket_view_shows_the_thread_status_and_escalation(
    settings: Settings, tau2_data: dict[str, Any], theme: str, screenshots: Path
) -> None:
    order = delivered(tau2_data)
    async with connected(build_server(settings), extensions=[APPS]) as client:
        ticket = await call(
            client,
            "create_ticket",
            user_id=order["user_id"],
            order_id=order["order_id"],
            subject="The lamp arrived broken",
            message="The shade was cracked when I opened the box.",
        )
        await call(
            client, "add_ticket_message", ticket_id=ticket["ticket_id"], author="agent", body="Sorry! Photos please?"
        )
        await call(
            client,
            "escalate_ticket",
            ticket_id=ticket["ticket_id"],
            reason="Damaged on arrival",
            summary="Customer reports a cracked shade; needs a replacement decision.",
        )
        async with browser(client) as host:
            view = await host.open("get_ticket", {"ticket_id": ticket["ticket_id"]}, theme)
            await view.get_by_role("heading", name="The lamp arrived broken").wait_for()
            assert await view.locator(".badge").inner_text() == "escalated"
            assert "Damaged on arrival" in await view.get_by_role("region", name="Escalation").inner_text()
            messages = await view.get_by_role("list", name="Messages, oldest first").locator("li").all_inner_texts()
            assert "The shade was cracked" in messages[0] and "Sorry! Photos please?" in messages[1]
            await host.theme_applied(theme)
            await host.shoot(screenshots / f"ticket-{theme}.png")


async def choose_return(view: Any, host: Host, order: dict[str, Any]) -> str:
    """Open the picker, tick the first item by keyboard, refund to the original method; the summary shown."""
    await view.get_by_role("button", name="Return or exchange items").click()
    first = view.get_by_role("checkbox").first
    await first.wait_for()
    await host.page.keyboard.press("Space")  # the picker puts the focus on the first item
    assert await first.is_checked()
    await view.get_by_label("Refund to").select_option(order["payment_history"][0]["payment_method_id"])
    summary = await view.locator(".summary").inner_text()
    return str(summary)


@pytest.mark.slow
async def test_the_pickers_confirm_returns_the_ticked_items_with_the_servers_confirmation(
    settings: Settings, tau2_data: dict[str, Any], screenshots: Path
) -> None:
    order = delivered(tau2_data)
    item = order["items"][0]
    method = order["payment_history"][0]["payment_method_id"]
    person = Person(confirm=True)
    async with (
        connected(build_server(settings), extensions=[APPS], elicitation_callback=person) as client,
        browser(client) as host,
    ):
        view = await host.open("get_order_details", {"order_id": order["order_id"]})
        assert await choose_return(view, host, order) == f"Refund: ${item['price']:,.2f} for 1 item."
        await host.shoot(screenshots / "picker-light.png")
        await host.page.evaluate("window.host.setTheme('dark')")
        await host.theme_applied("dark")
        await host.shoot(screenshots / "picker-dark.png")
        await view.get_by_role("button", name="Review").click()
        assert item["name"] in await view.locator(".confirm").inner_text()
        await view.get_by_role("button", name="Confirm return").click()
        await view.get_by_text(f"Return requested for order {order['order_id']}.").wait_for()
        assert await view.locator(".badge").inner_text() == "return requested"
        assert (await host.calls())[-1] == {
            "name": "return_delivered_order_items",
            "arguments": {"order_id": order["order_id"], "item_ids": [item["item_id"]], "payment_method_id": method},
        }
    # The server asked the person itself, and the database has the return of exactly that item.
    assert len(person.questions) == 1 and item["name"] in person.questions[0]
    changed = (await shop_state(settings))["orders"][order["order_id"]]
    assert changed["status"] == "return requested"
    assert changed["return_items"] == [item["item_id"]]
    assert changed["return_payment_method_id"] == method


@pytest.mark.slow
async def test_declining_in_the_view_or_to_the_server_changes_nothing(
    settings: Settings, tau2_data: dict[str, Any]
) -> None:
    order = delivered(tau2_data)
    before = await shop_state(settings)
    person = Person(confirm=False)
    async with (
        connected(build_server(settings), extensions=[APPS], elicitation_callback=person) as client,
        browser(client) as host,
    ):
        view = await host.open("get_order_details", {"order_id": order["order_id"]})
        await choose_return(view, host, order)
        # Going back from the review calls nothing.
        await view.get_by_role("button", name="Review").click()
        await view.get_by_role("button", name="Go back").click()
        assert [c["name"] for c in await host.calls()] == ["get_user_details"]
        # Confirming in the view still leaves the last word to the person, asked by the server.
        await view.get_by_role("button", name="Review").click()
        await view.get_by_role("button", name="Confirm return").click()
        alert = view.get_by_role("alert")
        await alert.get_by_text("declined", exact=False).wait_for()
        words = "\n".join(block["text"] for block in host.results[-1]["content"])
        assert host.results[-1]["isError"] is True and (await alert.inner_text()).strip() == words.strip()
    assert len(person.questions) == 1
    assert await shop_state(settings) == before


@pytest.mark.slow
async def test_a_refused_call_shows_the_servers_words_in_the_view(
    settings: Settings, tau2_data: dict[str, Any]
) -> None:
    """The view is no bypass: when the order changed meanwhile, the server's rules refuse the call."""
    order = delivered(tau2_data)
    async with connected(build_server(settings), extensions=[APPS]) as client, browser(client) as host:
        view = await host.open("get_order_details", {"order_id": order["order_id"]})
        await choose_return(view, host, order)
        await view.get_by_role("button", name="Review").click()
        # Meanwhile the agent returns another item of the same order.
        await call(
            client,
            "return_delivered_order_items",
            order_id=order["order_id"],
            item_ids=[order["items"][1]["item_id"]],
            payment_method_id=order["payment_history"][0]["payment_method_id"],
        )
        await view.get_by_role("button", name="Confirm return").click()
        alert = view.get_by_role("alert")
        await alert.wait_for()
        refusal = host.results[-1]
        assert refusal["isError"] is True
        assert (await alert.inner_text()).strip() == refusal["content"][0]["text"].strip()
    state = (await shop_state(settings))["orders"][order["order_id"]]
    assert state["return_items"] == [order["items"][1]["item_id"]]


@pytest.mark.slow
async def test_the_picker_exchanges_for_a_variant_the_product_offers(
    settings: Settings, tau2_data: dict[str, Any]
) -> None:
    def replacement(order: dict[str, Any]) -> str | None:
        item = order["items"][0]
        variants = tau2_data["products"][item["product_id"]]["variants"].values()
        return next((v["item_id"] for v in variants if v["available"] and v["item_id"] != item["item_id"]), None)

    def card(user: dict[str, Any]) -> str | None:
        return next((m["id"] for m in user["payment_methods"].values() if m["source"] != "gift_card"), None)

    order = find_order(tau2_data, "delivered", where=lambda o, u: bool(replacement(o) and card(u)))
    item, new_id = order["items"][0], replacement(order)
    method = card(tau2_data["users"][order["user_id"]])
    async with (
        connected(build_server(settings), extensions=[APPS], elicitation_callback=Person(confirm=True)) as client,
        browser(client) as host,
    ):
        view = await host.open("get_order_details", {"order_id": order["order_id"]})
        await view.get_by_role("button", name="Return or exchange items").click()
        await view.get_by_role("checkbox").first.check()
        await view.get_by_label("other variants (exchange)").check()
        await view.get_by_label(f"Replacement for {item['name']}", exact=False).select_option(new_id)
        await view.get_by_label("Charge or refund the difference with").select_option(method)
        assert "Price difference" in await view.locator(".summary").inner_text()
        await view.get_by_role("button", name="Review").click()
        await view.get_by_role("button", name="Confirm exchange").click()
        await view.get_by_text(f"Exchange requested for order {order['order_id']}.").wait_for()
        assert (await host.calls())[-1] == {
            "name": "exchange_delivered_order_items",
            "arguments": {
                "order_id": order["order_id"],
                "item_ids": [item["item_id"]],
                "payment_method_id": method,
                "new_item_ids": [new_id],
            },
        }
        # The replacements offered are the product's, read through the host.
        assert {"name": "get_product_details", "arguments": {"product_id": item["product_id"]}} in await host.calls()
    changed = (await shop_state(settings))["orders"][order["order_id"]]
    assert changed["status"] == "exchange requested"
    assert (changed["exchange_items"], changed["exchange_new_items"]) == ([item["item_id"]], [new_id])
