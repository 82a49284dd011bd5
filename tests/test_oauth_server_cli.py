"""The commands around `serve --oauth-server`: operators, and OAuth grants in `token list` / `token revoke`; and
the auth file working beside the OAuth server."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from http_support import running, session
from oauth_server_support import OPERATOR, AuthServer, oauth_server
from shop_support import db_arg, server_env

from shopdesk.access.tokens import AuthFile
from shopdesk.settings import Settings

pytestmark = pytest.mark.slow


def shopdesk(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shopdesk", *args, "--db", db_arg(settings)],
        input=stdin,
        capture_output=True,
        text=True,
        env={k: v for k, v in server_env().items() if not k.startswith("SHOPDESK_")},
        timeout=120,
    )


@pytest.fixture
def auth(settings: Settings, tmp_path: Path) -> Iterator[AuthServer]:
    with oauth_server(settings, tmp_path) as server:
        yield server


def test_operator_add_reads_the_password_from_stdin_and_list_shows_the_address(settings: Settings) -> None:
    added = shopdesk(settings, "operator", "add", "Bo@Shop.Example", "--password-stdin", stdin="a long password\n")
    listed = shopdesk(settings, "operator", "list")
    assert added.stdout == "added operator bo@shop.example\n", added.stderr
    assert listed.stdout.startswith("bo@shop.example  added ")


def test_operator_add_refuses_a_short_password_in_one_line(settings: Settings) -> None:
    added = shopdesk(settings, "operator", "add", "bo@shop.example", "--password-stdin", stdin="short\n")
    assert added.returncode == 2
    assert added.stderr == "shopdesk: error: the password is too short: at least 10 characters\n"


def test_operator_remove_removes_and_then_says_there_is_none(settings: Settings) -> None:
    shopdesk(settings, "operator", "add", "bo@shop.example", "--password-stdin", stdin="a long password\n")
    removed = shopdesk(settings, "operator", "remove", "bo@shop.example")
    again = shopdesk(settings, "operator", "remove", "bo@shop.example")
    assert removed.stdout == "removed operator bo@shop.example\n"
    assert again.stderr == "shopdesk: error: bo@shop.example is not an operator\n"


def test_token_list_shows_a_grant_with_its_app_operator_scopes_and_customer(
    auth: AuthServer, tau2_data: dict[str, Any]
) -> None:
    customer = next(iter(tau2_data["users"]))
    client = auth.register(client_name="Claude")
    auth.tokens(client, ["orders:read", "tickets:read"], customer=customer)
    listed = shopdesk(auth.settings, "token", "list")
    (line,) = [line for line in listed.stdout.splitlines() if line.startswith("oag_")]
    assert f"active  OAuth app 'Claude' ({client['client_id']}) approved by {OPERATOR}" in line
    assert f"orders:read tickets:read, customer {customer}, refresh until " in line


def test_token_revoke_ends_a_grant_at_once(auth: AuthServer) -> None:
    tokens = auth.tokens(auth.register(), ["orders:read"])
    listed = shopdesk(auth.settings, "token", "list")
    grant_id = next(line.split()[0] for line in listed.stdout.splitlines() if line.startswith("oag_"))
    revoked = shopdesk(auth.settings, "token", "revoke", grant_id)
    assert revoked.stdout.startswith(f"revoked OAuth grant {grant_id}"), revoked.stderr
    assert auth.mcp_status(tokens["access_token"]) == 401


def test_auth_file_tokens_keep_working_beside_the_oauth_server(settings: Settings, tmp_path: Path) -> None:
    auth_file = tmp_path / "shop.auth.json"
    _, token = AuthFile(auth_file).create("script", ["orders:read"], None, None)
    with oauth_server(settings, tmp_path, "--auth-file", str(auth_file)) as auth:

        async def tools() -> set[str]:
            async with session(auth.url, token) as client:
                return {tool.name for tool in (await client.list_tools()).tools}

        assert "get_order_details" in asyncio.run(tools())
        assert auth.mcp_status("sdt_not_a_token") == 401


def test_the_oauth_server_counts_as_authentication_on_every_address(settings: Settings, tmp_path: Path) -> None:
    public = ("--host", "0.0.0.0", "--public-url", "https://desk.example.com/mcp")
    with running(db_arg(settings), "--oauth-server", *public, folder=tmp_path) as server:
        assert server.process.poll() is None
    assert "NO authentication" not in server.stop()


def test_the_oauth_server_off_this_machine_needs_an_https_public_url(settings: Settings) -> None:
    served = shopdesk(settings, "serve", "--transport", "http", "--oauth-server", "--host", "0.0.0.0")
    assert served.returncode == 2
    assert served.stderr.startswith("shopdesk: error: --oauth-server signs people in and hands out tokens")


def test_the_oauth_server_refuses_to_start_read_only(settings: Settings) -> None:
    served = shopdesk(settings, "serve", "--transport", "http", "--oauth-server", "--read-only")
    assert served.returncode == 2
    assert served.stderr.startswith("shopdesk: error: --oauth-server keeps clients, grants and tokens in the database")


def test_removing_an_operator_ends_the_grants_they_gave(auth: AuthServer) -> None:
    client = auth.register()
    tokens = auth.tokens(client, ["orders:read"])
    removed = shopdesk(auth.settings, "operator", "remove", OPERATOR)
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout == f"removed operator {OPERATOR} and revoked the 1 OAuth grant they gave\n"
    assert auth.mcp_status(tokens["access_token"]) == 401
    assert auth.refresh(client, tokens["refresh_token"]).status_code == 400
