"""`serve --oauth-server` as an attacker sees it, over real HTTP: what anyone on the network can send to the
authorization server's open endpoints (oversized bodies, floods of registrations and sign-ins, redirect URIs
that are not registered, a code or refresh token raced against itself), and what a copy of the database would
give away (client secrets).

(The flow's own checks, PKCE, codes, refresh rotation, CSRF and the consent page's headers, are in
test_oauth_server.py.)"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from oauth_server_support import OPERATOR, PASSWORD, REDIRECT, AuthServer, oauth_server, pkce, query, sql
from shop_support import open_shop

from shopdesk.oauth import operators
from shopdesk.oauth.provider import MAX_PENDING_PER_CLIENT
from shopdesk.settings import Settings
from shopdesk.storage.repositories.oauth import digest
from shopdesk.storage.repositories.oauth_clients import MAX_UNUSED_CLIENTS

pytestmark = pytest.mark.slow

BIG = "x" * (512 * 1024)


@pytest.fixture
def auth(settings: Settings, tmp_path: Path) -> Iterator[AuthServer]:
    with oauth_server(settings, tmp_path) as server:
        yield server


def test_a_registration_of_half_a_megabyte_is_refused_and_nothing_is_stored(auth: AuthServer) -> None:
    body = {"redirect_uris": [REDIRECT], "client_name": BIG, "token_endpoint_auth_method": "none"}
    answer = auth.http.post(f"{auth.base}/register", json=body)
    assert answer.status_code == 413, answer.text[:200]
    assert answer.json()["error"] == "invalid_request"
    assert sql(auth.settings, "SELECT count(*) FROM oauth_clients") == [(0,)]


def test_an_authorization_request_of_half_a_megabyte_is_refused_and_nothing_is_stored(auth: AuthServer) -> None:
    client = auth.register()
    _, challenge = pkce()
    form = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": BIG,
    }
    answer = auth.http.post(f"{auth.base}/authorize", data=form)
    assert answer.status_code == 413, answer.text[:200]
    assert sql(auth.settings, "SELECT count(*) FROM oauth_pending") == [(0,)]


def test_a_token_request_of_half_a_megabyte_is_refused(auth: AuthServer) -> None:
    client = auth.register()
    answer = auth.token(client, grant_type="refresh_token", refresh_token=BIG)
    assert answer.status_code == 413, answer.text[:200]


def test_a_client_secret_is_stored_only_as_a_hash_and_still_authenticates(auth: AuthServer) -> None:
    client = auth.register(token_endpoint_auth_method="client_secret_post")
    secret = client["client_secret"]
    stored = sql(auth.settings, "SELECT metadata FROM oauth_clients WHERE client_id = ?", client["client_id"])
    assert secret not in stored[0][0]
    code, verifier = auth.code(client, scopes=["orders:read"])
    wrong = auth.exchange(client, code, verifier, client_secret="not-" + secret)
    assert wrong.status_code == 401, wrong.text
    right = auth.exchange(client, code, verifier, client_secret=secret)
    assert right.status_code == 200, right.text
    assert auth.revoke(client, right.json()["access_token"]).status_code == 401  # a confidential client's needs it
    answer = auth.http.post(
        f"{auth.base}/revoke",
        data={"client_id": client["client_id"], "token": right.json()["access_token"], "client_secret": secret},
    )
    assert answer.status_code == 200, answer.text
    assert auth.mcp_status(right.json()["access_token"]) == 401


def test_a_client_secret_sent_by_http_basic_authenticates_and_a_wrong_one_does_not(auth: AuthServer) -> None:
    client = auth.register(token_endpoint_auth_method="client_secret_basic")
    code, verifier = auth.code(client, scopes=["orders:read"])
    form = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "redirect_uri": REDIRECT}
    wrong = auth.http.post(
        f"{auth.base}/token", data={"client_id": client["client_id"], **form}, auth=(client["client_id"], "nope")
    )
    assert wrong.status_code == 401, wrong.text
    right = auth.http.post(
        f"{auth.base}/token",
        data={"client_id": client["client_id"], **form},
        auth=(client["client_id"], client["client_secret"]),
    )
    assert right.status_code == 200, right.text


def test_the_stored_hash_of_a_client_secret_is_not_a_secret_that_works(auth: AuthServer) -> None:
    client = auth.register(token_endpoint_auth_method="client_secret_post")
    stored = sql(auth.settings, "SELECT metadata FROM oauth_clients WHERE client_id = ?", client["client_id"])
    kept = json.loads(stored[0][0])["client_secret"]
    code, verifier = auth.code(client, scopes=["orders:read"])
    answer = auth.exchange(client, code, verifier, client_secret=kept)
    assert answer.status_code == 401, answer.text


def test_a_flood_of_authorization_requests_keeps_only_the_newest_of_each_client(auth: AuthServer) -> None:
    client, other = auth.register(), auth.register()
    _, challenge = pkce()
    first = auth.authorize(client, challenge).headers["location"]
    oldest = digest(query(first)["request"])
    sql(auth.settings, "UPDATE oauth_pending SET expires_at = expires_at - 1 WHERE hash = ?", oldest)
    waiting = auth.authorize(other, challenge).headers["location"]
    for _ in range(MAX_PENDING_PER_CLIENT + 5):
        assert auth.authorize(client, challenge).status_code == 302
    rows = sql(auth.settings, "SELECT client_id, count(*) FROM oauth_pending GROUP BY client_id ORDER BY 2")
    assert rows == [(other["client_id"], 1), (client["client_id"], MAX_PENDING_PER_CLIENT)]
    assert auth.http.get(first).status_code == 400  # the oldest made way
    assert auth.http.get(waiting).status_code == 200  # another client's is untouched


def test_a_flood_of_registrations_keeps_only_the_newest_unused_ones(auth: AuthServer) -> None:
    used = auth.register()
    auth.tokens(used, ["orders:read"])
    early = [auth.register() for _ in range(5)]
    sql(auth.settings, "UPDATE oauth_clients SET created_at = created_at - 60")  # older; `used` has a grant
    clients = [auth.register() for _ in range(MAX_UNUSED_CLIENTS)]
    kept = {row[0] for row in sql(auth.settings, "SELECT client_id FROM oauth_clients")}
    assert kept == {used["client_id"], *(c["client_id"] for c in clients)}
    assert not kept & {c["client_id"] for c in early}


async def test_passwords_are_checked_off_the_event_loop(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    # argon2 takes tens of milliseconds and 64 MiB a check: on the event loop, a flood of sign-ins (each needs
    # only a consent page anyone can open) would stall every other request of the process.
    hasher = operators._hasher
    threads: list[str] = []

    class Watched(type(hasher)):  # type: ignore[misc]
        def verify(self, hash: str, password: str) -> bool:
            threads.append(threading.current_thread().name)
            return hasher.verify(hash, password)

        def hash(self, password: str, **more: object) -> str:
            threads.append(threading.current_thread().name)
            return hasher.hash(password)

    db = await open_shop(settings)
    try:
        await operators.add(db, OPERATOR, PASSWORD)
        monkeypatch.setattr(operators, "_hasher", Watched())
        assert await operators.verify(db, OPERATOR, PASSWORD)
        assert not await operators.verify(db, OPERATOR, "wrong password")
        assert not await operators.verify(db, "nobody@shop.example", PASSWORD)  # the same work, unknown address
    finally:
        await db.close()
    assert len(threads) == 3 and threading.main_thread().name not in threads, threads


def test_a_code_exchanged_twice_at_once_ends_whatever_it_gave(auth: AuthServer) -> None:
    # Whichever of the two arrives second, after the first has read the code as unused or not, the grant ends.
    client = auth.register()
    code, verifier = auth.code(client, scopes=["orders:read"])
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: auth.exchange(client, code, verifier), range(2)))
    issued = [a.json()["access_token"] for a in answers if a.status_code == 200]
    assert len(issued) <= 1 and all(a.status_code in (200, 400) for a in answers), [a.text for a in answers]
    assert [auth.mcp_status(token) for token in issued] == [401] * len(issued)


def test_a_refresh_token_exchanged_twice_at_once_ends_the_grant(auth: AuthServer) -> None:
    client = auth.register()
    tokens = auth.tokens(client, ["orders:read"])
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: auth.refresh(client, tokens["refresh_token"]), range(2)))
    issued = [a.json()["access_token"] for a in answers if a.status_code == 200]
    assert len(issued) <= 1 and all(a.status_code in (200, 400) for a in answers), [a.text for a in answers]
    assert [auth.mcp_status(token) for token in [tokens["access_token"], *issued]] == [401] * (1 + len(issued))


@pytest.mark.parametrize(
    "redirect",
    [
        "https://attacker.example/callback",
        "http://localhost:9/callback",  # registered as 127.0.0.1: another host name is another URI
        "http://127.0.0.1:9/callback/../elsewhere",
        "http://127.0.0.1:9/callback?next=https://attacker.example",
        "http://attacker.example@127.0.0.1.attacker.example/callback",
    ],
)
def test_no_error_sends_the_browser_to_a_redirect_uri_that_is_not_registered(auth: AuthServer, redirect: str) -> None:
    client = auth.register()
    _, challenge = pkce()
    for bad in ({}, {"scope": "no-such-scope"}, {"resource": "https://other.example/mcp"}, {"code_challenge": "x"}):
        answer = auth.authorize(client, challenge, redirect_uri=redirect, **bad)
        assert answer.status_code == 400 and "location" not in answer.headers, (bad, answer.text)
    unknown = auth.authorize({"client_id": "no-such-client"}, challenge, redirect_uri=redirect)
    assert unknown.status_code == 400 and "location" not in unknown.headers
