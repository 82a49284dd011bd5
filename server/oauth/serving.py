"""What `build_server` takes for `serve --oauth-server`: the SDK's auth settings and our provider, plus the
consent page's route. The auth file, if one is in force as well, still works: its tokens are checked after
the OAuth ones (scripts keep theirs while people's apps sign in)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions

from ..access.tokens import SCOPES, AuthFile
from ..access.verifiers import FileTokenVerifier
from ..shop import Shop
from .consent import add_routes
from .provider import ShopAuthorizationServer


def oauth_server(shop: Shop) -> dict[str, Any]:
    """The MCPServer keyword arguments that make it an authorization server for its own MCP URL."""
    settings = shop.settings
    url = settings.mcp_url()
    parts = urlsplit(url)
    issuer = f"{parts.scheme}://{parts.netloc}"
    path = settings.auth_path()
    provider = ShopAuthorizationServer(shop, issuer, url, FileTokenVerifier(AuthFile(path)) if path else None)
    return {
        "auth_server_provider": provider,
        # From strings, so the issuer keeps its exact form (no "/" added): clients compare it as a string.
        "auth": AuthSettings.model_validate(
            dict(
                issuer_url=issuer,
                resource_server_url=url,
                client_registration_options=ClientRegistrationOptions(
                    enabled=True, valid_scopes=list(SCOPES), default_scopes=list(SCOPES)
                ),
                revocation_options=RevocationOptions(enabled=True),
                # The provider checks each token's resource itself (auth-file tokens carry none).
                validate_token_resource=False,
            )
        ),
    }


def add_consent_page(server: Any, options: dict[str, Any]) -> None:
    provider = options.get("auth_server_provider")
    if isinstance(provider, ShopAuthorizationServer):
        add_routes(server, provider)
