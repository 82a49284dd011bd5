"""mcp-remote (npm, pinned in tests/peers), the stdio-to-HTTP bridge many desktop clients use for remote servers,
against an OAuth-protected shopdesk, both ways: shopdesk as its own authorization server (`--oauth-server`) and
as a resource server of oidc-provider (`--oauth-issuer`).

The Python SDK's stdio client runs `mcp-remote URL PORT`; mcp-remote meets the 401, reads the metadata,
registers itself, and opens the authorization URL with $BROWSER: here tests/peers/sign_in_browser.py, which
signs in and consents in headless Chromium and follows the redirect to mcp-remote's own callback on loopback.
mcp-remote then exchanges the code (PKCE) and bridges the listing and a call. Its tokens and registration go to
MCP_REMOTE_CONFIG_DIR, a folder of the test's own."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from http_support import copy_shop, free_port, running
from mcp.client.stdio import StdioServerParameters
from oauth_server_support import OPERATOR, PASSWORD, oauth_server
from oauth_support import BOUND_CUSTOMER, CHROMIUM, NODE, PEERS, OidcProvider, missing
from oauth_support import oidc_provider as oidc_provider  # the fixture
from shop_support import connected

from shopdesk.settings import Settings

pytestmark = pytest.mark.slow  # Node, shopdesk, oidc-provider and Chromium processes

MCP_REMOTE = PEERS / "node_modules" / "mcp-remote" / "dist" / "proxy.js"
BROWSER = PEERS / "sign_in_browser.py"


def bridge(url: str, folder: Path, **person: str) -> StdioServerParameters:
    """mcp-remote for `url`, with a browser that signs in as `person` says and a config folder of its own."""
    if not (NODE.exists() and MCP_REMOTE.exists()):
        missing("tests/peers/node_modules has no mcp-remote: run `npm ci --prefix tests/peers`")
    if not CHROMIUM.exists():
        missing("Debian's chromium is not installed: apt-get install -y chromium")
    browser = folder / "browser"
    browser.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{BROWSER}" "$@"\n', encoding="utf-8")
    browser.chmod(0o755)
    (folder / "home").mkdir()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(folder / "home"),
        "MCP_REMOTE_CONFIG_DIR": str(folder / "mcp-auth"),
        "BROWSER": str(browser),
        "OAUTH_BROWSER_LOG": str(folder / "browser.log"),
        **person,
    }
    # The callback port; --auth-timeout makes a sign-in that never comes back fail instead of hang.
    args = [str(MCP_REMOTE), url, str(free_port()), "--auth-timeout", "90"]
    return StdioServerParameters(command=str(NODE), args=args, env=env, cwd=str(folder))


async def list_and_call(params: StdioServerParameters, tool: str, arguments: dict[str, Any]) -> tuple[set[str], Any]:
    async with connected(params) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool(tool, arguments)
    return names, result


def test_mcp_remote_signs_in_at_shopdesks_consent_page_lists_and_calls(settings: Settings, tmp_path: Path) -> None:
    with oauth_server(settings, tmp_path) as auth:
        params = bridge(
            auth.url, tmp_path, OAUTH_EMAIL=OPERATOR, OAUTH_PASSWORD=PASSWORD, OAUTH_SCOPES="orders:read catalog:read"
        )
        names, result = asyncio.run(list_and_call(params, "list_all_product_types", {}))
    log = (tmp_path / "browser.log").read_text(encoding="utf-8")
    assert "/oauth/consent?request=" in log and "back at the client" in log, log
    # The operator granted reading orders and the catalogue: the listing is what those scopes reach.
    assert {"get_order_details", "list_all_product_types"} <= names
    assert not names & {"cancel_pending_order", "get_user_details", "create_ticket"}
    assert result.is_error is False


def test_mcp_remote_signs_in_at_the_identity_provider_lists_and_calls(
    oidc_provider: OidcProvider, tau2_template: Path, tmp_path: Path
) -> None:
    db = copy_shop(tau2_template, tmp_path / "shop")
    with running(db, "--oauth-issuer", oidc_provider.issuer) as shop:
        params = bridge(shop.url, tmp_path, OAUTH_LOGIN="carol")
        names, result = asyncio.run(list_and_call(params, "get_user_details", {"user_id": BOUND_CUSTOMER}))
    log = (tmp_path / "browser.log").read_text(encoding="utf-8")
    assert oidc_provider.issuer in log and "back at the client" in log, log
    assert {"get_user_details", "cancel_pending_order"} <= names
    assert result.is_error is False
