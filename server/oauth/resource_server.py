"""The verifier `serve --oauth-issuer` puts in front of /mcp, built from the settings.

Tokens from the auth file keep working beside the provider's: a token is offered to each verifier in
turn and the first to accept it wins. The auth file goes first; its tokens (`sdt_...`) are recognised by
their prefix without any request to the provider, and the provider's tokens are never in the file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.routes import create_protected_resource_routes
from mcp.server.auth.settings import AuthSettings
from starlette.applications import Starlette
from starlette.routing import Route

from ..access.tokens import PREFIX, SCOPES
from ..settings import Settings
from .introspection import IntrospectionVerifier
from .issuer import Issuer, IssuerError
from .jwt_tokens import JwtTokenVerifier, OAuthRules, parse_scope_map


class FirstAccepting(TokenVerifier):
    """Accepts a token if any of its verifiers does, asking them in order; a token shaped like the auth
    file's (`sdt_...`) is asked of the `local` verifiers only, so it never reaches the provider."""

    def __init__(self, verifiers: Sequence[TokenVerifier], *, local: int = 0) -> None:
        self.verifiers = list(verifiers)
        self.local = local  # how many of the first verifiers are the auth file's

    async def verify_token(self, token: str) -> AccessToken | None:
        asked = self.verifiers[: self.local] if token.startswith(PREFIX) else self.verifiers
        for verifier in asked:
            found = await verifier.verify_token(token)
            if found is not None:
                return found
        return None


def rules_from(issuer: str, audience: str, scope_map: str = "", customer_claim: str | None = None) -> OAuthRules:
    """The token rules; raises ValueError (one line) for a setting that cannot be used."""
    if not issuer.startswith(("https://", "http://")):
        raise ValueError(f"--oauth-issuer must be an https:// URL, not {issuer[:80]!r}")
    return OAuthRules(
        issuer=issuer, audience=audience, scope_map=parse_scope_map(scope_map), customer_claim=customer_claim or None
    )


def oauth_verifier(
    rules: OAuthRules,
    *,
    introspection_url: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    before: Sequence[TokenVerifier] = (),
) -> TokenVerifier:
    """The verifier for the provider's tokens (JWTs by its keys; with an introspection URL, opaque tokens
    too), after the verifiers in `before`."""
    verifiers: list[TokenVerifier] = [*before, JwtTokenVerifier(Issuer(rules.issuer), rules)]
    if introspection_url is not None:
        if not (client_id and client_secret):
            raise ValueError(
                "--oauth-introspection-url needs shopdesk's own client id and secret at the provider: "
                "set SHOPDESK_OAUTH_CLIENT_ID and SHOPDESK_OAUTH_CLIENT_SECRET"
            )
        verifiers.append(IntrospectionVerifier(introspection_url, client_id, client_secret, rules))
    return FirstAccepting(verifiers, local=len(before))


async def check_issuer(issuer: str, *, need_keys: bool = True) -> str:
    """Discover the issuer (and fetch its keys) now, so a wrong URL stops `serve` before any client connects;
    a line saying what was found."""
    provider = Issuer(issuer)
    metadata = await provider.metadata()
    if need_keys:
        await provider.keys.key(None)
        if provider.keys.count == 0:
            raise IssuerError(f"{metadata.jwks_uri} holds no signing key shopdesk can use (RSA, EC or Ed25519)")
    return f"OAuth access tokens from {issuer} (metadata at {metadata.document_url})"


def resource_server_auth(settings: Settings, *, before: Sequence[TokenVerifier] = ()) -> dict[str, Any]:
    """The SDK server's `token_verifier` and `auth` for `serve --oauth-issuer`: the protected resource
    metadata (RFC 9728) names the provider; no scope is required to connect, as each tool asks for its own."""
    assert settings.oauth_issuer is not None
    url = settings.mcp_url()
    rules = rules_from(
        settings.oauth_issuer, settings.oauth_audience or url, settings.oauth_scope_map, settings.oauth_customer_claim
    )
    verifier = oauth_verifier(
        rules,
        introspection_url=settings.oauth_introspection_url,
        client_id=settings.oauth_client_id,
        client_secret=settings.oauth_client_secret,
        before=before,
    )
    auth = AuthSettings.model_validate(
        {
            "issuer_url": settings.oauth_issuer,
            "resource_server_url": url,
            "required_scopes": None,
            # The verifier checks the audience itself (it may be set apart from the URL).
            "validate_token_resource": False,
        }
    )
    return {"token_verifier": verifier, "auth": auth}


def advertised_scopes(scope_map: Mapping[str, str]) -> list[str]:
    """The scopes a client should ask the provider for, in the provider's names: shopdesk's own, each one the
    scope map renames given under the provider's name instead."""
    renamed = set(scope_map.values())
    return sorted({scope for scope in SCOPES if scope not in renamed} | set(scope_map))


def list_scopes_in_metadata(app: Starlette, auth: AuthSettings, scope_map: str) -> None:
    """Have the protected resource metadata (RFC 9728) list the scopes a client may ask for. The SDK lists only
    the scopes every request needs, none here (each tool asks for its own); MCP clients ask the provider for
    the scopes listed there, and without them would get a token that opens nothing."""
    assert auth.resource_server_url is not None
    scopes = advertised_scopes(parse_scope_map(scope_map))
    (listed,) = create_protected_resource_routes(auth.resource_server_url, [auth.issuer_url], scopes_supported=scopes)
    for index, route in enumerate(app.router.routes):
        if isinstance(route, Route) and route.path == listed.path:
            app.router.routes[index] = listed
