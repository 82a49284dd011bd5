"""shopdesk as a resource server of a real authorization server: panva's oidc-provider (tests/peers) issues
access tokens by client credentials with a resource indicator (RFC 8707), and `shopdesk serve
--oauth-issuer` checks them. Everything runs over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from conftest import free_port
from http_support import INITIALIZE, MCP_HEADERS, Running, copy_shop, env, running, session
from http_support import transfer_keyed as transfer
from oauth_support import AGENT, BOUND_AGENT, BOUND_CUSTOMER, OPAQUE_AGENT, SHOPDESK, OidcProvider, SigningKey
from oauth_support import oidc_provider as oidc_provider  # the fixture
from shop_support import call, refused

from shopdesk.access.tokens import AuthFile
from shopdesk.tools import TOOLS

TOOL_SCOPES = {spec.name: spec.access.scope for spec in TOOLS}  # as each tool declares it

pytestmark = pytest.mark.slow  # oidc-provider (Node) and shopdesk processes


def post(url: str, token: str) -> httpx2.Response:
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {token}"}
    return httpx2.post(url, headers=headers, content=json.dumps(INITIALIZE).encode(), timeout=30)


@pytest.fixture
def shop(oidc_provider: OidcProvider, tau2_template: Path, tmp_path: Path) -> Iterator[Running]:
    db = copy_shop(tau2_template, tmp_path / "shop")
    flags = ["--oauth-issuer", oidc_provider.issuer, "--oauth-customer-claim", "shop_customer"]
    with running(db, *flags) as server:
        yield server


async def tool_names(url: str, token: str) -> set[str]:
    async with session(url, token) as client:
        return {tool.name for tool in (await client.list_tools()).tools}


async def test_a_catalog_read_token_lists_only_the_catalog_tools(oidc_provider: OidcProvider, shop: Running) -> None:
    token = oidc_provider.token(AGENT, "catalog:read", shop.url)
    expected = {name for name, scope in TOOL_SCOPES.items() if scope in (None, "catalog:read")}
    assert await tool_names(shop.url, token) == expected


async def test_a_call_outside_the_tokens_scopes_is_refused_as_no_tool(
    oidc_provider: OidcProvider, shop: Running
) -> None:
    token = oidc_provider.token(AGENT, "catalog:read", shop.url)
    async with session(shop.url, token) as client:
        text = await refused(client, "get_user_details", user_id=BOUND_CUSTOMER)
    assert "There is no tool named `get_user_details`" in text


async def test_a_token_with_a_write_scope_can_write(oidc_provider: OidcProvider, shop: Running) -> None:
    token = oidc_provider.token(AGENT, "tickets:read tickets:write", shop.url)
    async with session(shop.url, token) as client:
        ticket = await call(
            client, "create_ticket", user_id=BOUND_CUSTOMER, subject="Parcel late", message="Where is it?"
        )
        assert (await call(client, "get_ticket", ticket_id=ticket["ticket_id"]))["status"] == "open"


def test_a_token_for_another_resource_is_refused_with_401(oidc_provider: OidcProvider, shop: Running) -> None:
    token = oidc_provider.token(AGENT, "catalog:read", f"http://127.0.0.1:{shop.port}/other")
    assert post(shop.url, token).status_code == 401
    assert post(shop.url, oidc_provider.token(AGENT, "catalog:read", shop.url)).status_code == 200


def test_a_token_signed_by_another_key_under_the_providers_key_id_is_refused(
    oidc_provider: OidcProvider, shop: Running
) -> None:
    forged = SigningKey(oidc_provider.key.kid).sign(_claims(oidc_provider, shop, lifetime=300))
    assert post(shop.url, forged).status_code == 401


def test_an_expired_token_signed_by_the_provider_is_refused(oidc_provider: OidcProvider, shop: Running) -> None:
    expired = oidc_provider.key.sign(_claims(oidc_provider, shop, lifetime=-120))
    assert post(shop.url, expired).status_code == 401
    fresh = oidc_provider.key.sign(_claims(oidc_provider, shop, lifetime=300))
    assert post(shop.url, fresh).status_code == 200  # the same claims, in date, pass


def test_after_the_provider_rotates_its_key_its_new_tokens_are_accepted_without_a_restart(
    oidc_provider: OidcProvider, shop: Running
) -> None:
    assert post(shop.url, oidc_provider.token(AGENT, "catalog:read", shop.url)).status_code == 200
    oidc_provider.rotate()
    assert post(shop.url, oidc_provider.token(AGENT, "catalog:read", shop.url)).status_code == 200
    assert shop.process.poll() is None


def test_the_401_points_to_metadata_naming_the_provider(oidc_provider: OidcProvider, shop: Running) -> None:
    response = post(shop.url, "not-a-token")
    assert response.status_code == 401
    header = response.headers["WWW-Authenticate"]
    metadata_url = header.split('resource_metadata="', 1)[1].split('"', 1)[0]
    metadata = httpx2.get(metadata_url, timeout=30).json()
    assert metadata["resource"] == shop.url and metadata["authorization_servers"] == [oidc_provider.issuer]


def test_the_metadata_lists_the_scopes_a_client_may_ask_for(oidc_provider: OidcProvider, shop: Running) -> None:
    metadata_url = f"http://127.0.0.1:{shop.port}/.well-known/oauth-protected-resource/mcp"
    assert httpx2.get(metadata_url, timeout=30).json()["scopes_supported"] == sorted(set(TOOL_SCOPES.values()) - {None})


async def test_the_customer_claim_binds_the_session_to_that_customer(
    oidc_provider: OidcProvider, shop: Running, tau2_data: dict[str, Any]
) -> None:
    token = oidc_provider.token(BOUND_AGENT, "customers:read orders:read", shop.url)
    stranger = next(user for user in tau2_data["users"] if user != BOUND_CUSTOMER)
    async with session(shop.url, token) as client:
        assert (await call(client, "get_user_details", user_id=BOUND_CUSTOMER))["user_id"] == BOUND_CUSTOMER
        assert "not found" in (await refused(client, "get_user_details", user_id=stranger)).lower()


async def test_an_auth_file_token_still_works_beside_the_provider(
    oidc_provider: OidcProvider, tau2_template: Path, tmp_path: Path
) -> None:
    db = copy_shop(tau2_template, tmp_path / "both")
    auth = AuthFile(tmp_path / "both" / "tokens.json")
    _, script_token = auth.create("nightly-script", ["orders:read"])
    with running(db, "--oauth-issuer", oidc_provider.issuer, "--auth-file", str(auth.path)) as server:
        assert post(server.url, script_token).status_code == 200
        assert post(server.url, oidc_provider.token(AGENT, "orders:read", server.url)).status_code == 200


async def test_an_opaque_token_is_checked_by_introspection(
    oidc_provider: OidcProvider, tau2_template: Path, tmp_path: Path
) -> None:
    db = copy_shop(tau2_template, tmp_path / "opaque")
    introspection = f"{oidc_provider.issuer}/token/introspection"
    settings = {"SHOPDESK_OAUTH_CLIENT_ID": SHOPDESK.client_id, "SHOPDESK_OAUTH_CLIENT_SECRET": SHOPDESK.client_secret}
    flags = ["--oauth-issuer", oidc_provider.issuer, "--oauth-introspection-url", introspection]
    with running(db, *flags, extra_env=settings) as server:
        token = oidc_provider.token(OPAQUE_AGENT, "catalog:read", server.url)
        assert token.count(".") != 2  # not a JWT
        expected = {name for name, scope in TOOL_SCOPES.items() if scope in (None, "catalog:read")}
        assert await tool_names(server.url, token) == expected


def test_an_unreachable_issuer_stops_serve_with_one_line(tmp_path: Path, tau2_template: Path) -> None:
    db = copy_shop(tau2_template, tmp_path / "nowhere")
    issuer = f"http://127.0.0.1:{free_port()}"
    serve = [sys.executable, "-m", "shopdesk", "serve", "--transport", "http", "--port", str(free_port())]
    done = subprocess.run(
        [*serve, "--db", str(db), "--oauth-issuer", issuer], env=env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"shopdesk: error: cannot reach {issuer}/.well-known/oauth-authorization-server: All connection attempts failed"
    ]


def _claims(provider: OidcProvider, shop: Running, *, lifetime: int) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": provider.issuer,
        "aud": shop.url,
        "sub": AGENT.client_id,
        "client_id": AGENT.client_id,
        "scope": "catalog:read",
        "iat": now,
        "exp": now + lifetime,
    }


def test_a_bad_scope_map_stops_serve_with_one_line_before_any_database_is_made(tmp_path: Path) -> None:
    db = tmp_path / "never.sqlite3"
    serve = [sys.executable, "-m", "shopdesk", "serve", "--transport", "http", "--port", str(free_port())]
    flags = ["--oauth-issuer", "https://id.example", "--oauth-scope-map", "Orders.Read=orders:everything"]
    done = subprocess.run([*serve, "--db", str(db), *flags], env=env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    assert "not 'Orders.Read=orders:everything'" in done.stderr and not db.exists()


async def test_a_new_token_of_the_same_client_replays_its_idempotency_keys(
    oidc_provider: OidcProvider, shop: Running
) -> None:
    first, _ = await transfer(shop.url, oidc_provider.token(AGENT, "tickets:write", shop.url), "key-1")
    again, replayed = await transfer(shop.url, oidc_provider.token(AGENT, "tickets:write", shop.url), "key-1")
    assert replayed and again == first


async def test_another_client_does_not_replay_them(oidc_provider: OidcProvider, shop: Running) -> None:
    first, _ = await transfer(shop.url, oidc_provider.token(AGENT, "tickets:write", shop.url), "key-2")
    other, replayed = await transfer(shop.url, oidc_provider.token(BOUND_AGENT, "tickets:write", shop.url), "key-2")
    assert not replayed and other != first
