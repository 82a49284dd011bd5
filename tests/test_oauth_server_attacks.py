"""`serve --oauth-server` as an attacker sees it, over real HTTP: what anyone on the network can send to the
authorization server's open endpoints, and what a copy of the database would give away.

(The flow's own checks, PKCE, codes, refresh rotation, CSRF and the consent page's headers, are in
test_oauth_server.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from oauth_server_support import REDIRECT, AuthServer, oauth_server, pkce, sql

from shopdesk.settings import Settings

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
