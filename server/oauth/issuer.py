"""The identity provider shopdesk trusts: its metadata (RFC 8414, else OpenID discovery) and its signing keys.

The keys (the provider's JWKS) are cached. A token signed with a key id the cache does not know makes it
fetch the set again, so a provider that rotates its keys needs no restart of shopdesk; such refetches are
at most one per `refetch_interval`, so a stream of tokens with made-up key ids cannot hammer the provider.
The set is also refetched once it is `max_age` old, so a key the provider withdraws stops being accepted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx2
from jwt import PyJWK, PyJWKError

log = logging.getLogger("shopdesk.oauth")
TIMEOUT = httpx2.Timeout(5.0)
MAX_DOCUMENT_BYTES = 512 * 1024  # metadata and key sets are a few kilobytes

# The signature algorithms a token may use: public-key ones only, so a key's public half can never be
# used as an HMAC secret, and never "none".
ASYMMETRIC = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "ES256K", "EdDSA", "Ed25519"}
)


class IssuerError(ValueError):
    """The identity provider cannot be used: unreachable, or its documents are not what they must be."""


@dataclass(frozen=True)
class IssuerMetadata:
    issuer: str
    jwks_uri: str | None
    introspection_endpoint: str | None
    document_url: str


def discovery_urls(issuer: str) -> list[str]:
    """Where the metadata may be: RFC 8414's well-known path (inserted before the issuer's path), then OpenID
    discovery (appended to the issuer, as Keycloak, Auth0, Okta and Entra serve it)."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    rfc8414 = urlunsplit(parts._replace(path="/.well-known/oauth-authorization-server" + path, query=""))
    openid = urlunsplit(parts._replace(path=path + "/.well-known/openid-configuration", query=""))
    return [rfc8414, openid]


