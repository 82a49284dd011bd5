"""The official TypeScript SDK's OAuth client (tests/peers/ts_oauth_client.mjs) connects to a shopdesk that
trusts oidc-provider: 401 -> protected resource metadata -> the provider's metadata -> dynamic client
registration -> authorization code with PKCE (a person signs in and consents in Chromium) -> token ->
tools/call. Everything runs over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from http_support import Running, copy_shop, env, running
from oauth_support import BOUND_CUSTOMER, NODE, PEERS, OidcProvider, sign_in_and_consent
from oauth_support import oidc_provider as oidc_provider  # the fixture

from shopdesk.tools import TOOLS

TOOL_SCOPES = {spec.name: spec.access.scope for spec in TOOLS}  # as each tool declares it

pytestmark = pytest.mark.slow  # Node, oidc-provider, shopdesk and Chromium processes

CLIENT = PEERS / "ts_oauth_client.mjs"
REDIRECT = "http://127.0.0.1:9/oauth/callback"


@pytest.fixture
def shop(oidc_provider: OidcProvider, tau2_template: Path, tmp_path: Path) -> Iterator[Running]:
    db = copy_shop(tau2_template, tmp_path / "shop")
    with running(db, "--oauth-issuer", oidc_provider.issuer) as server:
        yield server


async def run_client(shop: Running, scope: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    command = [str(NODE), str(CLIENT), shop.url, REDIRECT, scope, tool, json.dumps(arguments)]
    node = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
    assert node.stdin is not None and node.stdout is not None
    try:
        first = node.stdout.readline()
        assert first, node.stderr.read().decode() if node.stderr else ""
        redirected, _ = await sign_in_and_consent(json.loads(first)["authorize"], "carol", REDIRECT)
        node.stdin.write(parse_qs(urlsplit(redirected).query)["code"][0].encode() + b"\n")
        node.stdin.flush()
        out, err = node.communicate(timeout=120)
    finally:
        if node.poll() is None:
            node.kill()
            node.wait()
    assert node.returncode == 0, err.decode()
    summary: dict[str, Any] = json.loads(out.decode().splitlines()[-1])
    return summary


async def test_the_typescript_sdk_signs_in_at_the_provider_and_calls_a_tool(
    oidc_provider: OidcProvider, shop: Running
) -> None:
    summary = await run_client(shop, "customers:read", "get_user_details", {"user_id": BOUND_CUSTOMER})
    assert summary["isError"] is False and summary["result"]["user_id"] == BOUND_CUSTOMER
    # It asked for the scopes the metadata lists (all of shopdesk's), and the person granted them.
    assert set(summary["tools"]) == set(TOOL_SCOPES)
    requests = summary["requests"]
    assert requests[:4] == [
        "POST shopdesk /mcp 401",
        "GET shopdesk /.well-known/oauth-protected-resource/mcp 200",
        "GET provider /.well-known/oauth-authorization-server 200",
        "POST provider /reg 201",
    ]
    assert "POST provider /token 200" in requests and requests[-1] == "POST shopdesk /mcp 200"
