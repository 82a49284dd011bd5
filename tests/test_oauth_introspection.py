"""Opaque tokens checked by RFC 7662 introspection, against an introspection endpoint of our own served
in-process (httpx's ASGI transport): what an answer must say, shopdesk's client credentials, the cache."""

from __future__ import annotations

import time
from typing import Any

import httpx2
import pytest
from oauth_support import MCP_URL, LocalProvider

from shopdesk.access.tokens import AuthFile
from shopdesk.access.verifiers import FileTokenVerifier
from shopdesk.oauth.introspection import IntrospectionVerifier
from shopdesk.oauth.jwt_tokens import OAuthRules
from shopdesk.oauth.resource_server import FirstAccepting

ISSUER = "http://issuer.test"
RULES = OAuthRules(issuer=ISSUER, audience=MCP_URL)


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def answer(**more: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"active": True, "iss": ISSUER, "aud": MCP_URL, "sub": "bob", "client_id": "agent", "exp": now + 600}
    return {**base, "scope": "tickets:read", **more}


@pytest.fixture
def provider() -> LocalProvider:
    return LocalProvider(ISSUER)


def verifier(
    provider: LocalProvider, *, secret: str = "shopdesk-secret", clock: Clock | None = None, **options: Any
) -> IntrospectionVerifier:
    return IntrospectionVerifier(
        f"{ISSUER}/introspect",
        "shopdesk",
        secret,
        RULES,
        transport=httpx2.ASGITransport(app=provider.app()),
        clock=clock or time.time,
        **options,
    )


async def test_an_active_token_for_this_server_is_accepted(provider: LocalProvider) -> None:
    provider.introspection["opaque-1"] = answer()
    access = await verifier(provider).verify_token("opaque-1")
    assert access is not None
    assert (access.subject, access.client_id, access.scopes) == ("bob", "agent", ["tickets:read"])


async def test_an_inactive_token_is_refused(provider: LocalProvider) -> None:
    provider.introspection["opaque-1"] = {"active": False}
    assert await verifier(provider).verify_token("opaque-1") is None


async def test_an_active_token_for_another_resource_is_refused(provider: LocalProvider) -> None:
    provider.introspection["opaque-1"] = answer(aud="http://127.0.0.1:8000/other")
    assert await verifier(provider).verify_token("opaque-1") is None


async def test_an_active_token_from_another_issuer_is_refused(provider: LocalProvider) -> None:
    provider.introspection["opaque-1"] = answer(iss="http://evil.test")
    assert await verifier(provider).verify_token("opaque-1") is None


async def test_an_answer_whose_expiry_has_passed_is_refused(provider: LocalProvider) -> None:
    provider.introspection["opaque-1"] = answer(exp=int(time.time()) - 60)
    assert await verifier(provider).verify_token("opaque-1") is None


async def test_wrong_client_credentials_refuse_the_token(provider: LocalProvider) -> None:
    provider.introspection["opaque-1"] = answer()
    assert await verifier(provider, secret="not-the-secret").verify_token("opaque-1") is None


async def test_an_accepted_answer_is_reused_without_asking_again(provider: LocalProvider) -> None:
    provider.introspection["opaque-1"] = answer()
    checker = verifier(provider)
    first, second = await checker.verify_token("opaque-1"), await checker.verify_token("opaque-1")
    assert first is not None and second == first and provider.introspections == 1


async def test_a_cached_answer_is_asked_again_once_the_token_expires(provider: LocalProvider) -> None:
    clock = Clock()
    provider.introspection["opaque-1"] = answer(exp=int(clock.now) + 60)
    checker = verifier(provider, clock=clock)
    assert await checker.verify_token("opaque-1") is not None
    provider.introspection["opaque-1"] = {"active": False}
    clock.now += 61
    assert await checker.verify_token("opaque-1") is None
    assert provider.introspections == 2


async def test_the_cache_holds_at_most_its_size(provider: LocalProvider) -> None:
    checker = verifier(provider, max_entries=2)
    for name in ("a", "b", "c"):
        provider.introspection[name] = answer()
        await checker.verify_token(name)
    await checker.verify_token("a")  # the oldest was dropped to make room, so it is asked about again
    assert provider.introspections == 4


async def test_auth_file_tokens_are_checked_by_the_file_without_asking_the_provider(
    provider: LocalProvider, tmp_path: Any
) -> None:
    auth = AuthFile(tmp_path / "auth.json")
    _, token = auth.create("script", ["orders:read"])
    either = FirstAccepting([FileTokenVerifier(auth), verifier(provider)], local=1)
    access = await either.verify_token(token)
    assert access is not None and access.subject == "script" and provider.introspections == 0


async def test_an_auth_file_token_the_file_refuses_is_not_sent_to_the_provider(
    provider: LocalProvider, tmp_path: Any
) -> None:
    auth = AuthFile(tmp_path / "auth.json")
    record, token = auth.create("script", ["orders:read"])
    auth.revoke(record.id)
    either = FirstAccepting([FileTokenVerifier(auth), verifier(provider)], local=1)
    assert await either.verify_token(token) is None and provider.introspections == 0
