"""shopdesk-demo end to end: the real CLI, a real shopdesk server over stdio, the fake Messages API."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from demo_support.fake_anthropic import FakeMessagesAPI
from shop_support import ROOT, server_env

pytestmark = pytest.mark.slow  # runs shopdesk-demo and its server as processes


@pytest.fixture
def api() -> Iterator[FakeMessagesAPI]:
    fake = FakeMessagesAPI().start()
    yield fake
    fake.stop()


def demo(*args: str, cwd: Path, env: dict[str, str], typed: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run shopdesk-demo; `typed` is what the person types on stdin (none: stdin is empty)."""
    clean = {k: v for k, v in server_env().items() if not k.startswith("ANTHROPIC_")}
    return subprocess.run(
        [sys.executable, "-m", "shopdesk_demo", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**clean, **env},
        timeout=120,
        input=typed,
        stdin=subprocess.DEVNULL if typed is None else None,
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


def test_a_conversation_ends_once_its_tokens_are_spent(api: FakeMessagesAPI, tmp_path: Path) -> None:
    api.text("You are ava_smith_1001.", input_tokens=900)
    api.text("never sent")
    env = {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": api.url}

    run = demo(
        "--max-tokens",
        "500",
        "--db",
        str(tmp_path / "shop.sqlite3"),
        "--trace",
        str(tmp_path / "t.jsonl"),
        cwd=tmp_path,
        env=env,
        typed="Who am I?\nAnd my orders?\n",
    )

    assert run.returncode == 1, run.stderr
    assert "You are ava_smith_1001." in run.stdout and len(api.requests) == 1
    # The person is not asked for a question that could not be answered.
    assert run.stderr.count("you>") == 1
    assert "conversation ended: token limit reached (920 of 500 tokens in this conversation)" in run.stderr


def test_help_says_which_limits_are_per_question(tmp_path: Path) -> None:
    run = demo("--help", cwd=tmp_path, env={})
    text = " ".join(run.stdout.split())
    assert run.returncode == 0
    assert "--max-turns MAX_TURNS model turns per question" in text
    assert "--max-seconds MAX_SECONDS wall time per question" in text
    assert "--max-tokens MAX_TOKENS tokens for the whole conversation" in text
    assert "--max-cost MAX_COST USD for the whole conversation" in text


def test_without_trace_the_trace_goes_under_the_working_folder_not_the_checkout(
    api: FakeMessagesAPI, tmp_path: Path
) -> None:
    api.tool_calls(("list_all_product_types", {}))
    api.text("We sell 20 kinds of products.")
    env = {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": api.url}
    in_checkout = sorted((ROOT / "traces").glob("*.jsonl"))

    run = demo("Which products do you sell?", "--db", str(tmp_path / "shop.sqlite3"), cwd=tmp_path, env=env)

    assert run.returncode == 0, run.stderr
    (trace,) = (tmp_path / "traces").glob("*.jsonl")
    assert f"trace: {trace.relative_to(tmp_path)}" in run.stderr
    assert sorted((ROOT / "traces").glob("*.jsonl")) == in_checkout
