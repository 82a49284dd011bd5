"""A person signs in: an authorization code with PKCE through oidc-provider's own login and consent pages,
driven by headless Chromium, ends in an access token `shopdesk serve --oauth-issuer` accepts; the token the
refresh token then gets is accepted too, and keeps the first one's idempotency keys."""

from __future__ import annotations

import base64
import hashlib
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest
from http_support import Running, copy_shop, running, session
from http_support import transfer_keyed as transfer
from oauth_support import BOUND_CUSTOMER, CALLBACK, DESK_APP, OidcProvider, sign_in_and_consent
from oauth_support import oidc_provider as oidc_provider  # the fixture
from shop_support import call

pytestmark = pytest.mark.slow  # oidc-provider (Node), shopdesk and Chromium processes


@pytest.fixture
def shop(oidc_provider: OidcProvider, tau2_template: Path, tmp_path: Path) -> Iterator[Running]:
    db = copy_shop(tau2_template, tmp_path / "shop")
    with running(db, "--oauth-issuer", oidc_provider.issuer) as server:
        yield server


async def sign_in(provider: OidcProvider, resource: str, scope: str, login: str) -> dict[str, Any]:
    """The token response the desk app gets after `login` signs in and consents in Chromium (with a refresh
    token when `scope` holds offline_access)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(16)
    query = {
        "client_id": DESK_APP.client_id,
        "response_type": "code",
        "redirect_uri": CALLBACK,
        "scope": f"openid {scope}",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": state,
        "resource": resource,
        "prompt": "consent",  # oidc-provider grants offline_access (a refresh token) only on consent
    }
    redirected, consent = await sign_in_and_consent(f"{provider.issuer}/auth?{urlencode(query)}", login, CALLBACK)
    assert "customers" in consent or "tickets" in consent, consent[:2000]
    answer = parse_qs(urlsplit(redirected).query)
    assert answer["state"] == [state]
    token = httpx2.post(
        f"{provider.issuer}/token",
        auth=(DESK_APP.client_id, DESK_APP.client_secret),
        data={
            "grant_type": "authorization_code",
            "code": answer["code"][0],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
            "resource": resource,
        },
        timeout=30,
    )
    assert token.status_code == 200, token.text
    answer_json: dict[str, Any] = token.json()
    return answer_json


async def test_a_token_from_a_browser_sign_in_is_accepted_with_its_scopes(
    oidc_provider: OidcProvider, shop: Running
) -> None:
    token = (await sign_in(oidc_provider, shop.url, "customers:read", "alice"))["access_token"]
    async with session(shop.url, token) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert (await call(client, "get_user_details", user_id=BOUND_CUSTOMER))["user_id"] == BOUND_CUSTOMER
    assert "get_user_details" in names and "get_order_details" not in names


async def test_the_audit_names_the_person_and_the_client_that_wrote(
    oidc_provider: OidcProvider, shop: Running, tmp_path: Path
) -> None:
    token = (await sign_in(oidc_provider, shop.url, "tickets:write", "alice"))["access_token"]
    async with session(shop.url, token) as client:
        await call(client, "create_ticket", user_id=BOUND_CUSTOMER, subject="Late parcel", message="Still waiting.")
    with sqlite3.connect(tmp_path / "shop" / "shop.sqlite3") as db:
        subjects = [row[0] for row in db.execute("SELECT subject FROM audit_log WHERE action = 'create_ticket'")]
    assert subjects == ["alice via desk-app"]


async def test_a_refreshed_token_is_accepted_and_keeps_the_idempotency_keys(
    oidc_provider: OidcProvider, shop: Running
) -> None:
    tokens = await sign_in(oidc_provider, shop.url, "offline_access tickets:write", "alice")
    first, _ = await transfer(shop.url, tokens["access_token"], "refresh-key")
    refreshed = httpx2.post(
        f"{oidc_provider.issuer}/token",
        auth=(DESK_APP.client_id, DESK_APP.client_secret),
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "resource": shop.url},
        timeout=30,
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["access_token"] != tokens["access_token"]
    again, replayed = await transfer(shop.url, refreshed.json()["access_token"], "refresh-key")
    assert replayed and again == first