def _short(text: object, limit: int = 120) -> str:
    value = " ".join(str(text).split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


async def fetch_json(
    url: str, *, transport: httpx2.AsyncBaseTransport | None = None, **request: Any
) -> tuple[int, dict[str, Any] | None]:
    """GET (or POST, with `data`) `url`: the status and the JSON object it answered (None if not an object)."""
    method = "POST" if "data" in request else "GET"
    try:
        async with httpx2.AsyncClient(timeout=TIMEOUT, transport=transport, follow_redirects=False) as client:
            response = await client.request(method, url, headers={"Accept": "application/json"}, **request)
    except httpx2.HTTPError as exc:
        raise IssuerError(f"cannot reach {_short(url)}: {_short(exc) or type(exc).__name__}") from None
    if len(response.content) > MAX_DOCUMENT_BYTES:
        raise IssuerError(f"{_short(url)} answered more than {MAX_DOCUMENT_BYTES // 1024} KiB")
    try:
        body = json.loads(response.content) if response.content else None
    except ValueError:
        body = None
    return response.status_code, body if isinstance(body, dict) else None


async def discover(issuer: str, *, transport: httpx2.AsyncBaseTransport | None = None) -> IssuerMetadata:
    """The issuer's metadata; its `issuer` must be exactly the one configured (RFC 8414 §3.3)."""
    tried: list[str] = []
    for url in discovery_urls(issuer):
        status, document = await fetch_json(url, transport=transport)
        if status == 200 and document is not None:
            if document.get("issuer") != issuer:
                raise IssuerError(
                    f"{_short(url)} names the issuer {_short(document.get('issuer'))!r}, not {_short(issuer)!r}; "
                    "set the issuer exactly as the provider spells it (mind a trailing slash)"
                )
            return IssuerMetadata(
                issuer=issuer,
                jwks_uri=_url(document, "jwks_uri"),
                introspection_endpoint=_url(document, "introspection_endpoint"),
                document_url=url,
            )
        tried.append(f"{_short(url)} ({status})")
    raise IssuerError(f"no OAuth metadata for the issuer {_short(issuer)}: tried {', '.join(tried)}")


def _url(document: Mapping[str, Any], name: str) -> str | None:
    value = document.get(name)
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else None


def _algorithms(jwk: Mapping[str, Any]) -> frozenset[str]:
    """The public-key algorithms a key may verify: the one it announces, else those its type allows."""
    if jwk.get("alg") is not None:
        return frozenset({jwk["alg"]}) & ASYMMETRIC
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "RSA":
        return frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
    if kty == "EC":
        curves = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512", "secp256k1": "ES256K"}
        return frozenset({curves.get(str(crv), "")})
    if kty == "OKP" and crv in ("Ed25519", "Ed448"):
        return frozenset({"EdDSA"})
    return frozenset()


@dataclass(frozen=True)
class SigningKey:
    kid: str | None
    key: Any  # the `cryptography` public key PyJWT verifies with
    algorithms: frozenset[str]


def signing_keys(document: Mapping[str, Any]) -> list[SigningKey]:
    """The verification keys of a JWKS: public keys for signatures only; symmetric and private keys are skipped."""
    keys = []
    for jwk in document.get("keys") or []:
        if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig" or "d" in jwk:
            continue
        algorithms = _algorithms(jwk) - {""}
        if not algorithms:
            continue
        try:
            parsed = PyJWK(jwk, algorithm=sorted(algorithms)[0])
        except (PyJWKError, ValueError, TypeError):
            continue
        kid = jwk.get("kid")
        keys.append(SigningKey(kid if isinstance(kid, str) else None, parsed.key, algorithms))
    return keys


class KeySet:
    """The provider's signing keys, fetched from its jwks_uri when first needed and again as the module says."""

    def __init__(
        self,
        jwks_uri: Callable[[], Awaitable[str]],
        *,
        refetch_interval: float = 30.0,
        max_age: float = 3600.0,
        transport: httpx2.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._jwks_uri = jwks_uri  # an async function: the URL is known only after discovery
        self.refetch_interval = refetch_interval
        self.max_age = max_age
        self._transport = transport
        self._clock = clock
        self._keys: list[SigningKey] = []
        self._fetched_at: float | None = None
        self._refetched_at: float | None = None  # the last fetch an unknown key id asked for
        self._lock = asyncio.Lock()
        self.fetches = 0

    @property
    def count(self) -> int:
        return len(self._keys)

    async def key(self, kid: str | None) -> SigningKey | None:
        """The key named `kid` (or the only key, for a token that names none); None when there is none such."""
        now = self._clock()
        if self._fetched_at is None or now - self._fetched_at >= self.max_age:
            try:
                await self._refetch(self._fetched_at)
            except IssuerError as exc:
                if not self._keys:
                    raise
                log.warning("keeping the keys fetched before: %s", exc)  # a provider briefly down refuses no one
        found = self._find(kid)
        if found is None and kid is not None and self._may_refetch(self._clock()):
            self._refetched_at = self._clock()
            await self._refetch(self._fetched_at)  # perhaps a key the provider has just rotated in
            found = self._find(kid)
        return found

    def _may_refetch(self, now: float) -> bool:
        return self._refetched_at is None or now - self._refetched_at >= self.refetch_interval

    def _find(self, kid: str | None) -> SigningKey | None:
        if kid is None:
            return self._keys[0] if len(self._keys) == 1 else None
        return next((key for key in self._keys if key.kid == kid), None)

    async def _refetch(self, seen: float | None) -> None:
        async with self._lock:
            if self._fetched_at != seen:
                return  # another request refetched while this one waited
            url = await self._jwks_uri()
            status, document = await fetch_json(url, transport=self._transport)
            self._fetched_at = self._clock()  # a failed fetch counts too, so failures are not retried at once
            self.fetches += 1
            if status != 200 or document is None:
                raise IssuerError(f"the key set at {_short(url)} answered {status}, not a JSON key set")
            self._keys = signing_keys(document)


class Issuer:
    """One identity provider: its metadata, discovered when first needed and kept, and its key set."""

    def __init__(
        self,
        url: str,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        refetch_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._transport = transport
        self._clock = clock
        self.refetch_interval = refetch_interval
        self._metadata: IssuerMetadata | None = None
        self._failure: tuple[float, IssuerError] | None = None
        self._lock = asyncio.Lock()
        self.keys = KeySet(self._jwks_uri, refetch_interval=refetch_interval, transport=transport, clock=clock)

    async def metadata(self) -> IssuerMetadata:
        """The provider's metadata. A failed discovery is retried at most once per refetch interval."""
        async with self._lock:
            if self._metadata is not None:
                return self._metadata
            if self._failure is not None and self._clock() - self._failure[0] < self.refetch_interval:
                raise self._failure[1]
            try:
                self._metadata = await discover(self.url, transport=self._transport)
            except IssuerError as exc:
                self._failure = (self._clock(), exc)
                raise
            return self._metadata

    async def _jwks_uri(self) -> str:
        metadata = await self.metadata()
        if metadata.jwks_uri is None:
            raise IssuerError(f"{_short(metadata.document_url)} names no jwks_uri, so no JWT can be checked")
        return metadata.jwks_uri
