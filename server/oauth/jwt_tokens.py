"""Access tokens an identity provider issued as JWTs (RFC 9068), checked by its published keys.

A token is accepted when it is signed by one of the issuer's keys with a public-key algorithm that key
allows (never `none`, never an HMAC), names the configured issuer exactly, names this server's MCP URL
among its audiences (RFC 8707: a token for another resource is refused), and is within `exp`/`nbf`
give or take LEEWAY seconds. `claims_to_access_token` turns checked claims into the SDK's AccessToken,
the same for a JWT and for an introspection answer (introspection.py).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from mcp.server.auth.provider import AccessToken, TokenVerifier

from ..access.tokens import SCOPES
from .issuer import Issuer, IssuerError

log = logging.getLogger("shopdesk.oauth")
LEEWAY = 30  # seconds of clock difference tolerated between the provider and shopdesk
MAX_CUSTOMER_ID = 100


@dataclass(frozen=True)
class OAuthRules:
    """What an access token must say to be accepted, and how its claims map onto shopdesk's."""

    issuer: str
    audience: str  # the server's public MCP URL
    scope_map: Mapping[str, str] = field(default_factory=dict)  # provider scope -> shopdesk scope
    customer_claim: str | None = None  # the claim naming the customer a session is bound to
    leeway: int = LEEWAY

    def audiences(self) -> list[str]:
        """The audience, spelt with and without a trailing slash (providers differ on it)."""
        bare = self.audience.rstrip("/")
        return [bare, bare + "/"]


def parse_scope_map(text: str) -> dict[str, str]:
    """`--oauth-scope-map`: comma-separated `provider=shopdesk` pairs, e.g. `api://shop/orders.read=orders:read`."""
    mapping: dict[str, str] = {}
    for pair in (part.strip() for part in text.split(",")):
        if not pair:
            continue
        theirs, sep, ours = pair.rpartition("=")
        if not sep or not theirs.strip() or ours.strip() not in SCOPES:
            raise ValueError(
                f"--oauth-scope-map takes provider=shopdesk pairs, the shopdesk scope one of {', '.join(SCOPES)}; "
                f"not {pair[:60]!r}"
            )
        mapping[theirs.strip()] = ours.strip()
    return mapping


def granted_scopes(claims: Mapping[str, Any], scope_map: Mapping[str, str]) -> list[str]:
    """The shopdesk scopes a token grants: its `scope` (space-separated) or `scp` (a list or a string), mapped;
    names that are no shopdesk scope are dropped."""
    raw = claims.get("scope", claims.get("scp"))
    if isinstance(raw, str):
        names = raw.split()
    else:
        names = [name for name in raw if isinstance(name, str)] if isinstance(raw, list) else []
    return sorted({scope_map.get(name, name) for name in names} & set(SCOPES))


def holder(issuer: str, subject: str, client_id: str, customer: str | None) -> str:
    """Whose idempotency keys, confirmation tokens and limits a token's calls count as: the same for every
    token the provider issues to one client for one subject and customer, so a refreshed token keeps them."""
    text = "\0".join([issuer, subject, client_id, customer or ""])
    return "oauth:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def claims_to_access_token(token: str, claims: Mapping[str, Any], rules: OAuthRules) -> AccessToken | None:
    """The AccessToken for checked claims (in the shape of access.FileTokenVerifier's); None if they cannot
    make one (no client, or a customer claim that is not an id)."""
    client_id = next((claims[k] for k in ("client_id", "azp", "cid") if isinstance(claims.get(k), str)), None)
    subject = claims.get("sub") if isinstance(claims.get("sub"), str) else client_id
    if client_id is None or not subject:
        log.info("refused an OAuth token: it names no client (client_id, azp or cid) or subject")
        return None
    customer = None
    if rules.customer_claim is not None and rules.customer_claim in claims:
        customer = claims[rules.customer_claim]
        if not isinstance(customer, str) or not 0 < len(customer) <= MAX_CUSTOMER_ID or not customer.isprintable():
            log.info("refused an OAuth token: its %s claim is not a customer id", rules.customer_claim[:40])
            return None
    exp = claims.get("exp")
    extra: dict[str, Any] = {"iss": rules.issuer, "holder": holder(rules.issuer, subject, client_id, customer)}
    if customer is not None:
        extra["customer"] = customer
    return AccessToken(
        token=token,
        client_id=client_id,
        scopes=granted_scopes(claims, rules.scope_map),
        expires_at=int(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None,
        resource=rules.audience,
        subject=subject,
        claims=extra,
    )


class JwtTokenVerifier(TokenVerifier):
    """Checks JWT access tokens against the issuer's keys and the rules."""

    def __init__(self, issuer: Issuer, rules: OAuthRules) -> None:
        self.issuer = issuer
        self.rules = rules

    async def verify_token(self, token: str) -> AccessToken | None:
        claims = await self.checked_claims(token)
        return None if claims is None else claims_to_access_token(token, claims, self.rules)

    async def checked_claims(self, token: str) -> dict[str, Any] | None:
        """The token's claims if its signature, issuer, audience and times hold; else None (and why, in the log)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            return None  # not a JWT at all (an auth-file token, an opaque one): nothing to log
        kid = header.get("kid")
        try:
            key = await self.issuer.keys.key(kid if isinstance(kid, str) else None)
        except IssuerError as exc:
            log.warning("cannot check an OAuth token: %s", exc)
            return None
        alg = header.get("alg")
        if key is None or not isinstance(alg, str) or alg not in key.algorithms:
            log.info("refused an OAuth token: no key of the issuer's for kid %.40r, alg %.20r", kid, alg)
            return None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=self.rules.audiences(),
                issuer=self.rules.issuer,
                leeway=self.rules.leeway,
                options={"require": ["exp", "iss", "aud"], "strict_aud": False},
            )
        except jwt.InvalidTokenError as exc:
            log.info("refused an OAuth token: %s", str(exc)[:120])
            return None
        return claims
