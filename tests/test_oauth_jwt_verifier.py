"""The JWT access-token verifier and issuer discovery, against a provider of our own served in-process
(discovery and JWKS over httpx's ASGI transport): signature, issuer, audience, times, algorithms, key
rotation and the scope and customer claims."""

from __future__ import annotations

import base64
import json
import time

import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from oauth_support import MCP_URL, LocalProvider, SigningKey, claims, unsigned

from shopdesk.oauth.issuer import Issuer, IssuerError, discover, discovery_urls
from shopdesk.oauth.jwt_tokens import JwtTokenVerifier, OAuthRules, granted_scopes, parse_scope_map

ISSUER = "http://issuer.test"


class Clock:
    """A monotonic clock the test moves by hand, for the refetch interval."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def provider() -> LocalProvider:
    return LocalProvider(ISSUER)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def verifier(provider: LocalProvider, clock: Clock | None = None, **rules: object) -> JwtTokenVerifier:
    issuer = Issuer(ISSUER, transport=httpx2.ASGITransport(app=provider.app()), clock=clock or Clock())
    return JwtTokenVerifier(issuer, OAuthRules(issuer=ISSUER, audience=MCP_URL, **rules))  # type: ignore[arg-type]


async def test_a_token_signed_by_the_issuer_for_this_server_is_accepted(provider: LocalProvider) -> None:
    token = provider.keys[0].sign(claims(ISSUER))
    access = await verifier(provider).verify_token(token)
    assert access is not None
    assert (access.subject, access.client_id, access.scopes) == ("alice", "shop-agent", ["catalog:read", "orders:read"])
    assert access.claims is not None and access.claims["iss"] == ISSUER and "customer" not in access.claims


async def test_a_token_from_another_issuer_is_refused(provider: LocalProvider) -> None:
    token = provider.keys[0].sign(claims("http://issuer.test/"))  # one slash off is another issuer
    assert await verifier(provider).verify_token(token) is None


async def test_a_token_for_another_resource_is_refused(provider: LocalProvider) -> None:
    token = provider.keys[0].sign(claims(ISSUER, audience="http://127.0.0.1:8000/other"))
    assert await verifier(provider).verify_token(token) is None


async def test_a_token_naming_this_server_among_its_audiences_is_accepted(provider: LocalProvider) -> None:
    token = provider.keys[0].sign(claims(ISSUER, audience=["https://api.example", MCP_URL]))
    assert await verifier(provider).verify_token(token) is not None


async def test_a_token_without_an_audience_is_refused(provider: LocalProvider) -> None:
    payload = claims(ISSUER)
    del payload["aud"]
    assert await verifier(provider).verify_token(provider.keys[0].sign(payload)) is None


async def test_a_token_expired_beyond_the_leeway_is_refused(provider: LocalProvider) -> None:
    token = provider.keys[0].sign(claims(ISSUER, lifetime=-60))
    assert await verifier(provider).verify_token(token) is None


async def test_a_token_expired_within_the_leeway_is_accepted(provider: LocalProvider) -> None:
    token = provider.keys[0].sign(claims(ISSUER, lifetime=-5))
    assert await verifier(provider).verify_token(token) is not None


async def test_a_token_not_valid_yet_is_refused(provider: LocalProvider) -> None:
    token = provider.keys[0].sign(claims(ISSUER, nbf=int(time.time()) + 120))
    assert await verifier(provider).verify_token(token) is None


async def test_a_token_without_an_expiry_is_refused(provider: LocalProvider) -> None:
    payload = claims(ISSUER)
    del payload["exp"]
    assert await verifier(provider).verify_token(provider.keys[0].sign(payload)) is None


async def test_an_unsigned_token_is_refused(provider: LocalProvider) -> None:
    assert await verifier(provider).verify_token(unsigned(claims(ISSUER), "key-1")) is None


async def test_a_token_whose_header_names_no_single_algorithm_is_refused(provider: LocalProvider) -> None:
    signed = provider.keys[0].sign(claims(ISSUER))
    header = base64.urlsafe_b64encode(json.dumps({"alg": ["RS256"], "kid": "key-1"}).encode()).rstrip(b"=")
    assert await verifier(provider).verify_token(header.decode() + signed[signed.index(".") :]) is None


async def test_a_token_signed_with_hmac_using_the_public_key_as_secret_is_refused(provider: LocalProvider) -> None:
    public = (
        provider.keys[0]
        .private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    jwt_api = jwt.PyJWT()
    jwt_api._jws._algorithms["HS256"].prepare_key = lambda key: key  # type: ignore[attr-defined]  # PyJWT refuses PEM
    token = jwt_api.encode(claims(ISSUER), public, algorithm="HS256", headers={"kid": "key-1"})
    assert await verifier(provider).verify_token(token) is None


async def test_a_token_signed_by_another_key_under_the_issuers_key_id_is_refused(provider: LocalProvider) -> None:
    token = SigningKey("key-1").sign(claims(ISSUER))
    assert await verifier(provider).verify_token(token) is None


async def test_a_key_rotated_in_after_the_first_fetch_is_fetched_and_accepted(
    provider: LocalProvider, clock: Clock
) -> None:
    checker = verifier(provider, clock)
    assert await checker.verify_token(provider.keys[0].sign(claims(ISSUER))) is not None
    provider.keys = [SigningKey("key-2")]
    assert await checker.verify_token(provider.keys[0].sign(claims(ISSUER))) is not None
    assert provider.jwks_fetches == 2


async def test_unknown_key_ids_refetch_the_key_set_at_most_once_per_interval(
    provider: LocalProvider, clock: Clock
) -> None:
    checker = verifier(provider, clock)
    await checker.verify_token(provider.keys[0].sign(claims(ISSUER)))
    for n in range(20):
        assert await checker.verify_token(provider.keys[0].sign(claims(ISSUER), kid=f"made-up-{n}")) is None
    clock.now += 31
    assert await checker.verify_token(provider.keys[0].sign(claims(ISSUER), kid="made-up-later")) is None
    assert provider.jwks_fetches == 3  # the first, one for the flood, one after the interval


async def test_scp_as_a_list_grants_its_scopes(provider: LocalProvider) -> None:
    payload = claims(ISSUER, scp=["tickets:read", "tickets:write"])
    del payload["scope"]
    access = await verifier(provider).verify_token(provider.keys[0].sign(payload))
    assert access is not None and access.scopes == ["tickets:read", "tickets:write"]


def test_scp_as_a_string_grants_its_scopes() -> None:
    assert granted_scopes({"scp": "orders:read openid"}, {}) == ["orders:read"]


def test_the_scope_map_renames_the_providers_scopes_and_others_are_dropped() -> None:
    scope_map = parse_scope_map("api://shop/Orders.Read=orders:read, shop.admin=admin")
    scopes = granted_scopes({"scope": "api://shop/Orders.Read shop.admin offline_access profile"}, scope_map)
    assert scopes == ["admin", "orders:read"]


def test_a_scope_map_to_a_scope_shopdesk_lacks_is_a_one_line_error() -> None:
    with pytest.raises(ValueError, match="not 'orders.read=orders:everything'"):
        parse_scope_map("orders.read=orders:everything")


async def test_the_customer_claim_binds_the_token_to_that_customer(provider: LocalProvider) -> None:
    token = provider.keys[0].sign(claims(ISSUER, shop_customer="mia_li_3668"))
    access = await verifier(provider, customer_claim="shop_customer").verify_token(token)
    assert access is not None and access.claims is not None and access.claims["customer"] == "mia_li_3668"


async def test_a_customer_claim_that_is_not_an_id_refuses_the_token(provider: LocalProvider) -> None:
    token = provider.keys[0].sign(claims(ISSUER, shop_customer=["mia_li_3668"]))
    assert await verifier(provider, customer_claim="shop_customer").verify_token(token) is None


async def test_tokens_of_one_client_subject_and_customer_share_their_key_holder(provider: LocalProvider) -> None:
    checker = verifier(provider, customer_claim="shop_customer")
    first = await checker.verify_token(provider.keys[0].sign(claims(ISSUER, shop_customer="a", jti="1")))
    refreshed = await checker.verify_token(provider.keys[0].sign(claims(ISSUER, shop_customer="a", jti="2")))
    other = await checker.verify_token(provider.keys[0].sign(claims(ISSUER, shop_customer="b")))
    assert first and refreshed and other and first.claims and refreshed.claims and other.claims
    assert first.claims["holder"] == refreshed.claims["holder"] != other.claims["holder"]


async def test_discovery_prefers_the_rfc8414_document(provider: LocalProvider) -> None:
    metadata = await discover(ISSUER, transport=httpx2.ASGITransport(app=provider.app()))
    assert metadata.document_url == f"{ISSUER}/.well-known/oauth-authorization-server"


async def test_discovery_falls_back_to_openid_configuration(provider: LocalProvider) -> None:
    provider.openid_only = True
    metadata = await discover(ISSUER, transport=httpx2.ASGITransport(app=provider.app()))
    assert (metadata.document_url, metadata.jwks_uri) == (
        f"{ISSUER}/.well-known/openid-configuration",
        f"{ISSUER}/jwks",
    )


async def test_metadata_naming_another_issuer_is_a_one_line_error(provider: LocalProvider) -> None:
    provider.issuer = "http://evil.test"
    with pytest.raises(IssuerError, match="names the issuer 'http://evil.test', not 'http://issuer.test'"):
        await discover(ISSUER, transport=httpx2.ASGITransport(app=provider.app()))


def test_discovery_urls_of_an_issuer_with_a_path() -> None:
    assert discovery_urls("https://id.example/realms/shop") == [
        "https://id.example/.well-known/oauth-authorization-server/realms/shop",
        "https://id.example/realms/shop/.well-known/openid-configuration",
    ]


async def test_an_unreachable_issuer_refuses_tokens_instead_of_failing(provider: LocalProvider) -> None:
    checker = JwtTokenVerifier(Issuer("http://127.0.0.1:9"), OAuthRules(issuer="http://127.0.0.1:9", audience=MCP_URL))
    assert await checker.verify_token(provider.keys[0].sign(claims("http://127.0.0.1:9"))) is None


async def test_a_provider_down_when_its_keys_are_due_for_refresh_leaves_the_cached_keys_in_use(
    provider: LocalProvider, clock: Clock
) -> None:
    checker = verifier(provider, clock)
    token = provider.keys[0].sign(claims(ISSUER))
    assert await checker.verify_token(token) is not None
    provider.jwks_status = 503
    clock.now += 3601  # past the key set's max age
    assert await checker.verify_token(token) is not None and provider.jwks_fetches == 2


async def test_an_ec_key_without_an_announced_alg_verifies_es256(provider: LocalProvider) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = {**ECAlgorithm.to_jwk(private.public_key(), as_dict=True), "kid": "ec-1"}  # no "alg", no "use"
    provider.extra_jwks = [jwk]
    token = jwt.encode(claims(ISSUER), private, algorithm="ES256", headers={"kid": "ec-1"})
    assert await verifier(provider).verify_token(token) is not None


async def test_an_ec_key_does_not_verify_a_token_claiming_an_rsa_alg(provider: LocalProvider) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    provider.extra_jwks = [{**ECAlgorithm.to_jwk(private.public_key(), as_dict=True), "kid": "ec-1"}]
    token = provider.keys[0].sign(claims(ISSUER), kid="ec-1")
    assert await verifier(provider).verify_token(token) is None
