"""OAuth test helpers: signing keys and a small provider of our own (discovery, JWKS, introspection) for the
edge cases, and panva's oidc-provider (tests/peers/oidc_provider.mjs) for the real thing."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import httpx2
import jwt
import pytest
from conftest import free_port, wait_until_listening
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

MCP_URL = "http://127.0.0.1:8000/mcp"


@dataclass
class SigningKey:
    """An RSA key pair of a test provider."""

    kid: str
    private: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    def jwk(self) -> dict[str, Any]:
        public: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def sign(self, claims: Mapping[str, Any], *, alg: str = "RS256", kid: str | None = None) -> str:
        return jwt.encode(dict(claims), self.private, algorithm=alg, headers={"kid": kid or self.kid, "typ": "at+jwt"})


def claims(issuer: str, *, audience: str | list[str] = MCP_URL, lifetime: int = 300, **more: Any) -> dict[str, Any]:
    """An access token's claims, valid now for `lifetime` seconds."""
    now = int(time.time())
    base = {
        "iss": issuer,
        "aud": audience,
        "sub": "alice",
        "client_id": "shop-agent",
        "iat": now,
        "exp": now + lifetime,
    }
    return {**base, "scope": "orders:read catalog:read", **more}


def unsigned(payload: Mapping[str, Any], kid: str) -> str:
    """A token with alg `none`, which no verifier may accept."""

    def part(value: Mapping[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'kid': kid, 'typ': 'at+jwt'})}.{part(payload)}."


@dataclass
class LocalProvider:
    """A provider's discovery document, JWKS and introspection endpoint, as a Starlette app; its keys can be
    changed while it runs, and it counts the requests made to it."""

    issuer: str
    keys: list[SigningKey] = field(default_factory=lambda: [SigningKey("key-1")])
    openid_only: bool = False  # serve only /.well-known/openid-configuration, not RFC 8414's document
    client: tuple[str, str] = ("shopdesk", "shopdesk-secret")
    introspection: dict[str, dict[str, Any]] = field(default_factory=dict)  # token -> its answer
    jwks_fetches: int = 0
    jwks_status: int = 200  # anything else: the key set is unavailable
    extra_jwks: list[dict[str, Any]] = field(default_factory=list)  # public JWKs served beside the keys'
    introspections: int = 0

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{self.base}/jwks",
            "introspection_endpoint": f"{self.base}/introspect",
            "token_endpoint": f"{self.base}/token",
        }

    @property
    def base(self) -> str:
        return self.issuer.rstrip("/")

    def app(self) -> Starlette:
        async def rfc8414(request: Request) -> Response:
            if self.openid_only:
                return JSONResponse({"error": "not found"}, status_code=404)
            return JSONResponse(self.metadata())

        async def openid(request: Request) -> Response:
            return JSONResponse(self.metadata())

        async def jwks(request: Request) -> Response:
            self.jwks_fetches += 1
            if self.jwks_status != 200:
                return JSONResponse({"error": "unavailable"}, status_code=self.jwks_status)
            return JSONResponse({"keys": [key.jwk() for key in self.keys] + self.extra_jwks})

        async def introspect(request: Request) -> Response:
            self.introspections += 1
            expected = "Basic " + base64.b64encode(":".join(self.client).encode()).decode()
            if request.headers.get("authorization") != expected:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            form = await request.form()
            return JSONResponse(self.introspection.get(str(form.get("token")), {"active": False}))

        return Starlette(
            routes=[
                Route("/.well-known/oauth-authorization-server", rfc8414),
                Route("/.well-known/openid-configuration", openid),
                Route("/jwks", jwks),
                Route("/introspect", introspect, methods=["POST"]),
            ]
        )


# --- panva's oidc-provider, run by Node from tests/peers ------------------------------------------------------

PEERS = Path(__file__).resolve().parent / "peers"
NODE = PEERS / "node_modules" / ".bin" / "node"
PROVIDER_SCRIPT = PEERS / "oidc_provider.mjs"
SCOPES = ["customers:read", "customers:write", "orders:read", "orders:write", "catalog:read", "tickets:read"]
SCOPES += ["tickets:write", "admin"]
BOUND_CUSTOMER = "noah_brown_6181"  # a customer of the τ² shop


def private_jwk(key: SigningKey) -> dict[str, Any]:
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key.private, as_dict=True)
    return {**jwk, "kid": key.kid, "use": "sig", "alg": "RS256"}


@dataclass
class Client:
    client_id: str
    client_secret: str
    token_format: str = "jwt"
    redirect_uris: list[str] | None = None


