"""shopdesk-demo over HTTP waits as long as the shopdesk server asks (429 and 503 with Retry-After), then goes on:
against a real shopdesk whose rate limit is tiny."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from http_support import copy_shop, running
from shop_support import call, connected

from shopdesk.access.tokens import AuthFile
from shopdesk.settings import default_auth_file
from shopdesk_demo.__main__ import server_target

pytestmark = pytest.mark.slow  # every test talks to a shopdesk server process


async def test_the_demo_waits_as_the_server_says_and_gets_through(
    tmp_path: Path, tau2_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = copy_shop(tau2_template, tmp_path)
    _, token = AuthFile(default_auth_file(db)).create("demo", ["catalog:read"])
    monkeypatch.setenv("SHOPDESK_TOKEN", token)
    notices: list[str] = []
    # Two requests a second, two at once: opening a session and three calls run over it.
    with running(db, "--rate-limit", "2", "--rate-burst", "2") as server:
        async with connected(server_target(argparse.Namespace(url=server.url), notices.append)) as client:
            for _ in range(3):
                assert (await call(client, "list_all_product_types"))["product_types"]
    assert notices, "the server never said 429: the rate limit did not bite"
    assert all(notice == "the shopdesk server answered 429; trying again in 1 s" for notice in notices), notices
