"""The consent page of `serve --oauth-server` in a real browser (Debian's Chromium through playwright), used with
the keyboard alone. With SHOPDESK_SCREENSHOTS set, the page's screenshot is saved there (docs/screenshots).
Without chromium or playwright these skip; with SHOPDESK_REQUIRE_PEERS=1 (CI) they fail instead."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from oauth_server_support import OPERATOR, PASSWORD, REDIRECT, AuthServer, oauth_server, pkce, query

from shopdesk.settings import Settings

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
REQUIRED = os.environ.get("SHOPDESK_REQUIRE_PEERS") == "1"


def missing(reason: str) -> None:
    if REQUIRED:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture
def auth(settings: Settings, tmp_path: Path) -> Iterator[AuthServer]:
    with oauth_server(settings, tmp_path) as server:
        yield server


async def test_an_operator_signs_in_and_consents_with_the_keyboard_alone(auth: AuthServer, tmp_path: Path) -> None:
    try:
        from playwright.async_api import Route, async_playwright
    except ImportError:
        missing("playwright is not installed: pip install -e '.[test]'")
    if not CHROMIUM.exists():
        missing("Debian's chromium is not installed: apt-get install -y chromium")
    client = auth.register(client_name="Claude")
    verifier, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "st-123",
        "scope": "orders:read catalog:read",
        "resource": auth.url,
    }
    arrived: list[str] = []

    async def callback(route: Route) -> None:  # the client's redirect URI, which no server here answers
        await route.fulfill(status=200, content_type="text/plain", body="done")

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = await chromium.new_page(viewport={"width": 760, "height": 1000})
            await page.route(f"{REDIRECT}**", callback)
            await page.goto(f"{auth.base}/authorize?{urlencode(params)}")
            await page.keyboard.type(OPERATOR)  # the email field has the focus
            await page.keyboard.press("Tab")
            await page.keyboard.type(PASSWORD)
            await page.keyboard.press("Tab")
            await page.keyboard.press("Space")  # the first scope, customers:read, not asked for
            for _ in range(9):  # the seven other scopes, the customer field, then the Allow button
                await page.keyboard.press("Tab")
            focused = await page.evaluate("document.activeElement.textContent")
            asked = os.environ.get("SHOPDESK_SCREENSHOTS")
            await page.screenshot(path=str((Path(asked) if asked else tmp_path) / "oauth-consent.png"), full_page=True)
            async with page.expect_request(f"{REDIRECT}**") as sent:
                await page.keyboard.press("Enter")
            arrived.append((await sent.value).url)
        finally:
            await chromium.close()
    assert focused == "Allow"
    back = query(arrived[0])
    assert back["state"] == "st-123"
    tokens = auth.exchange(client, back["code"], verifier).json()
    assert sorted(tokens["scope"].split()) == ["catalog:read", "customers:read", "orders:read"]
