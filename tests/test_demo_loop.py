"""The agent loop against a fake Messages API (real wire format, real SDK) and an in-memory MCP server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import anthropic
import pytest
from demo_support.fake_anthropic import FakeMessagesAPI
from demo_support.tool_server import PIXEL_PNG, Calls, build_tool_server
from shop_support import connected

from shopdesk_demo.agent_options import Limits, Options
from shopdesk_demo.loop import Agent
from shopdesk_demo.retry import RetryPolicy
from shopdesk_demo.trace import Tracer


class RecordingConsole:
    def __init__(self, answer: bool = False) -> None:
        self.streamed: list[str] = []
        self.notices: list[str] = []
        self.finished: list[tuple[str, bool]] = []
        self.timings: list[tuple[float | None, float | None]] = []  # (run time, approval wait) per tool
        self.questions: list[str] = []
        self.answer = answer

    def text(self, delta: str) -> None:
        self.streamed.append(delta)

    def tool_started(self, name: str, arguments: dict[str, Any]) -> None:
        pass

    def tool_finished(
        self, name: str, seconds: float | None, ok: bool, detail: str, approval_wait: float | None = None
    ) -> None:
        self.finished.append((name, ok))
        self.timings.append((seconds, approval_wait))

    def notice(self, message: str) -> None:
        self.notices.append(message)

    async def confirm(self, question: str) -> bool:
        self.questions.append(question)
        return self.answer

    async def ask(self, question: str) -> str | None:
        return None


@pytest.fixture(scope="module")
def api_server() -> Iterator[FakeMessagesAPI]:
    # One server for the module: stopping one takes uvicorn about 0.2 s, which 37 tests would pay each.
    fake = FakeMessagesAPI().start()
    yield fake
    fake.stop()


@pytest.fixture
def api(api_server: FakeMessagesAPI) -> FakeMessagesAPI:
    api_server.reset()
    return api_server


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
async def session(calls: Calls) -> AsyncIterator[Any]:
    async with connected(build_tool_server(calls)) as client:
        yield client


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def make_agent(
    api: FakeMessagesAPI,
    session: Any,
    tools: list[Any],
    tmp_path: Path,
    *,
    console: RecordingConsole | None = None,
    sleeps: Sleeps | None = None,
    sdk_max_retries: int = 0,
    **settings: Any,
) -> Agent:
    """An agent on the fake API; `settings` are Limits, Options and RetryPolicy fields, plus an optional `clock`."""
    limits = Limits(**{k: settings.pop(k) for k in list(settings) if k in Limits.__dataclass_fields__})
    policy = {k: settings.pop(k) for k in list(settings) if k in RetryPolicy.__dataclass_fields__}
    extra = {"clock": settings.pop("clock")} if "clock" in settings else {}
    options = Options(**{"destructive": "refuse", "tool_timeout": 2.0, **settings})
    client = anthropic.AsyncAnthropic(api_key="test-key", base_url=api.url, max_retries=sdk_max_retries)
    retry = RetryPolicy(**{"sleep": sleeps or Sleeps(), "jitter": lambda: 1.0, **policy})
    return Agent(
        client,
        session,
        tools,
        console or RecordingConsole(),
        options=options,
        limits=limits,
        tracer=Tracer(tmp_path / "trace.jsonl"),
        retry=retry,
        **extra,
    )


@pytest.fixture
async def agent_for(api: FakeMessagesAPI, session: Any, tmp_path: Path) -> AsyncIterator[Any]:
    tools = (await session.list_tools()).tools
    built: list[Agent] = []

    def build(**settings: Any) -> Agent:
        agent = make_agent(api, session, tools, tmp_path, **settings)
        built.append(agent)
        return agent

    yield build
    for agent in built:
        await agent.client.close()


def trace(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp_path / "trace.jsonl").read_text().splitlines()]


def tool_results(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [block for block in request["messages"][-1]["content"] if block["type"] == "tool_result"]


async def test_two_tool_calls_in_one_turn_run_concurrently(
    api: FakeMessagesAPI, agent_for: Any, tmp_path: Path
) -> None:
    api.tool_calls(("get_order_details", {"order_id": "#W1"}), ("get_order_details", {"order_id": "#W2"}))
    api.text("Both orders were delivered.")
    console = RecordingConsole()

    outcome = await agent_for(console=console).ask("Where are my orders #W1 and #W2?")

    assert outcome.stop_reason == "done" and outcome.text == "Both orders were delivered."
    assert "".join(console.streamed) == "Both orders were delivered."
    first, second = trace(tmp_path)
    # Overlap, read from the trace: each call started before the other ended.
    assert first["started_at"] < second["ended_at"] and second["started_at"] < first["ended_at"]
    results = tool_results(api.requests[1])
    assert [r["content"] for r in results] == ["Order #W1: delivered", "Order #W2: delivered"]
    assert not any(r.get("is_error") for r in results)


async def test_a_tool_that_times_out_goes_back_as_an_error(
    api: FakeMessagesAPI, agent_for: Any, tmp_path: Path
) -> None:
    api.tool_calls(("track_parcel", {"tracking_id": "123"}))
    api.text("The carrier is not answering.")

    outcome = await agent_for(tool_timeout=0.2).ask("Track 123")

    assert outcome.stop_reason == "done"
    (result,) = tool_results(api.requests[1])
    assert result["is_error"] is True and "did not answer within 0.2 s" in result["content"]
    assert trace(tmp_path)[0]["is_error"] is True


async def test_is_error_result_round_trips_and_a_tool_that_keeps_failing_is_given_up(
    api: FakeMessagesAPI, agent_for: Any, calls: Calls
) -> None:
    for _ in range(4):
        api.tool_calls(("get_product_details", {"product_id": "42"}))
    api.text("I could not find that product.")

    outcome = await agent_for(max_tool_failures=3).ask("Tell me about product 42")

    assert outcome.stop_reason == "done"
    contents = [tool_results(request)[0] for request in api.requests[1:]]
    assert all(c["is_error"] for c in contents)
    assert "Product 42 was not found. Next step: check the id." in contents[0]["content"]
    assert "will not call it again" in contents[2]["content"]
    assert "no longer calls it" in contents[3]["content"]
    assert calls.names.count("get_product_details") == 3  # the fourth request never reached the server


async def test_429_with_retry_after_then_success(api: FakeMessagesAPI, agent_for: Any) -> None:
    api.error(429, "rate_limit_error", retry_after="3")
    api.text("Hello!")
    sleeps = Sleeps()

    outcome = await agent_for(sleeps=sleeps).ask("hi")

    assert outcome.stop_reason == "done" and len(api.requests) == 2
    assert sleeps.waits == [3.0]


async def test_retry_after_is_capped(api: FakeMessagesAPI, agent_for: Any) -> None:
    api.error(529, "overloaded_error", retry_after="3600")
    api.text("Hello!")
    sleeps = Sleeps()
    assert (await agent_for(sleeps=sleeps).ask("hi")).stop_reason == "done"
    assert sleeps.waits == [RetryPolicy().retry_after_cap]


NOW = datetime(2026, 11, 24, 10, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("retry_after", "wait"),
    [
        (format_datetime(NOW + timedelta(seconds=7), usegmt=True), 7.0),
        (format_datetime(NOW - timedelta(minutes=5), usegmt=True), 0.0),  # already past: no wait
        (format_datetime(NOW + timedelta(days=2), usegmt=True), RetryPolicy().retry_after_cap),
    ],
)
async def test_retry_after_as_an_http_date(api: FakeMessagesAPI, agent_for: Any, retry_after: str, wait: float) -> None:
    api.error(429, "rate_limit_error", retry_after=retry_after)
    api.text("Hello!")
    sleeps = Sleeps()

    outcome = await agent_for(sleeps=sleeps, now=lambda: NOW).ask("hi")

    assert outcome.stop_reason == "done" and len(api.requests) == 2
    assert sleeps.waits == [wait]


async def test_x_should_retry_false_is_obeyed_even_on_a_503(api: FakeMessagesAPI, agent_for: Any) -> None:
    api.error(503, "api_error", "do not bother", x_should_retry="false")
    api.text("never sent")
    sleeps = Sleeps()

    outcome = await agent_for(sleeps=sleeps).ask("hi")

    assert len(api.requests) == 1 and sleeps.waits == []
    assert outcome.stop_reason.startswith("API error") and "503" in outcome.stop_reason


async def test_x_should_retry_true_retries_an_error_we_would_not(api: FakeMessagesAPI, agent_for: Any) -> None:
    api.error(409, "conflict_error", "try again", x_should_retry="true")
    api.text("Hello!")
    sleeps = Sleeps()

    outcome = await agent_for(sleeps=sleeps).ask("hi")

    assert outcome.stop_reason == "done" and len(api.requests) == 2 and len(sleeps.waits) == 1


async def test_a_409_without_the_header_is_not_retried(api: FakeMessagesAPI, agent_for: Any) -> None:
    api.error(409, "conflict_error")
    api.text("never sent")
    outcome = await agent_for().ask("hi")
    assert len(api.requests) == 1 and "409" in outcome.stop_reason


async def test_a_client_with_its_own_retries_does_not_multiply_attempts(api: FakeMessagesAPI, agent_for: Any) -> None:
    for _ in range(8):  # enough for 2 attempts x (1 + 3 SDK retries), were the SDK to retry too
        api.error(503, "api_error", retry_after_ms="1")
    agent = agent_for(sdk_max_retries=3, max_attempts=2)

    outcome = await agent.ask("hi")

    assert len(api.requests) == 2 and "gave up after 2 attempts" in outcome.stop_reason
    assert [headers.get("x-stainless-retry-count") for headers in api.headers] == ["0", "0"]
    assert agent.client.max_retries == 3  # the client passed in is left as it was


async def test_500s_are_retried_with_growing_backoff(api: FakeMessagesAPI, agent_for: Any) -> None:
    api.error(500, "api_error")
    api.error(503, "api_error")
    api.text("Hello!")
    sleeps = Sleeps()

    outcome = await agent_for(sleeps=sleeps).ask("hi")

    assert outcome.stop_reason == "done" and len(api.requests) == 3
    assert sleeps.waits == [0.5, 1.0]  # base 0.5 s, doubling (jitter pinned to its top)


async def test_400_is_not_retried(api: FakeMessagesAPI, agent_for: Any) -> None:
    api.error(400, "invalid_request_error", "messages: text content blocks must be non-empty")
    api.text("never sent")
    sleeps = Sleeps()

    outcome = await agent_for(sleeps=sleeps).ask("hi")

    assert len(api.requests) == 1 and sleeps.waits == []
    assert outcome.stop_reason.startswith("API error") and "400" in outcome.stop_reason
    assert "must be non-empty" in outcome.stop_reason


async def test_retries_end_with_a_clear_error(api: FakeMessagesAPI, agent_for: Any) -> None:
    for _ in range(5):
        api.error(529, "overloaded_error")
    outcome = await agent_for().ask("hi")
    assert len(api.requests) == 5 and "gave up after 5 attempts" in outcome.stop_reason


@pytest.mark.parametrize(
    ("settings", "usage", "reason"),
    [
        ({"max_turns": 2}, {}, "turn limit reached (2 turns on this question)"),
        ({"max_tokens": 5_000}, {"input_tokens": 6_000}, "token limit reached"),
        ({"max_cost_usd": 0.001}, {"input_tokens": 20_000}, "cost limit reached"),
    ],
)
async def test_each_bound_stops_the_run(
    api: FakeMessagesAPI, agent_for: Any, settings: dict[str, Any], usage: dict[str, int], reason: str
) -> None:
    for _ in range(3):
        api.tool_calls(("find_user_id_by_email", {"email": "a@b.example"}), **usage)
    outcome = await agent_for(**settings).ask("loop forever")
    assert reason in outcome.stop_reason
    assert len(api.requests) < 3


async def test_wall_time_bound(api: FakeMessagesAPI, agent_for: Any) -> None:
    ticks = iter(range(0, 10_000, 100))
    api.tool_calls(("find_user_id_by_email", {"email": "a@b.example"}))
    api.tool_calls(("find_user_id_by_email", {"email": "a@b.example"}))
    outcome = await agent_for(max_seconds=150, clock=lambda: float(next(ticks))).ask("slow")
    assert "time limit reached" in outcome.stop_reason and len(api.requests) == 1


class FakeClock:
    """Monotonic seconds that move only when a test moves them."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_wall_time_is_per_question(api: FakeMessagesAPI, agent_for: Any) -> None:
    api.text("You are ava_smith_1001.")
    api.text("Your order is on its way.")
    clock = FakeClock()
    agent = agent_for(max_seconds=100, clock=clock)

    first = await agent.ask("Who am I?")
    clock.now += 500  # the person reads and types for longer than one question may take
    second = await agent.ask("Where is my order?")

    assert first.stop_reason == "done"
    assert second.stop_reason == "done" and second.text == "Your order is on its way."
    assert len(api.requests) == 2


