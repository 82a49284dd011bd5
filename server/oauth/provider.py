"""shopdesk as its own OAuth 2.1 authorization server (`serve --oauth-server`): the provider the SDK's
authorization-server routes (/authorize, /token, /register, /revoke and the RFC 8414 metadata) call.

What the SDK's handlers already check: the client exists, its redirect URI is registered, the scopes are
ones it registered, PKCE is S256 (a `plain` method is refused) and the verifier matches, a code is not
expired and is exchanged by its own client with the same redirect URI. What is added here:
- redirect URIs (clients.py): https, loopback http (RFC 8252: any port on 127.0.0.1, [::1] or
  localhost matches a registered loopback URI) or an app's own scheme; no fragments, no script schemes;
- a `resource` (RFC 8707) that is not this server's MCP URL is refused (at /authorize here, at /token by
  endpoints.py); a code challenge must look like S256's;
- codes are single use: presenting a used one revokes the grant it made (RFC 6749 §4.1.2);
- refresh tokens rotate: each exchange returns a new one and kills the old; presenting a rotated one again
  (a stolen copy, or the client's own replay) revokes the whole grant;
- access tokens are opaque, live `ACCESS_SECONDS`, and carry the grant's scopes and bound customer.
Codes, tokens and client secrets are stored hashed
(storage/repositories/oauth.py, clients.py). An operator approves each grant on the consent page
(consent.py), which calls `approve` or `deny`.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    RefreshToken,
    TokenError,
    TokenVerifier,
    construct_redirect_uri,
)
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyUrl

from ..shop import Shop
from ..storage.repositories import oauth as store
from ..storage.repositories import oauth_clients as client_store
from .clients import SECRET_PREFIX, ShopClient, check_redirect_uri, hashed_secret

log = logging.getLogger("shopdesk")

ACCESS_SECONDS = 3600
REFRESH_SECONDS = 30 * 86400
CODE_SECONDS = 120
PENDING_SECONDS = 600
MAX_PENDING_PER_CLIENT = 20  # sign-ins under way for one client; a flood of /authorize drops its own oldest
GRANT_PREFIX = "oag_"
CONSENT_PATH = "/oauth/consent"
_S256_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def same_resource(given: str, ours: str) -> bool:
    return given.strip().removesuffix("/") == ours.removesuffix("/")


class ShopCode(AuthorizationCode):
    grant_id: str


class ShopRefreshToken(RefreshToken):
    grant_id: str


class ShopAccessToken(AccessToken):
    grant_id: str


class ShopAuthorizationServer:
    """The OAuthAuthorizationServerProvider of `serve --oauth-server`, over the shop's database.

    `also` verifies tokens that are not this server's (the auth file's, when one is in force too)."""

    def __init__(self, shop: Shop, issuer: str, resource: str, also: TokenVerifier | None = None) -> None:
        self.shop = shop
        self.issuer = issuer.removesuffix("/")
        self.resource = resource
        self.also = also

    # Registration (RFC 7591)

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        metadata = await client_store.client_metadata(self.shop.db.read, client_id)
        if metadata is None:
            return None
        kept = str(metadata.get("client_secret") or "")
        if kept and not kept.startswith(SECRET_PREFIX):  # a secret registered before they were kept hashed
            metadata["client_secret"] = hashed_secret(kept)
        return ShopClient.model_validate(metadata)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        for uri in client_info.redirect_uris or []:
            check_redirect_uri(uri)
        metadata = client_info.model_dump(mode="json", exclude_none=True)
        if client_info.client_secret:
            metadata["client_secret"] = hashed_secret(client_info.client_secret)
        async with self.shop.db.transaction() as conn:
            await client_store.save_client(conn, client_info.client_id, metadata)

    # Authorization: the request is kept until an operator answers it on the consent page

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        if params.resource is not None and not same_resource(params.resource, self.resource):
            raise AuthorizeError("invalid_target", f"this server issues tokens only for {self.resource}")
        if not _S256_CHALLENGE.match(params.code_challenge):
            raise AuthorizeError("invalid_request", "code_challenge must be an S256 challenge (43 base64url chars)")
        request_id = secrets.token_urlsafe(32)
        async with self.shop.db.transaction() as conn:
            expires = store.now() + PENDING_SECONDS
            params_json = params.model_dump_json()
            await store.add_pending(conn, request_id, client.client_id, params_json, expires, MAX_PENDING_PER_CLIENT)
        return f"{self.issuer}{CONSENT_PATH}?request={request_id}"

    async def pending(self, request_id: str) -> tuple[OAuthClientInformationFull, AuthorizationParams] | None:
        row = await store.pending(self.shop.db.read, request_id)
        client = None if row is None else await self.get_client(row["client_id"])
        if row is None or client is None:
            return None
        return client, AuthorizationParams.model_validate_json(row["params"])

    async def new_csrf(self, request_id: str) -> str:
        """A fresh one-time CSRF token for the consent form of `request_id` (the previous one stops working)."""
        csrf = secrets.token_urlsafe(32)
        async with self.shop.db.transaction() as conn:
            await store.set_csrf(conn, request_id, csrf)
        return csrf

    async def take_csrf(self, request_id: str, csrf: str) -> bool:
        """Whether `csrf` is the form's current token; it is spent either way."""
        async with self.shop.db.transaction() as conn:
            row = await store.pending(conn, request_id)
            if row is None or row["csrf_hash"] is None:
                return False
            await store.set_csrf(conn, request_id, None)
            return secrets.compare_digest(str(row["csrf_hash"]), store.digest(csrf))

    async def approve(self, request_id: str, operator: str, scopes: list[str], customer: str | None) -> str:
        """Make the grant and its code; the URL to send the browser to (the client's, with code and state)."""
        found = await self.pending(request_id)
        if found is None:
            raise AuthorizeError("access_denied", "the authorization request expired")
        client, params = found
        grant_id = GRANT_PREFIX + secrets.token_hex(8)
        code = secrets.token_urlsafe(32)
        grant = store.Grant(grant_id, client.client_id, operator, scopes, customer, self.resource, store.now(), None)
        async with self.shop.db.transaction() as conn:
            await store.drop_pending(conn, request_id)
            await store.add_grant(conn, grant)
            redirect = str(params.redirect_uri)
            expires = store.now() + CODE_SECONDS
            given = params.redirect_uri_provided_explicitly
            await store.add_code(conn, code, grant_id, params.code_challenge, redirect, given, expires)
        log.info("OAuth grant %s: %s gave client %s %s", grant_id, operator, client.client_id, " ".join(scopes))
        return construct_redirect_uri(redirect, code=code, state=params.state, iss=self.issuer)

    async def deny(self, request_id: str) -> str | None:
        found = await self.pending(request_id)
        if found is None:
            return None
        async with self.shop.db.transaction() as conn:
            await store.drop_pending(conn, request_id)
        _, params = found
        return construct_redirect_uri(
            str(params.redirect_uri),
            error="access_denied",
            error_description="the operator refused",
            state=params.state,
        )

    # Codes and tokens

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> ShopCode | None:
        row = await store.code(self.shop.db.read, authorization_code)
        if row is None or row["revoked_at"] is not None or row["client_id"] != client.client_id:
            return None
        if row["used_at"] is not None:  # a code used twice: whoever has it, end what it gave (RFC 6749 §4.1.2)
            async with self.shop.db.transaction() as conn:
                await store.revoke_grant(conn, row["grant_id"])
            log.warning("an OAuth code was presented again: grant %s revoked", row["grant_id"])
            return None
        return ShopCode(
            code=authorization_code,
            scopes=str(row["scopes"]).split(),
            expires_at=float(row["expires_at"]),
            client_id=row["client_id"],
            code_challenge=row["code_challenge"],
            redirect_uri=AnyUrl(row["redirect_uri"]),
            redirect_uri_provided_explicitly=bool(row["redirect_given"]),
            resource=row["resource"],
            grant_id=row["grant_id"],
        )

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: ShopCode
    ) -> OAuthToken:
        async with self.shop.db.transaction() as conn:
            if await store.spend_code(conn, authorization_code.code):
                return await self._issue(conn, authorization_code.grant_id, authorization_code.scopes)
        # Two exchanges of one code raced, and this one lost: as for a code presented again, end the grant.
        # (Raised out here: the SDK's TokenError is frozen, and a context manager's exit cannot pass it on.)
        async with self.shop.db.transaction() as conn:
            await store.revoke_grant(conn, authorization_code.grant_id)
        log.warning("an OAuth code was exchanged twice at once: grant %s revoked", authorization_code.grant_id)
        raise TokenError("invalid_grant", "authorization code was used already")

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> ShopRefreshToken | None:
        row = await store.token(self.shop.db.read, refresh_token, "refresh")
        if row is None or row["client_id"] != client.client_id:
            return None
        if row["used_at"] is not None:
            await self._reused(row["grant_id"])
            return None
        return ShopRefreshToken(
            token=refresh_token,
            client_id=row["client_id"],
            scopes=str(row["scopes"]).split(),
            expires_at=int(row["expires_at"]),
            resource=row["resource"],
            subject=row["operator"],
            grant_id=row["grant_id"],
        )

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: ShopRefreshToken, scopes: list[str]
    ) -> OAuthToken:
        async with self.shop.db.transaction() as conn:
            spent = await store.spend_refresh(conn, refresh_token.token)
            if spent:
                return await self._issue(conn, refresh_token.grant_id, scopes)
        await self._reused(refresh_token.grant_id)  # two exchanges of one refresh token raced: end the grant
        raise TokenError("invalid_grant", "refresh token was used already")

    async def _reused(self, grant_id: str) -> None:
        async with self.shop.db.transaction() as conn:
            await store.revoke_grant(conn, grant_id)
        log.warning("a rotated OAuth refresh token was presented again: grant %s revoked", grant_id)

    async def _issue(self, conn: Any, grant_id: str, scopes: list[str]) -> OAuthToken:
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        await store.add_token(conn, access, grant_id, "access", scopes, store.now() + ACCESS_SECONDS)
        await store.add_token(conn, refresh, grant_id, "refresh", scopes, store.now() + REFRESH_SECONDS)
        return OAuthToken(
            access_token=access,
            token_type="Bearer",
            expires_in=ACCESS_SECONDS,
            scope=" ".join(scopes),
            refresh_token=refresh,
        )

    async def load_access_token(self, token: str) -> AccessToken | None:
        row = await store.token(self.shop.db.read, token, "access")
        if row is None:
            return await self.also.verify_token(token) if self.also is not None else None
        if int(row["expires_at"]) <= store.now() or not same_resource(row["resource"], self.resource):
            return None
        client_id = str(row["client_id"])
        # The holder of idempotency keys and confirmation tokens is the grant, so a refreshed token keeps them.
        claims: dict[str, Any] = {"oauth_client": client_id, "iss": self.issuer, "holder": f"grant:{row['grant_id']}"}
        if row["customer"]:
            claims["customer"] = row["customer"]
        return ShopAccessToken(
            token=token,
            client_id=client_id,
            scopes=str(row["scopes"]).split(),
            expires_at=int(row["expires_at"]),
            resource=self.resource,
            # The audit trail records "OPERATOR via CLIENT_ID": the operator and the app they let in (access/gate.py).
            subject=str(row["operator"]),
            claims=claims,
            grant_id=row["grant_id"],
        )

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        grant_id = getattr(token, "grant_id", None) or await store.grant_of_token(self.shop.db.read, token.token)
        if grant_id is None:
            return
        async with self.shop.db.transaction() as conn:
            await store.revoke_grant(conn, grant_id)
