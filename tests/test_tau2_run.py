"""shopdesk-tau2 end to end: the real command, shopdesk over a real stdio MCP connection per trial, the demo's agent
and the simulated customer both talking to the fake Messages API, each answered by a scripted player.

Task 90: Emma Kovacs's digital camera order #W9284598 is to be cancelled as "ordered by mistake" (the gold action).
Task 94: Lei Wilson wants a laptop exchanged; the scripted agent will not do it, so the shop differs from the gold.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from demo_support.fake_anthropic import FakeMessagesAPI
from demo_support.fake_tau2 import FakeTau2API, call, is_customer, say, text_of
from shop_support import ROOT

from shopdesk.domain.rules_text import POLICY
from shopdesk_demo.tau2.__main__ import main
from shopdesk_demo.tau2.conversation import TRANSFERRED_NOTE
from shopdesk_demo.tau2.customer import GREETING
from shopdesk_demo.tau2.runner import read_results

ORDER = "#W9284598"
OPENING = {
    "Emma Kovacs": f"Hi, I am Emma Kovacs. Please cancel order {ORDER}: I ordered it by mistake.",
    "Lei Wilson": "Hello, I'm Lei Wilson, zip 32255. I'd like to exchange the laptop I received.",
}


def customer_player(stop_usage: dict[str, int] | None = None) -> Any:
    """Opens with the line its scenario's customer would say, then thanks the agent and stops."""

    def reply(body: dict[str, Any]) -> dict[str, Any]:
        own = [m for m in body["messages"] if m["role"] == "assistant"]
        if not own:
            name = next(n for n in OPENING if n in body["system"])
            return say(OPENING[name], **(stop_usage or {}))
        return say("Thanks, that's all. ###STOP###", **(stop_usage or {}))

    return reply


def agent_player(body: dict[str, Any]) -> dict[str, Any]:
    """Cancels the order a customer names, as asked; anything else it declines."""
    last = body["messages"][-1]
    if isinstance(last["content"], list) and any(b["type"] == "tool_result" for b in last["content"]):
        return say(f"Done: order {ORDER} is cancelled and the payment refunded.")
    if ORDER in text_of(last["content"]):
        return call("cancel_pending_order", {"order_id": ORDER, "reason": "ordered by mistake"})
    return say("I'm sorry, I cannot help with that.")


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def start(api: Any) -> Any:
        api.start()
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        monkeypatch.setenv("PYTHONPATH", str(ROOT))  # for the server subprocesses
        started.append(api)
        return api

    started: list[FakeMessagesAPI] = []
    yield start
    for api in started:
        api.stop()


def exit_code(argv: list[str]) -> int:
    """The command's exit status, whether it returns it or argparse exits with it."""
    try:
        return main(argv)
    except SystemExit as exit:
        return int(exit.code or 0)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_one_task_passes_and_one_fails_over_mcp(environment: Any, tmp_path: Path, capsys: Any) -> None:
    api = environment(FakeTau2API(agent_player, customer_player()))
    out = tmp_path / "run"

    code = main(["--tasks", "90,94", "--out", str(out), "--concurrency", "2", "--budget", "1"])

    assert code == 0, capsys.readouterr().err
    results = {r["task_id"]: r for r in lines(out / "results.jsonl")}
    assert set(results) == {"90", "94"}
    passed, failed = results["90"], results["94"]
    assert passed["passed"] and passed["db_match"] and passed["differences"] == []
    assert (passed["termination"], passed["stop_token"], passed["exchanges"]) == ("user_stop", "###STOP###", 2)
    assert passed["turns"] == 2 and passed["agent"]["model"] == "claude-haiku-5-5"
    assert passed["cost_usd"] == pytest.approx(passed["agent"]["cost_usd"] + passed["customer"]["cost_usd"])
    assert passed["customer"]["input_tokens"] == 200  # two customer messages, 100 input tokens each
    assert not failed["passed"] and not failed["db_match"] and failed["termination"] == "user_stop"
    assert any(d.startswith("orders['#W2905754']") for d in failed["differences"]), failed["differences"]

    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] and summary["stopped"] is None
    assert summary["overall"]["pass_hat_k"] == {"1": {"value": 0.5, "tasks": 2}}
    assert summary["tasks"]["90"]["passes"] == 1 and summary["tasks"]["94"]["passes"] == 0
    assert summary["options"]["agent_model"] == "claude-haiku-5-5" and summary["options"]["tasks"] == "90,94"
    assert summary["overall"]["cost_usd"] == pytest.approx(passed["cost_usd"] + failed["cost_usd"], abs=1e-6)
    err = capsys.readouterr()
    assert "task 90 trial 0: PASS (user_stop ###STOP###)" in err.err and "task 94 trial 0: FAIL" in err.err
    assert "pass^1" in err.out

    # The agent had the shop's policy after its own prompt, the tools listed by the server, and the customer's words.
    first_agent = api.agent_requests[0]
    assert POLICY in first_agent["system"][0]["text"]
    assert "cancel_pending_order" in {t["name"] for t in first_agent["tools"]}
    # The customer saw the greeting first and its own lines as the assistant's: the roles flipped, as in τ².
    emma = [r for r in api.customer_requests if "Emma Kovacs" in r["system"]]
    assert "###STOP###" in emma[0]["system"] and "<scenario>" in emma[0]["system"]
    assert [(m["role"], text_of(m["content"])) for m in emma[1]["messages"]] == [
        ("user", GREETING),
        ("assistant", OPENING["Emma Kovacs"]),
        ("user", f"Done: order {ORDER} is cancelled and the payment refunded."),
    ]
    transcript = json.loads((out / "conversations" / "task90-trial0.json").read_text())
    assert transcript["customer_view"][-1]["content"].endswith("###STOP###")


