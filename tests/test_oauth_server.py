"""`serve --oauth-server`: shopdesk as its own OAuth 2.1 authorization server, over real HTTP.

Each test starts a real shopdesk on 127.0.0.1 with an operator in its database and plays the client's and the
browser's part with httpx2 (SHOPDESK_TEST_DB=postgresql runs the same tests on PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from http_support import session
from oauth_server_support import OPERATOR, PASSWORD, REDIRECT, AuthServer, oauth_server, pkce, query, sql

from shopdesk.settings import Settings
from shopdesk.storage.repositories.oauth import digest
from shopdesk.tools import TOOLS

TOOL_SCOPES = {spec.name: spec.access.scope for spec in TOOLS}  # as each tool declares it

pytestmark = pytest.mark.slow


@pytest.fixture
def auth(settings: Settings, tmp_path: Path) -> Iterator[AuthServer]:
    with oauth_server(settings, tmp_path) as server:
        yield server


def tools_for(*scopes: str) -> set[str]:
    return {tool for tool, scope in TOOL_SCOPES.items() if scope is None or scope in scopes}


def test_the_metadata_names_this_server_as_issuer_with_s256_registration_and_revocation(auth: AuthServer) -> None:
    resource = auth.http.get(f"{auth.base}/.well-known/oauth-protected-resource/mcp").json()
    metadata = auth.http.get(f"{auth.base}/.well-known/oauth-authorization-server").json()
    assert (resource["resource"], resource["authorization_servers"]) == (auth.url, [auth.base])
    assert metadata["issuer"] == auth.base
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["registration_endpoint"] == f"{auth.base}/register"
    assert metadata["revocation_endpoint"] == f"{auth.base}/revoke"


async def test_a_granted_token_lists_and_calls_exactly_what_its_scopes_allow(
    auth: AuthServer, tau2_data: dict[str, Any]
) -> None:
    tokens = await asyncio.to_thread(auth.tokens, auth.register(), ["orders:read", "catalog:read"])
    order_id = next(iter(tau2_data["orders"]))
    async with session(auth.url, tokens["access_token"]) as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}
        answer = await client.call_tool("get_order_details", {"order_id": order_id})
        refused = await client.call_tool("get_user_details", {"user_id": tau2_data["orders"][order_id]["user_id"]})
    assert listed == tools_for("orders:read", "catalog:read")
    assert not answer.is_error and answer.structured_content["order_id"] == order_id  # type: ignore[index]
    assert refused.is_error and "There is no tool named" in refused.content[0].text  # type: ignore[union-attr]


def test_the_token_answer_has_a_short_lived_bearer_token_and_a_refresh_token(auth: AuthServer) -> None:
    tokens = auth.tokens(auth.register(), ["orders:read"])
    assert (tokens["token_type"].lower(), tokens["expires_in"], tokens["scope"]) == ("bearer", 3600, "orders:read")
    assert tokens["refresh_token"] and tokens["refresh_token"] != tokens["access_token"]
    assert auth.mcp_status(tokens["access_token"]) == 200


def test_a_refresh_gives_new_tokens_and_the_old_refresh_token_is_refused(auth: AuthServer) -> None:
    client = auth.register()
    first = auth.tokens(client, ["orders:read"])
    renewed = auth.refresh(client, first["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    again = auth.refresh(client, first["refresh_token"])
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    assert auth.mcp_status(renewed.json()["access_token"]) == 401  # the reuse ended the whole grant


def test_a_refreshed_access_token_works(auth: AuthServer) -> None:
    client = auth.register()
    renewed = auth.refresh(client, auth.tokens(client, ["orders:read"])["refresh_token"]).json()
    assert renewed["refresh_token"] and auth.mcp_status(renewed["access_token"]) == 200


def test_a_revoked_access_token_gets_401_and_its_refresh_token_is_dead(auth: AuthServer) -> None:
    client = auth.register()
    tokens = auth.tokens(client, ["orders:read"])
    assert auth.revoke(client, tokens["access_token"]).status_code == 200
    assert auth.mcp_status(tokens["access_token"]) == 401
    assert auth.refresh(client, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_an_expired_access_token_gets_401(auth: AuthServer, settings: Settings) -> None:
    tokens = auth.tokens(auth.register(), ["orders:read"])
    sql(settings, "UPDATE oauth_tokens SET expires_at = 1 WHERE hash = ?", digest(tokens["access_token"]))
    assert auth.mcp_status(tokens["access_token"]) == 401


def test_a_wrong_pkce_verifier_is_refused(auth: AuthServer) -> None:
    client = auth.register()
    code, _ = auth.code(client, scopes=["orders:read"])
    answer = auth.exchange(client, code, pkce()[0])
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_grant")


def test_the_plain_pkce_method_is_refused(auth: AuthServer) -> None:
    client = auth.register()
    verifier, _ = pkce()
    answer = auth.authorize(client, verifier, code_challenge_method="plain")
    assert answer.status_code == 302
    assert query(answer.headers["location"])["error"] == "invalid_request"
    assert answer.headers["location"].startswith(REDIRECT)


def test_a_redirect_uri_not_registered_is_refused_without_redirecting(auth: AuthServer) -> None:
    answer = auth.authorize(auth.register(), pkce()[1], redirect_uri="https://evil.example/cb")
    assert answer.status_code == 400 and "location" not in answer.headers


def test_a_registered_loopback_redirect_matches_on_any_port(auth: AuthServer) -> None:
    answer = auth.authorize(auth.register(), pkce()[1], redirect_uri="http://127.0.0.1:53117/callback")
    assert answer.status_code == 302 and "/oauth/consent?" in answer.headers["location"]


def test_an_http_redirect_off_this_machine_cannot_be_registered(auth: AuthServer) -> None:
    answer = auth.http.post(f"{auth.base}/register", json={"redirect_uris": ["http://shop.example/cb"]})
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_redirect_uri")


def test_a_resource_for_another_server_is_refused_at_authorize(auth: AuthServer) -> None:
    answer = auth.authorize(auth.register(), pkce()[1], resource="https://other.example/mcp")
    assert query(answer.headers["location"])["error"] == "invalid_target"


def test_a_resource_for_another_server_is_refused_at_the_token_endpoint(auth: AuthServer) -> None:
    client = auth.register()
    code, verifier = auth.code(client, scopes=["orders:read"])
    answer = auth.exchange(client, code, verifier, resource="https://other.example/mcp")
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_target")


def test_an_expired_code_is_refused(auth: AuthServer, settings: Settings) -> None:
    client = auth.register()
    code, verifier = auth.code(client, scopes=["orders:read"])
    sql(settings, "UPDATE oauth_codes SET expires_at = 1 WHERE hash = ?", digest(code))
    answer = auth.exchange(client, code, verifier)
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_grant")


def test_a_code_used_twice_is_refused_and_ends_the_tokens_it_gave(auth: AuthServer) -> None:
    client = auth.register()
    code, verifier = auth.code(client, scopes=["orders:read"])
    first = auth.exchange(client, code, verifier).json()
    second = auth.exchange(client, code, verifier)
    assert (second.status_code, second.json()["error"]) == (400, "invalid_grant")
    assert auth.mcp_status(first["access_token"]) == 401


def test_a_code_is_refused_to_another_client(auth: AuthServer) -> None:
    code, verifier = auth.code(auth.register(), scopes=["orders:read"])
    answer = auth.exchange(auth.register(), code, verifier)
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_grant")


def test_a_wrong_password_is_refused_and_gives_no_code(auth: AuthServer) -> None:
    consent = auth.consent(auth.register(), pkce()[1])
    answer = consent.send(email=OPERATOR, password="not the password", scope=["orders:read"])
    assert answer.status_code == 401 and "Wrong email or password." in answer.text
    assert "location" not in answer.headers


def test_five_wrong_passwords_block_the_address_even_with_the_right_one(auth: AuthServer) -> None:
    consent = auth.consent(auth.register(), pkce()[1])
    for _ in range(5):
        wrong = consent.send(email=OPERATOR, password="not the password", scope=["orders:read"])
        consent.csrf = wrong.text.split('name="csrf" value="')[1].split('"')[0]
    answer = consent.send(email=OPERATOR, password=PASSWORD, scope=["orders:read"])
    assert answer.status_code == 429 and "Too many wrong passwords" in answer.text


def test_a_form_without_its_csrf_token_is_refused(auth: AuthServer) -> None:
    consent = auth.consent(auth.register(), pkce()[1])
    consent.csrf = ""
    answer = consent.send(email=OPERATOR, password=PASSWORD, scope=["orders:read"])
    assert answer.status_code == 403 and "location" not in answer.headers


def test_a_csrf_token_is_good_for_one_answer_only(auth: AuthServer) -> None:
    consent = auth.consent(auth.register(), pkce()[1])
    consent.send(email=OPERATOR, password="not the password", scope=["orders:read"])
    answer = consent.send(email=OPERATOR, password=PASSWORD, scope=["orders:read"])  # the spent token again
    assert answer.status_code == 403 and "location" not in answer.headers


def test_a_form_sent_without_the_pages_cookie_is_refused(auth: AuthServer) -> None:
    consent = auth.consent(auth.register(), pkce()[1])
    consent.browser.cookies.clear()
    answer = consent.send(email=OPERATOR, password=PASSWORD, scope=["orders:read"])
    assert answer.status_code == 403 and "location" not in answer.headers


def test_deny_sends_the_browser_back_with_access_denied_and_the_state(auth: AuthServer) -> None:
    consent = auth.consent(auth.register(), pkce()[1])
    answer = consent.send(action="deny")
    back = query(answer.headers["location"])
    assert answer.status_code == 303 and (back["error"], back["state"]) == ("access_denied", "st-123")


def test_the_page_preselects_the_scopes_the_client_asked_for(auth: AuthServer) -> None:
    page = auth.consent(auth.register(), pkce()[1], scope="orders:read tickets:read").page
    assert 'value="orders:read" checked' in page and 'value="tickets:read" checked' in page
    assert 'value="orders:write">' in page


def test_the_page_refuses_framing_and_escapes_the_client_name(auth: AuthServer) -> None:
    consent = auth.consent(auth.register(client_name="<script>alert(1)</script>"), pkce()[1])
    answer = consent.browser.get(f"{auth.base}/oauth/consent", params={"request": consent.request_id})
    assert answer.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert "<script>" not in answer.text and "&lt;script&gt;" in answer.text


def test_the_csrf_cookie_is_http_only_and_same_site_strict(auth: AuthServer) -> None:
    client = auth.register()
    location = auth.authorize(client, pkce()[1]).headers["location"]
    cookie = auth.http.get(location).headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_a_customer_bound_grant_sees_only_that_customer(auth: AuthServer, tau2_data: dict[str, Any]) -> None:
    mine = next(iter(tau2_data["orders"].values()))
    customer = mine["user_id"]
    other = next(o["order_id"] for o in tau2_data["orders"].values() if o["user_id"] != customer)

    async def look() -> tuple[bool, bool]:
        tokens = await asyncio.to_thread(auth.tokens, auth.register(), ["orders:read"], customer)
        async with session(auth.url, tokens["access_token"]) as client:
            own = await client.call_tool("get_order_details", {"order_id": mine["order_id"]})
            foreign = await client.call_tool("get_order_details", {"order_id": other})
        return own.is_error, foreign.is_error

    assert asyncio.run(look()) == (False, True)


def test_an_unknown_customer_cannot_be_bound(auth: AuthServer) -> None:
    consent = auth.consent(auth.register(), pkce()[1])
    answer = consent.send(email=OPERATOR, password=PASSWORD, scope=["orders:read"], customer="nobody_1234")
    assert answer.status_code == 400 and "No customer has the user id nobody_1234" in answer.text


def test_codes_and_tokens_are_stored_only_as_hashes(auth: AuthServer, settings: Settings) -> None:
    client = auth.register()
    code, verifier = auth.code(client, scopes=["orders:read"])
    tokens = auth.exchange(client, code, verifier).json()
    stored = sql(settings, "SELECT hash FROM oauth_tokens") + sql(settings, "SELECT hash FROM oauth_codes")
    secrets_given = [code, tokens["access_token"], tokens["refresh_token"]]
    assert sorted(h for (h,) in stored) == sorted(digest(s) for s in secrets_given)
    everything = repr(sql(settings, "SELECT * FROM oauth_tokens") + sql(settings, "SELECT * FROM oauth_codes"))
    assert not any(s in everything for s in secrets_given)


async def test_a_write_is_audited_with_the_operator_and_the_oauth_client(
    auth: AuthServer, settings: Settings, tau2_data: dict[str, Any]
) -> None:
    client = auth.register()
    tokens = await asyncio.to_thread(auth.tokens, client, ["tickets:write"])
    user = next(iter(tau2_data["users"]))
    async with session(auth.url, tokens["access_token"]) as mcp:
        made = await mcp.call_tool("create_ticket", {"user_id": user, "subject": "Parcel late", "message": "Where?"})
    assert not made.is_error, made.content
    rows = await asyncio.to_thread(sql, settings, "SELECT subject FROM audit_log WHERE action = 'create_ticket'")
    assert rows == [(f"{OPERATOR} via {client['client_id']}",)]