async def test_turns_are_per_question(api: FakeMessagesAPI, agent_for: Any) -> None:
    for answer in ("You are ava_smith_1001.", "Still you."):
        api.tool_calls(("find_user_id_by_email", {"email": "a@b.example"}))
        api.text(answer)
    agent = agent_for(max_turns=2)

    first = await agent.ask("Who am I?")
    second = await agent.ask("Check again?")

    assert (first.stop_reason, first.turns) == ("done", 2)
    assert (second.stop_reason, second.turns, second.text) == ("done", 2, "Still you.")
    assert agent.turns == 4 and len(api.requests) == 4


@pytest.mark.parametrize(
    ("settings", "usage", "reason"),
    [
        ({"max_tokens": 5_000}, {"input_tokens": 3_000}, "token limit reached (6,040 of 5,000 tokens"),
        ({"max_cost_usd": 0.001}, {"input_tokens": 6_000}, "cost limit reached ($0.0012 of $0.00"),
    ],
)
async def test_tokens_and_cost_add_up_over_the_conversation(
    api: FakeMessagesAPI, agent_for: Any, settings: dict[str, Any], usage: dict[str, int], reason: str
) -> None:
    for answer in ("one", "two", "never sent"):
        api.text(answer, **usage)
    clock = FakeClock()
    agent = agent_for(clock=clock, **settings)

    assert (await agent.ask("first")).stop_reason == "done"
    assert agent.conversation_bound() is None  # under the bound after one question
    clock.now += 1_000
    assert (await agent.ask("second")).stop_reason == "done"
    third = await agent.ask("third")

    assert third.stop_reason.startswith(reason) and third.stop_reason.endswith("in this conversation)")
    assert agent.conversation_bound() == third.stop_reason
    assert len(api.requests) == 2


