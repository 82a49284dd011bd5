"""shopdesk-demo end to end: the real CLI, a real shopdesk server over stdio, the fake Messages API."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from demo_support.fake_anthropic import FakeMessagesAPI
from shop_support import server_env


@pytest.fixture
def api() -> Iterator[FakeMessagesAPI]:
    fake = FakeMessagesAPI().start()
    yield fake
    fake.stop()


def demo(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in server_env().items() if not k.startswith("ANTHROPIC_")}
    return subprocess.run(
        [sys.executable, "-m", "client_demo", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**clean, **env},
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_one_question_through_a_real_shopdesk(api: FakeMessagesAPI, tmp_path: Path) -> None:
    api.tool_calls(("list_all_product_types", {}), ("search_orders", {"status": "pending", "limit": 2}))
    api.text("We sell 20 kinds of products.")
    env = {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": api.url}

    run = demo(
        "Which products do you sell, and which orders are pending?",
        "--db",
        str(tmp_path / "shop.sqlite3"),
        "--trace",
        str(tmp_path / "t.jsonl"),
        cwd=tmp_path,
        env=env,
    )

    assert run.returncode == 0, run.stderr
    assert "We sell 20 kinds of products." in run.stdout
    assert "list_all_product_types ok" in run.stderr and "cost $" in run.stderr
    results = [b for b in api.requests[1]["messages"][-1]["content"] if b["type"] == "tool_result"]
    assert '"T-Shirt"' in results[0]["content"] and "#W" in results[1]["content"]
    records = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert [r["tool"] for r in records] == ["list_all_product_types", "search_orders"]
    # The first request only carried the tools this question needs, with the cache breakpoint on the last.
    names = [t["name"] for t in api.requests[0]["tools"]]
    assert "list_all_product_types" in names and "create_ticket" not in names
    assert api.requests[0]["tools"][-1]["cache_control"] == {"type": "ephemeral"}


def test_one_shot_refuses_destructive_tools_without_yes(api: FakeMessagesAPI, tmp_path: Path) -> None:
    api.tool_calls(("cancel_pending_order", {"order_id": "#W1000001", "reason": "no longer needed"}))
    api.text("I need your approval to cancel.")
    env = {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": api.url}

    run = demo(
        "Cancel order #W1000001",
        "--db",
        str(tmp_path / "shop.sqlite3"),
        "--trace",
        str(tmp_path / "t.jsonl"),
        cwd=tmp_path,
        env=env,
    )

    assert run.returncode == 0, run.stderr
    result = api.requests[1]["messages"][-1]["content"][0]
    assert result["is_error"] is True and "did not approve" in result["content"]
    assert "--yes" in run.stderr


def test_without_an_api_key_says_how_to_set_one(tmp_path: Path) -> None:
    run = demo("hello", cwd=tmp_path, env={})
    assert run.returncode == 2
    assert "ANTHROPIC_API_KEY" in run.stderr and "Traceback" not in run.stderr


def test_url_connects_to_a_running_http_server(api: FakeMessagesAPI, http_server: str, tmp_path: Path) -> None:
    api.tool_calls(("list_all_product_types", {}))
    api.text("Here is the catalogue.")
    env = {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": api.url}
    run = demo(
        "Which products do you sell?", "--url", http_server, "--trace", str(tmp_path / "t.jsonl"), cwd=tmp_path, env=env
    )
    assert run.returncode == 0, run.stderr
    result = api.requests[1]["messages"][-1]["content"][0]
    assert '"T-Shirt"' in result["content"] and "is_error" not in result
