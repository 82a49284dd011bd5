"""Opaque access tokens, checked by asking the provider (RFC 7662 token introspection).

shopdesk authenticates to the introspection endpoint as a client of its own (client_secret_basic). An
answer counts only if it says `active: true`, names the configured issuer (when it names one), names this
server's MCP URL among its audiences, and is within `exp`/`nbf`; its scopes are read as a JWT's are.
Accepted answers are cached for the token's remaining life, at most CACHE_AT_MOST seconds (so a token the
provider revokes stops working within that) and for at most `max_entries` tokens.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx2
from mcp.server.auth.provider import AccessToken, TokenVerifier

from .issuer import IssuerError, fetch_json
from .jwt_tokens import OAuthRules, claims_to_access_token

log = logging.getLogger("shopdesk.oauth")
CACHE_AT_MOST = 300.0
MAX_TOKEN_BYTES = 8192


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def refusal(answer: Mapping[str, Any], rules: OAuthRules, now: float) -> str | None:
    """Why an introspection answer does not let its token in; None when it does."""
    if answer.get("active") is not True:
        return "the provider says it is not active"
    if "iss" in answer and answer["iss"] != rules.issuer:
        return f"its issuer is {str(answer['iss'])[:80]!r}"
    audiences = answer.get("aud")
    audiences = [audiences] if isinstance(audiences, str) else audiences if isinstance(audiences, list) else []
    if not set(rules.audiences()) & {a for a in audiences if isinstance(a, str)}:
        return "it is not for this server (aud)"
    exp, nbf = _number(answer.get("exp")), _number(answer.get("nbf"))
    if exp is None or exp + rules.leeway <= now:
        return "it has expired (or has no exp)"
    if nbf is not None and nbf - rules.leeway > now:
        return "it is not valid yet (nbf)"
    return None


class IntrospectionVerifier(TokenVerifier):
    """Checks tokens by RFC 7662 introspection at the provider, caching what it accepts."""

    def __init__(
        self,
        url: str,
        client_id: str,
        client_secret: str,
        rules: OAuthRules,
        *,
        max_entries: int = 10_000,
        transport: httpx2.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self._auth = (client_id, client_secret)
        self.rules = rules
        self.max_entries = max_entries
        self._transport = transport
        self._clock = clock
        self._cache: dict[str, tuple[float, AccessToken]] = {}
        self.requests = 0

    async def verify_token(self, token: str) -> AccessToken | None:
        if not token or len(token) > MAX_TOKEN_BYTES:
            return None
        key = hashlib.sha256(token.encode()).hexdigest()
        now = self._clock()
        cached = self._cache.get(key)
        if cached is not None:
            if now < cached[0]:
                return cached[1]
            del self._cache[key]
        answer = await self._introspect(token)
        if answer is None:
            return None
        why = refusal(answer, self.rules, now)
        if why is not None:
            log.info("refused an OAuth token: %s", why)
            return None
        access = claims_to_access_token(token, answer, self.rules)
        if access is not None:
            self._remember(key, min(float(answer["exp"]), now + CACHE_AT_MOST), access, now)
        return access

    async def _introspect(self, token: str) -> dict[str, Any] | None:
        self.requests += 1
        try:
            status, answer = await fetch_json(
                self.url,
                transport=self._transport,
                data={"token": token, "token_type_hint": "access_token"},
                auth=self._auth,
            )
        except IssuerError as exc:
            log.warning("cannot introspect an OAuth token: %s", exc)
            return None
        if status != 200 or answer is None:
            log.warning("introspection answered %s, not JSON; are shopdesk's client id and secret right?", status)
            return None
        return answer

    def _remember(self, key: str, until: float, access: AccessToken, now: float) -> None:
        if len(self._cache) >= self.max_entries:
            for stale in [k for k, (expiry, _) in self._cache.items() if expiry <= now]:
                del self._cache[stale]
        while len(self._cache) >= self.max_entries:
            del self._cache[next(iter(self._cache))]  # the oldest entry
        self._cache[key] = (until, access)
