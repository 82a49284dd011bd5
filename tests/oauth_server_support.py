"""Helpers for the tests of `serve --oauth-server`: a running shopdesk that is its own authorization server, an
operator in its database, and an OAuth client's side of the flow over real HTTP (httpx2, no redirects followed:
each step is looked at)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
from http_support import Running, running
from shop_support import db_arg, open_shop

from shopdesk.oauth import operators
from shopdesk.settings import Settings

OPERATOR = "ann@shop.example"
PASSWORD = "correct horse battery staple"
REDIRECT = "http://127.0.0.1:9/callback"  # never reached: the tests read the redirects, not follow them


def pkce() -> tuple[str, str]:
    """(verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def add_operator(settings: Settings, email: str = OPERATOR, password: str = PASSWORD) -> None:
    async def add() -> None:
        db = await open_shop(settings)
        try:
            await operators.add(db, email, password)
        finally:
            await db.close()

    asyncio.run(add())


def query(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no {name} field in the page"
    return html.unescape(found.group(1))


def sql(settings: Settings, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    """Run one statement on the test's shop (a second handle, as another replica would have)."""

    async def go() -> list[tuple[Any, ...]]:
        db = await open_shop(settings)
        try:
            if statement.lstrip().upper().startswith("SELECT"):
                return [tuple(row) for row in await db.read.execute_fetchall(statement, params)]
            async with db.transaction() as conn:
                await conn.execute(statement, params)
            return []
        finally:
            await db.close()

    return asyncio.run(go())


@dataclass
class Consent:
    """A consent page as a browser got it: its address, its HTML, and the browser's cookies."""

    browser: httpx2.Client
    url: str
    page: str
    request_id: str = ""
    csrf: str = ""

    def __post_init__(self) -> None:
        self.request_id = hidden(self.page, "request")
        self.csrf = hidden(self.page, "csrf")

    def send(self, **fields: Any) -> httpx2.Response:
        body: dict[str, Any] = {"request": self.request_id, "csrf": self.csrf, "action": "allow"}
        body.update(fields)
        return self.browser.post(self.url, data=body)


@dataclass
class AuthServer:
    base: str  # the issuer: http://127.0.0.1:PORT
    url: str  # the MCP endpoint
    running: Running
    settings: Settings
    http: httpx2.Client = field(default_factory=lambda: httpx2.Client(timeout=30))

    def register(self, redirect_uris: list[str] | None = None, **metadata: Any) -> dict[str, Any]:
        body = {"redirect_uris": redirect_uris or [REDIRECT], "client_name": "Test app", **metadata}
        body.setdefault("token_endpoint_auth_method", "none")
        answer = self.http.post(f"{self.base}/register", json=body)
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def authorize(
        self, client: dict[str, Any], challenge: str, *, scope: str = "orders:read", **params: str
    ) -> httpx2.Response:
        args = {
            "response_type": "code",
            "client_id": client["client_id"],
            "redirect_uri": REDIRECT,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "st-123",
            "scope": scope,
            "resource": self.url,
            **params,
        }
        return self.http.get(f"{self.base}/authorize", params=args)

    def consent(self, client: dict[str, Any], challenge: str, **params: str) -> Consent:
        """Follow /authorize to the consent page, as a browser would."""
        answer = self.authorize(client, challenge, **params)
        assert answer.status_code == 302, answer.text
        location = answer.headers["location"]
        assert location.startswith(f"{self.base}/oauth/consent?"), location
        browser = httpx2.Client(timeout=30)
        page = browser.get(location)
        assert page.status_code == 200, page.text
        return Consent(browser, f"{self.base}/oauth/consent", page.text)

    def code(
        self, client: dict[str, Any], *, scopes: list[str], customer: str = "", asked: str = "orders:read"
    ) -> tuple[str, str]:
        """An operator signs in and grants `scopes`: (code, PKCE verifier)."""
        verifier, challenge = pkce()
        answer = self.consent(client, challenge, scope=asked).send(
            email=OPERATOR, password=PASSWORD, scope=scopes, customer=customer
        )
        assert answer.status_code == 303, answer.text
        back = query(answer.headers["location"])
        assert back["state"] == "st-123"
        return back["code"], verifier

    def token(self, client: dict[str, Any], **form: str) -> httpx2.Response:
        return self.http.post(f"{self.base}/token", data={"client_id": client["client_id"], **form})

    def exchange(self, client: dict[str, Any], code: str, verifier: str, **more: str) -> httpx2.Response:
        form = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "redirect_uri": REDIRECT}
        return self.token(client, **{**form, **more})

    def tokens(self, client: dict[str, Any], scopes: list[str], customer: str = "") -> dict[str, Any]:
        code, verifier = self.code(client, scopes=scopes, customer=customer)
        answer = self.exchange(client, code, verifier, resource=self.url)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def refresh(self, client: dict[str, Any], refresh_token: str) -> httpx2.Response:
        return self.token(client, grant_type="refresh_token", refresh_token=refresh_token)

    def revoke(self, client: dict[str, Any], token: str) -> httpx2.Response:
        # A public client's request (RFC 7009): no client_secret field at all.
        return self.http.post(f"{self.base}/revoke", data={"client_id": client["client_id"], "token": token})

    def mcp_status(self, token: str) -> int:
        from http_support import INITIALIZE, MCP_HEADERS

        headers = {**MCP_HEADERS, "Authorization": f"Bearer {token}"}
        return self.http.post(self.url, headers=headers, json=INITIALIZE).status_code


@contextmanager
def oauth_server(settings: Settings, folder: Path, *args: str) -> Iterator[AuthServer]:
    """shopdesk serving `settings`' shop with --oauth-server, with the operator OPERATOR in it."""
    add_operator(settings)
    with running(db_arg(settings), "--oauth-server", *args, folder=folder) as server:
        base = server.url.removesuffix("/mcp")
        auth = AuthServer(base, server.url, server, settings)
        try:
            yield auth
        finally:
            auth.http.close()