AGENT = Client("shop-agent", "agent-secret-" + "a" * 32)
BOUND_AGENT = Client("bound-agent", "bound-secret-" + "b" * 32)
OPAQUE_AGENT = Client("opaque-agent", "opaque-secret-" + "c" * 32, token_format="opaque")
SHOPDESK = Client("shopdesk", "shopdesk-secret-" + "d" * 32)  # shopdesk's own, to introspect with
# An app a person signs in to (authorization code with PKCE); nothing listens at its redirect URI: the browser
# test catches the redirect.
CALLBACK = "http://127.0.0.1:9/callback"
DESK_APP = Client("desk-app", "desk-secret-" + "e" * 32, redirect_uris=[CALLBACK])
CLIENTS = (AGENT, BOUND_AGENT, OPAQUE_AGENT, SHOPDESK, DESK_APP)


@dataclass
class OidcProvider:
    """oidc-provider on 127.0.0.1, signing with `key`; `rotate` restarts it with a new key."""

    folder: Path
    port: int = field(default_factory=free_port)
    key: SigningKey = field(default_factory=lambda: SigningKey("provider-key-1"))
    process: subprocess.Popen[bytes] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        config = {
            "port": self.port,
            "keys": [private_jwk(self.key)],
            "scopes": SCOPES,
            "clients": [{k: v for k, v in vars(c).items() if v} for c in CLIENTS],
            "customers": {BOUND_AGENT.client_id: BOUND_CUSTOMER},
        }
        path = self.folder / f"oidc-provider-{self.key.kid}.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        with open(self.folder / f"oidc-provider-{self.key.kid}.log", "wb") as log:
            self.process = subprocess.Popen([str(NODE), str(PROVIDER_SCRIPT), str(path)], stdout=log, stderr=log)
        wait_until_listening(self.port, self.process)
        wait_for_discovery(self.issuer)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def rotate(self) -> None:
        """Restart with a new signing key (and only that one)."""
        self.stop()
        number = int(self.key.kid.rsplit("-", 1)[1]) + 1
        self.key = SigningKey(f"provider-key-{number}")
        self.start()

    def token(self, client: Client, scope: str, resource: str) -> str:
        """An access token by client credentials, for `resource` (RFC 8707)."""
        response = httpx2.post(
            f"{self.issuer}/token",
            auth=(client.client_id, client.client_secret),
            data={"grant_type": "client_credentials", "scope": scope, "resource": resource},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])


def wait_for_discovery(issuer: str) -> None:
    """Readiness: the provider answers its discovery document (gives up after 30 tries)."""
    for _ in range(30):
        try:
            if httpx2.get(f"{issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
    raise TimeoutError(f"{issuer} did not answer its discovery document")


def missing(reason: str) -> NoReturn:
    """Skip for want of a peer (Node, oidc-provider, Chromium), or fail in CI (SHOPDESK_REQUIRE_PEERS=1)."""
    if os.environ.get("SHOPDESK_REQUIRE_PEERS") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def missing_provider() -> str | None:
    """Why oidc-provider cannot run here, or None."""
    if not NODE.exists() or not (PEERS / "node_modules" / "oidc-provider" / "package.json").exists():
        return "tests/peers/node_modules has no oidc-provider: run `npm ci --prefix tests/peers`"
    return None


@pytest.fixture
def oidc_provider(tmp_path: Path) -> Iterator[OidcProvider]:
    """oidc-provider running; skipped without the peers, failed without them when SHOPDESK_REQUIRE_PEERS=1."""
    reason = missing_provider()
    if reason is not None:
        missing(reason)
    provider = OidcProvider(tmp_path)
    provider.start()
    try:
        yield provider
    finally:
        provider.stop()


# --- a person in a browser ----------------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")


async def sign_in_and_consent(authorize_url: str, login: str, callback: str) -> tuple[str, str]:
    """Open `authorize_url` in headless Chromium, sign in to oidc-provider's login page as `login` (its dev
    pages take any password) and consent; the URL it then redirects to under `callback` (caught, as nothing
    listens there), and the consent page's HTML."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        missing("playwright is not installed: pip install -e '.[test]'")
    if not CHROMIUM.exists():
        missing("Debian's chromium is not installed: apt-get install -y chromium")
    redirected: list[str] = []

    async def catch(route: Any) -> None:  # a playwright Route
        redirected.append(route.request.url)
        await route.fulfill(status=200, body="signed in")

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = await chromium.new_page()
            await page.route(f"{callback}**", catch)
            await page.goto(authorize_url)
            await page.fill("input[name=login]", login)
            await page.fill("input[name=password]", "any password")
            async with page.expect_navigation():
                await page.click("button[type=submit]")
            consent = await page.content()
            await page.click("button[type=submit]")  # the consent page's Continue
            await page.wait_for_url(f"{callback}**")
        finally:
            await chromium.close()
    return redirected[-1], consent
