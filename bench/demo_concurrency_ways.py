"""The three ways bench/demo_concurrency.py runs a case (the demo's agent loop, direct calls one at a time,
direct calls gathered) on one stdio session, and what each round of them records."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# This checkout's client_demo, and the tests' fake Messages API (tests/demo_support), as the tests import it.
for _path in (ROOT / "tests", ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import anthropic  # noqa: E402
from demo_support.fake_anthropic import FakeMessagesAPI  # noqa: E402
from mcp import Client  # noqa: E402
from mcp.types import CallToolResult, TextContent, Tool  # noqa: E402

from shopdesk_demo.agent_options import Options  # noqa: E402
from shopdesk_demo.loop import Agent  # noqa: E402

TOOL = "wait_ms"
MODES = ("agent loop", "direct, one at a time", "direct, gathered")


def arguments(delays: list[int]) -> list[dict[str, Any]]:
    return [{"ms": ms, "label": f"call {i} ({ms} ms)"} for i, ms in enumerate(delays)]


def text_of(result: CallToolResult) -> str:
    return "".join(block.text for block in result.content if isinstance(block, TextContent))


class TimingConsole:
    """The loop's Console, keeping when its tool calls started and finished (and nothing it prints)."""

    def __init__(self) -> None:
        self.started: list[float] = []
        self.finished: list[float] = []
        self.call_seconds: list[float] = []  # each call's own run time, as the loop measured it
        self.failed: list[str] = []
        self.notices: list[str] = []

    def text(self, delta: str) -> None:
        pass

    def tool_started(self, name: str, arguments: dict[str, Any]) -> None:
        self.started.append(time.perf_counter())

    def tool_finished(
        self, name: str, seconds: float | None, ok: bool, detail: str, approval_wait: float | None = None
    ) -> None:
        self.finished.append(time.perf_counter())
        if seconds is not None:
            self.call_seconds.append(seconds)
        if not ok:
            self.failed.append(f"{name}: {detail}")

    def notice(self, message: str) -> None:
        self.notices.append(message)

    async def confirm(self, question: str) -> bool:
        return False  # the tool is read-only: never asked

    async def ask(self, question: str) -> str | None:
        return None


@dataclass
class Sample:
    """One round of one case in one way."""

    seconds: float  # the timed span (see the docstring of bench/demo_concurrency.py)
    call_seconds: list[float]  # each call's own time
    results: int  # tool results that came back (to Claude, for the agent loop) without error
    server_calls: int  # wait_ms calls the tool server saw
    server_peak_in_flight: int
    ask_seconds: float | None = None  # agent loop: the whole ask(), the fake API's two replies included


@dataclass
class Bench:
    api: FakeMessagesAPI
    client: anthropic.AsyncAnthropic
    session: Client
    tools: list[Tool]
    samples: dict[tuple[str, str], list[Sample]] = field(default_factory=dict)

    async def server_log(self) -> dict[str, Any]:
        log: dict[str, Any] = json.loads(text_of(await self.session.call_tool("calls_seen", {})))
        return log

    async def agent_loop(self, delays: list[int]) -> Sample:
        calls = arguments(delays)
        self.api.tool_calls(*((TOOL, call) for call in calls))
        self.api.text("All calls answered.")
        first_request = len(self.api.requests)
        console = TimingConsole()
        # A fresh conversation each round, no trace file; the tool is read-only, so no approval is involved.
        agent = Agent(self.client, self.session, self.tools, console, options=Options(destructive="refuse"))
        start = time.perf_counter()
        outcome = await agent.ask("Run the waits.")
        ask_seconds = time.perf_counter() - start
        if outcome.stop_reason != "done" or console.failed or console.notices:
            raise RuntimeError(f"the agent loop did not finish cleanly: {outcome}, {console.failed}, {console.notices}")
        # What went back to Claude: the second request's tool results, one per call, in order.
        sent = [
            b for b in self.api.requests[first_request + 1]["messages"][-1]["content"] if b["type"] == "tool_result"
        ]
        ok = sum(
            1 for b, call in zip(sent, calls, strict=False) if not b.get("is_error") and b["content"] == call["label"]
        )
        log = await self.server_log()
        return Sample(
            max(console.finished) - min(console.started),
            console.call_seconds,
            ok,
            len(log["calls"]),
            log["peak_in_flight"],
            ask_seconds,
        )

    async def _timed_call(self, call: dict[str, Any]) -> tuple[float, bool]:
        start = time.perf_counter()
        result = await self.session.call_tool(TOOL, call)
        return time.perf_counter() - start, not result.is_error and text_of(result) == call["label"]

    async def direct_one_at_a_time(self, delays: list[int]) -> Sample:
        start = time.perf_counter()
        runs = [await self._timed_call(call) for call in arguments(delays)]
        seconds = time.perf_counter() - start
        return await self._direct_sample(seconds, runs)

    async def direct_gathered(self, delays: list[int]) -> Sample:
        start = time.perf_counter()
        runs = await asyncio.gather(*(self._timed_call(call) for call in arguments(delays)))
        seconds = time.perf_counter() - start
        return await self._direct_sample(seconds, runs)

    async def _direct_sample(self, seconds: float, runs: list[tuple[float, bool]]) -> Sample:
        log = await self.server_log()
        return Sample(
            seconds, [s for s, _ in runs], sum(ok for _, ok in runs), len(log["calls"]), log["peak_in_flight"]
        )

    def ways(self) -> dict[str, Callable[[list[int]], Awaitable[Sample]]]:
        return {
            "agent loop": self.agent_loop,
            "direct, one at a time": self.direct_one_at_a_time,
            "direct, gathered": self.direct_gathered,
        }
