"""A stand-in for a person's web browser, for clients that open the authorization URL themselves (mcp-remote):
set as $BROWSER (through a one-line shell wrapper), it is run with that URL, opens it in headless Chromium, signs
in and consents, and lets the browser follow the redirect to the client's own callback on loopback.

It knows two sign-in pages: shopdesk's consent page (`serve --oauth-server`: OAUTH_EMAIL, OAUTH_PASSWORD and the
scopes in OAUTH_SCOPES are ticked) and oidc-provider's dev login and consent pages (`serve --oauth-issuer`:
OAUTH_LOGIN, any password). What happened goes to the file OAUTH_BROWSER_LOG, as the client runs it without a
terminal.
"""

from __future__ import annotations

import asyncio
import os
import sys

from playwright.async_api import Page, async_playwright

CHROMIUM = "/usr/bin/chromium"
CALLBACK = "**/oauth/callback?**"  # mcp-remote's callback path, on the port it listens on


def note(text: str) -> None:
    log = os.environ.get("OAUTH_BROWSER_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as out:
            out.write(text + "\n")


async def shopdesk_consent(page: Page) -> None:
    await page.fill("input[name=email]", os.environ["OAUTH_EMAIL"])
    await page.fill("input[name=password]", os.environ["OAUTH_PASSWORD"])
    wanted = os.environ.get("OAUTH_SCOPES", "").split()
    for box in await page.query_selector_all("input[name=scope]"):
        if (await box.get_attribute("value")) in wanted:
            await box.check()
        else:
            await box.uncheck()
    await page.click("button[value=allow]")


async def provider_login(page: Page) -> None:
    await page.fill("input[name=login]", os.environ.get("OAUTH_LOGIN", "carol"))
    await page.fill("input[name=password]", "any password")
    async with page.expect_navigation():
        await page.click("button[type=submit]")
    await page.click("button[type=submit]")  # the consent page's Continue


async def main(url: str) -> None:
    note(f"opened {url}")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await chromium.new_page()
            await page.goto(url)
            note(f"sign-in page {page.url}")
            if await page.query_selector("input[name=login]"):
                await provider_login(page)
            else:
                await shopdesk_consent(page)
            await page.wait_for_url(CALLBACK)
            note(f"back at the client: {page.url.split('?')[0]}")
        finally:
            await chromium.close()


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1]))
    except Exception as error:  # the client runs this detached: the log is the only place to say what failed
        note(f"failed: {error!r}")
        raise
