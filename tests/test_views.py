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
from pathlib import Path
from typing import Any

import pytest
from mcp.client.extension import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID, Apps
from shop_support import ROOT, call, connected, find_order

from server import apps_ui
from server.app import build_server
from server.settings import Settings

APPS = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})
REQUIRED = os.environ.get("SHOPDESK_REQUIRE_PEERS") == "1"
BUILT = [
    "server/views/order.html",
    "server/views/customer.html",
    "server/views/ticket.html",
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
        for uri, (tool, file, _) in apps_ui.VIEWS.items():
            assert (tools[tool].meta or {})["ui"] == {"resourceUri": uri}
            assert uri in listed
            (content,) = (await client.read_resource(uri)).contents
            assert content.mime_type == APP_MIME_TYPE
            assert content.text == (ROOT / "server" / "views" / file).read_text(encoding="utf-8")  # type: ignore[union-attr]
            # The host is told to allow nothing external, and the page itself says the same.
            assert (content.meta or {})["ui"]["csp"] == {
                "connectDomains": [],
                "resourceDomains": [],
                "frameDomains": [],
                "baseUriDomains": [],
            }
            assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\';' in content.text  # type: ignore[union-attr]
        others = [t.name for t in tools.values() if "ui" in (t.meta or {})]
        assert sorted(others) == sorted(tool for tool, _, _ in apps_ui.VIEWS.values())


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
    enabled = set(settings.enabled_tools()) - {"get_ticket"}
    apps = apps_ui.extension(enabled)
    assert {b.resource.uri for b in apps.resources()} == {apps_ui.ORDER_VIEW, apps_ui.CUSTOMER_VIEW}


def node() -> str | None:
    peers = ROOT / "tests" / "peers" / "node_modules" / ".bin" / "node"
    return str(peers) if peers.exists() else shutil.which("node")


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
