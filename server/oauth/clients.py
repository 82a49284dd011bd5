"""Registered clients and their redirect URIs: what may be registered, and how a loopback one matches.

Registration accepts https, loopback http (RFC 8252 §7.3) and an app's own scheme (`cursor://...`), and refuses
plain http to another machine, fragments and script schemes. A registered loopback URI (127.0.0.1, [::1] or
localhost) matches a request on any port, as native apps pick a free port each time; anything else must
match exactly.

A confidential client's secret is kept as its SHA-256 only (`hashed_secret`), like codes and tokens: /token and
/revoke hash the secret a client sends before the SDK's check compares the two (endpoints.py).
"""

from __future__ import annotations

from mcp.server.auth.provider import RegistrationError
from mcp.shared.auth import InvalidRedirectUriError, OAuthClientInformationFull
from pydantic import AnyUrl

from ..storage.repositories.oauth import digest

SECRET_PREFIX = "sha256:"  # a client secret as the database keeps it, and as /token compares it (endpoints.py)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "[::1]", "::1", "localhost"})
_SCRIPT_SCHEMES = frozenset({"javascript", "data", "file", "vbscript", "about", "blob"})


def _loopback(url: AnyUrl) -> bool:
    return url.scheme == "http" and (url.host or "") in LOOPBACK_HOSTS


class ShopClient(OAuthClientInformationFull):
    """A registered client; a loopback redirect URI matches on any port (RFC 8252 §7.3)."""

    def validate_redirect_uri(self, redirect_uri: AnyUrl | None) -> AnyUrl:
        if redirect_uri is not None and _loopback(redirect_uri):
            for registered in self.redirect_uris or []:
                if (
                    _loopback(registered)
                    and registered.host == redirect_uri.host
                    and registered.path == redirect_uri.path
                    and registered.query == redirect_uri.query
                    and redirect_uri.fragment is None
                ):
                    return redirect_uri
            raise InvalidRedirectUriError(f"Redirect URI '{str(redirect_uri)[:200]}' not registered for client")
        return super().validate_redirect_uri(redirect_uri)


def check_redirect_uri(uri: AnyUrl) -> None:
    """Refuse at registration what could leak a code: plain http off this machine, script schemes, fragments."""
    text = str(uri)[:200]
    if uri.fragment is not None:
        raise RegistrationError("invalid_redirect_uri", f"a redirect URI has no fragment: {text}")
    if uri.scheme == "http" and not _loopback(uri):
        raise RegistrationError("invalid_redirect_uri", f"http redirect URIs must be loopback (RFC 8252): {text}")
    if uri.scheme in _SCRIPT_SCHEMES:
        raise RegistrationError("invalid_redirect_uri", f"the scheme {uri.scheme} cannot be a redirect URI")


def hashed_secret(secret: str) -> str:
    """What is kept of a client secret: its SHA-256 (the SDK's checker is handed the same of the one sent)."""
    return SECRET_PREFIX + digest(secret)
