"""OAuth test helpers: signing keys and a small provider of our own (discovery, JWKS, introspection) for the
edge cases, and panva's oidc-provider (tests/peers/oidc_provider.mjs) for the real thing."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
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
            return JSONResponse({"keys": [key.jwk() for key in self.keys]})

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