@pytest.mark.slow
def test_the_budget_stops_a_run_and_a_resumed_run_skips_finished_trials(
    environment: Any, tmp_path: Path, capsys: Any
) -> None:
    # Each customer message costs $0.20 (100,000 input tokens on claude-sonnet-5-5 at $2 per million).
    api = environment(FakeTau2API(agent_player, customer_player({"input_tokens": 100_000})))
    out = tmp_path / "run"

    code = main(["--tasks", "90,94", "--out", str(out), "--concurrency", "1", "--budget", "0.3"])

    assert code == 1
    assert [(r["task_id"], r["trial"]) for r in lines(out / "results.jsonl")] == [("90", 0)]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stopped"] == "budget" and not summary["complete"]
    assert summary["this_run"]["cost_usd"] > 0.3
    assert "budget spent" in capsys.readouterr().err
    assert not any("Lei Wilson" in r["system"] for r in api.customer_requests)

    # Another model would mix two agents' results in one folder: refused before anything runs.
    assert main(["--tasks", "90,94", "--out", str(out), "--agent-model", "claude-sonnet-5-5"]) == 2
    assert "other options" in capsys.readouterr().err

    # A run killed while writing leaves half a line: the resumed run skips it and writes on a line of its own.
    with (out / "results.jsonl").open("a") as file:
        file.write('{"task_id": "94", "tri')
    before = len(api.customer_requests)
    code = main(["--tasks", "90,94", "--out", str(out), "--budget", "5"])

    assert code == 0
    assert [(r.task_id, r.trial) for r in read_results(out / "results.jsonl")] == [("90", 0), ("94", 0)]
    resumed = api.customer_requests[before:]
    assert resumed and all("Lei Wilson" in r["system"] for r in resumed)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] and summary["stopped"] is None and summary["this_run"]["trials"] == 1
    assert summary["overall"]["trials"] == 2


@pytest.mark.slow
def test_a_transfer_ends_the_call_and_a_cut_off_run_scores_zero(environment: Any, tmp_path: Path) -> None:
    """Emma's order is cancelled as the gold says, but she never stops talking: cut off at --max-turns, the run
    scores 0 whatever the shop holds, as in τ². Lei is transferred; told so, the customer ends with ###TRANSFER###."""

    def customer(body: dict[str, Any]) -> dict[str, Any]:
        own = [m for m in body["messages"] if m["role"] == "assistant"]
        if not own:
            return say(OPENING[next(n for n in OPENING if n in body["system"])])
        if TRANSFERRED_NOTE in text_of(body["messages"][-1]["content"]):
            return say("###TRANSFER###")
        return say("One more question about my order, please.")

    def agent(body: dict[str, Any]) -> dict[str, Any]:
        if "laptop" in text_of(body["messages"][0]["content"]) and len(body["messages"]) == 1:
            return call("transfer_to_human_agents", {"summary": "Wants a laptop exchanged."})
        if "laptop" in text_of(body["messages"][0]["content"]):
            return say("You are being transferred to a human agent. Please hold on.")
        return agent_player(body)

    environment(FakeTau2API(agent, customer))
    out = tmp_path / "run"

    assert main(["--tasks", "90,94", "--out", str(out), "--max-turns", "3"]) == 0

    results = {r["task_id"]: r for r in lines(out / "results.jsonl")}
    assert results["90"]["termination"] == "max_turns" and results["90"]["exchanges"] == 3
    assert results["90"]["db_match"] and not results["90"]["passed"]
    assert (results["94"]["termination"], results["94"]["stop_token"]) == ("user_stop", "###TRANSFER###")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["overall"]["unscored_endings"] == 1 and summary["overall"]["pass_hat_k"]["1"]["value"] == 0


@pytest.mark.slow
def test_an_unknown_model_stops_the_run_without_recording_trials(environment: Any, tmp_path: Path, capsys: Any) -> None:
    api = environment(FakeMessagesAPI())
    api.error(404, "not_found_error", "model: claude-nope")
    out = tmp_path / "run"

    assert main(["--tasks", "90,94", "--out", str(out), "--concurrency", "1", "--customer-model", "claude-nope"]) == 1

    assert len(api.requests) == 1 and not (out / "results.jsonl").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert "no such model" in summary["stopped"] and summary["trials_recorded"] == 0
    assert "stopping: customer model claude-nope: no such model" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tasks", "999"], "--tasks: no task or split '999'"),
        (["--trials", "0"], "--trials: must be more than 0"),
        (["--budget", "lots"], "--budget: 'lots' is not a number"),
        (["--concurrency", "-1"], "--concurrency: must be more than 0"),
    ],
)
def test_bad_options_fail_in_one_line(args: list[str], message: str, tmp_path: Path, capsys: Any) -> None:
    assert exit_code([*args, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_without_a_key_it_says_which_variable_to_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    assert main(["--out", str(tmp_path / "run")]) == 2
    assert "ANTHROPIC_API_KEY" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_customer_requests_are_told_apart_from_the_agents() -> None:
    assert is_customer({"system": "You are role-playing a customer who has contacted an online shop"})
    assert not is_customer({"system": [{"type": "text", "text": "You are a customer-service agent"}]})