async def test_cost_counts_cache_reads_and_writes(api: FakeMessagesAPI, agent_for: Any) -> None:
    api.text(
        "ok", input_tokens=1_000, output_tokens=100, cache_creation_input_tokens=2_000, cache_read_input_tokens=10_000
    )
    api.text("ok", input_tokens=90_000, output_tokens=100, cache_read_input_tokens=20_000)
    agent = agent_for(model="claude-haiku-5-5")
    await agent.ask("hi")
    # Haiku 5.5, prompt up to 100k tokens: $0.10 in, $0.50 out, $0.125 cache writes, $0.01 cache reads per MTok
    first = (1_000 * 0.10 + 100 * 0.50 + 2_000 * 0.125 + 10_000 * 0.01) / 1_000_000
    assert agent.usage.cost_usd == pytest.approx(first)
    assert "cache writes 2,000, cache reads 10,000" in agent.usage.summary()
    await agent.ask("again")
    # A 110k-token prompt pays the long-prompt rates on every token: $0.50 in, $2.50 out, $0.05 cache reads
    second = (90_000 * 0.50 + 100 * 2.50 + 20_000 * 0.05) / 1_000_000
    assert agent.usage.cost_usd == pytest.approx(first + second)


async def test_requests_cache_system_and_tools_and_send_strict_schemas(api: FakeMessagesAPI, agent_for: Any) -> None:
    api.text("Hello!")
    await agent_for(select_tool_groups=False).ask("hi")
    request = api.requests[0]
    assert request["stream"] is True
    assert request["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert request["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert sum(1 for t in request["tools"] if "cache_control" in t) == 1
    strict = {t["name"] for t in request["tools"] if t.get("strict")}
    assert "get_order_details" in strict and "search_orders" not in strict
    auth = api.headers[0]
    assert auth.get("x-api-key") == "test-key" or auth.get("authorization") == "Bearer test-key"


async def test_destructive_tool_is_refused_without_yes(api: FakeMessagesAPI, agent_for: Any, calls: Calls) -> None:
    api.tool_calls(("cancel_pending_order", {"order_id": "#W1", "reason": "no longer needed"}))
    api.text("I could not cancel it without your approval.")

    await agent_for(destructive="refuse").ask("Cancel #W1")

    assert "cancel_pending_order" not in calls.names
    (result,) = tool_results(api.requests[1])
    assert result["is_error"] is True and "did not approve" in result["content"]


async def test_destructive_tool_asks_the_person_in_a_conversation(
    api: FakeMessagesAPI, agent_for: Any, calls: Calls
) -> None:
    api.tool_calls(("cancel_pending_order", {"order_id": "#W1", "reason": "no longer needed"}))
    api.text("Cancelled.")
    console = RecordingConsole(answer=True)

    await agent_for(destructive="ask", console=console).ask("Cancel #W1")

    assert calls.names == ["cancel_pending_order"]
    assert console.questions and "cancel_pending_order" in console.questions[0]


async def test_trace_records_every_call_with_personal_data_masked(
    api: FakeMessagesAPI, agent_for: Any, tmp_path: Path
) -> None:
    api.tool_calls(("find_user_id_by_email", {"email": "ava.smith@example.com"}), input_tokens=321)
    api.text("You are ava_smith_1001.")

    await agent_for().ask("I am ava.smith@example.com")

    (record,) = trace(tmp_path)
    assert record["tool"] == "find_user_id_by_email"
    assert record["arguments"] == {"email": "a***"}
    assert record["is_error"] is False and record["result_chars"] == len("ava_smith_1001")
    assert record["turn"] == 1 and record["model"] == "claude-haiku-5-5"
    assert record["usage"]["input_tokens"] == 321
    assert record["duration_ms"] >= 0 and record["started_at"] <= record["ended_at"]
    assert record["approval_wait_ms"] is None  # a read-only tool: no one was asked
    assert "ava.smith@example.com" not in (tmp_path / "trace.jsonl").read_text()


async def test_auto_routing_uses_the_strong_model_for_changes(api: FakeMessagesAPI, agent_for: Any) -> None:
    api.text("Your order is on its way.")
    api.text("Which order should I cancel?")
    agent = agent_for(model="auto")
    await agent.ask("Where is my order?")
    await agent.ask("Please cancel it")
    assert [r["model"] for r in api.requests] == ["claude-haiku-5-5", "claude-sonnet-5-5"]


async def test_overloaded_error_in_the_middle_of_a_stream_is_retried(api: FakeMessagesAPI, agent_for: Any) -> None:
    api.overloaded_mid_stream()
    api.text("Hello!")
    sleeps = Sleeps()
    outcome = await agent_for(sleeps=sleeps).ask("hi")
    assert outcome.stop_reason == "done" and outcome.text == "Hello!"
    assert len(api.requests) == 2 and len(sleeps.waits) == 1


async def test_connection_errors_are_retried_then_reported(session: Any, tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    tools = (await session.list_tools()).tools
    sleeps = Sleeps()
    client = anthropic.AsyncAnthropic(api_key="k", base_url=dead, max_retries=0)
    agent = Agent(client, session, tools, RecordingConsole(), retry=RetryPolicy(max_attempts=3, sleep=sleeps))
    outcome = await agent.ask("hi")
    await client.close()
    assert len(sleeps.waits) == 2
    assert "could not reach the Claude API" in outcome.stop_reason and "3 attempts" in outcome.stop_reason


async def test_yes_lets_destructive_tools_run(api: FakeMessagesAPI, agent_for: Any, calls: Calls) -> None:
    api.tool_calls(("cancel_pending_order", {"order_id": "#W1", "reason": "no longer needed"}))
    api.text("Cancelled.")
    await agent_for(destructive="allow").ask("Cancel #W1")
    assert calls.names == ["cancel_pending_order"]
    (result,) = tool_results(api.requests[1])
    assert result["content"] == "Order #W1 cancelled" and "is_error" not in result


async def test_a_reply_cut_off_at_max_tokens_says_so(api: FakeMessagesAPI, agent_for: Any) -> None:
    api.text("The order contains", stop_reason="max_tokens")
    outcome = await agent_for(max_output_tokens=64).ask("What is in my order?")
    assert outcome.text == "The order contains"
    assert outcome.stop_reason == "reply cut off at --max-output-tokens (64)"
    assert api.requests[0]["max_tokens"] == 64


class SlowToAnswer(RecordingConsole):
    """A person who takes `seconds` (on the fake clock) to answer each approval."""

    def __init__(self, clock: FakeClock, seconds: float, answer: bool) -> None:
        super().__init__(answer=answer)
        self.clock, self.seconds = clock, seconds

    async def confirm(self, question: str) -> bool:
        self.clock.now += self.seconds
        return await super().confirm(question)


async def test_approval_wait_is_not_counted_as_the_tools_run_time(
    api: FakeMessagesAPI, agent_for: Any, calls: Calls, tmp_path: Path
) -> None:
    api.tool_calls(("cancel_pending_order", {"order_id": "#W1", "reason": "no longer needed"}))
    api.text("Cancelled.")
    clock = FakeClock()
    console = SlowToAnswer(clock, 42.0, answer=True)

    await agent_for(destructive="ask", console=console, clock=clock).ask("Cancel #W1")

    assert calls.names == ["cancel_pending_order"]
    (record,) = trace(tmp_path)
    assert record["approval_wait_ms"] == 42_000.0
    assert record["duration_ms"] == 0.0  # the fake clock only moved while the person was answering
    assert console.timings == [(0.0, 42.0)]


async def test_time_spent_answering_an_approval_does_not_use_up_the_questions_time(
    api: FakeMessagesAPI, agent_for: Any, calls: Calls
) -> None:
    api.tool_calls(("cancel_pending_order", {"order_id": "#W1", "reason": "no longer needed"}))
    api.text("Cancelled.")
    clock = FakeClock()
    console = SlowToAnswer(clock, 500.0, answer=True)  # the person reads for longer than a question may take

    outcome = await agent_for(destructive="ask", console=console, clock=clock, max_seconds=100).ask("Cancel #W1")

    assert outcome.stop_reason == "done" and outcome.text == "Cancelled."
    assert calls.names == ["cancel_pending_order"]


async def test_a_declined_tool_records_the_wait_and_no_run_time(
    api: FakeMessagesAPI, agent_for: Any, calls: Calls, tmp_path: Path
) -> None:
    api.tool_calls(("cancel_pending_order", {"order_id": "#W1", "reason": "no longer needed"}))
    api.text("I did not cancel it.")
    clock = FakeClock()
    console = SlowToAnswer(clock, 7.5, answer=False)

    await agent_for(destructive="ask", console=console, clock=clock).ask("Cancel #W1")

    assert calls.names == []
    (record,) = trace(tmp_path)
    assert record["duration_ms"] is None and record["approval_wait_ms"] == 7_500.0
    assert console.timings == [(None, 7.5)]


async def test_a_photo_reaches_claude_as_an_image_and_what_cannot_is_named(
    api: FakeMessagesAPI, agent_for: Any, tmp_path: Path
) -> None:
    api.tool_calls(("get_product_photo", {"product_id": "42"}))
    api.text("It is a small, see-through square.")

    outcome = await agent_for().ask("What does product 42 look like?")

    assert outcome.stop_reason == "done"
    (result,) = tool_results(api.requests[1])
    caption, image, note = result["content"]
    assert caption == {"type": "text", "text": "Product 42:"}
    assert image == {"type": "image", "source": {"type": "base64", "data": PIXEL_PNG, "media_type": "image/png"}}
    assert note["type"] == "text" and "left out" in note["text"] and "audio" in note["text"]
    assert trace(tmp_path)[0]["result_chars"] == len(json.dumps(result["content"]))
