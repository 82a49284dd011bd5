"""One-time sign-in links (`shopdesk operator link EMAIL`) for the consent page of `serve --oauth-server`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from oauth_server_support import OPERATOR, AuthServer, hidden, oauth_server, pkce, query, sql
from shop_support import db_arg, server_env

from shopdesk.settings import Settings
from shopdesk.storage.repositories.oauth import digest

pytestmark = pytest.mark.slow


@pytest.fixture
def auth(settings: Settings, tmp_path: Path) -> Iterator[AuthServer]:
    with oauth_server(settings, tmp_path) as server:
        yield server


def link(auth: AuthServer, email: str = OPERATOR) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shopdesk", "operator", "link", email, "--db", db_arg(auth.settings)]
        + ["--public-url", auth.url],
        capture_output=True,
        text=True,
        env={k: v for k, v in server_env().items() if not k.startswith("SHOPDESK_")},
        timeout=120,
    )


def open_link(browser: httpx2.Client, url: str) -> httpx2.Response:
    """What a person does with the link: open it, press the button."""
    page = browser.get(url)
    form = {"token": hidden(page.text, "token"), "csrf": hidden(page.text, "csrf")}
    return browser.post(url.split("?")[0], data=form)


def test_a_sign_in_link_signs_the_browser_in_and_consent_needs_no_password(auth: AuthServer) -> None:
    made = link(auth)
    assert made.stdout.startswith(f"{auth.base}/oauth/signin?token="), made.stderr
    browser = httpx2.Client(timeout=30)
    assert "Signed in as ann@shop.example" in open_link(browser, made.stdout.strip()).text
    page = browser.get(auth.authorize(auth.register(), pkce()[1]).headers["location"]).text
    assert "Signed in as <strong>ann@shop.example</strong>" in page and 'name="password"' not in page
    form = {"request": hidden(page, "request"), "csrf": hidden(page, "csrf"), "action": "allow", "scope": "orders:read"}
    answer = browser.post(f"{auth.base}/oauth/consent", data=form)
    assert answer.status_code == 303 and "code" in query(answer.headers["location"])


def test_a_sign_in_link_works_once(auth: AuthServer) -> None:
    url = link(auth).stdout.strip()
    open_link(httpx2.Client(timeout=30), url)
    again = open_link(httpx2.Client(timeout=30), url)
    assert again.status_code == 400 and "used already or has expired" in again.text


def test_an_expired_sign_in_link_is_refused(auth: AuthServer) -> None:
    url = link(auth).stdout.strip()
    sql(auth.settings, "UPDATE oauth_signin_links SET expires_at = 1 WHERE hash = ?", digest(url.split("token=")[1]))
    answer = open_link(httpx2.Client(timeout=30), url)
    assert answer.status_code == 400 and "set-cookie" not in answer.headers


def test_a_sign_in_posted_without_the_pages_cookie_is_refused(auth: AuthServer) -> None:
    url = link(auth).stdout.strip()
    browser = httpx2.Client(timeout=30)
    page = browser.get(url).text
    browser.cookies.clear()
    answer = browser.post(url.split("?")[0], data={"token": hidden(page, "token"), "csrf": hidden(page, "csrf")})
    assert answer.status_code == 403


def test_a_link_for_an_address_that_is_no_operator_is_refused(auth: AuthServer) -> None:
    made = link(auth, "nobody@shop.example")
    assert made.returncode == 2
    assert made.stderr.startswith("shopdesk: error: nobody@shop.example is not an operator")
