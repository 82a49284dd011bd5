"""The demo client's parallel tool calls: does a turn of N calls take as long as the slowest call, or the sum?

    .venv/bin/python bench/demo_concurrency.py                         # defaults: about 15 s
    .venv/bin/python bench/demo_concurrency.py --rounds 9 --case 20x50 # more rounds, an extra case
    .venv/bin/python bench/demo_concurrency.py --case 1,2,3 --rounds 1 --warmup 0   # a smoke run (the test's)

Claude is the fake Messages API the tests use (tests/demo_support/fake_anthropic.py, the real JSON and SSE
wire format, on 127.0.0.1): its first reply asks for N `wait_ms` calls in one turn, its second is a text
answer. The demo client's real agent loop (shopdesk_demo.loop.Agent, with the real Anthropic SDK client
pointed at the fake's base_url) runs them on a real MCP connection over stdio to bench/slow_tools_server.py,
whose tool waits the given milliseconds (asyncio.sleep).

A case is a list of delays in ms, `50,100,150,200,250`, or N equal ones, `10x100`. Each case runs in three
ways, interleaved in every round so machine noise hits all alike, on the same stdio session:

- agent loop: `Agent.ask`, which runs the turn's calls with asyncio.gather. What is timed is the tool phase
  of the turn, as the loop itself reports it to its console: from the first `tool_started` to the last
  `tool_finished`. The fake API's two replies are outside it; the whole `ask()` is reported beside it.
- direct, one at a time: the same calls through `Client.call_tool`, each awaited before the next: the
  contrast, what the turn would cost if the calls ran in sequence.
- direct, gathered: the same calls through `Client.call_tool` under one asyncio.gather, without the loop:
  the floor, so agent loop minus this is what the loop adds.

Reported per case and way: the slowest single call and the sum of the calls (the configured delays), the
median measured time over the rounds, and the ratios measured/slowest and measured/sum (concurrent: near 1
and near 1/N's share; sequential: near sum/slowest and 1). The tool server counts the calls it saw and the
most it had in flight at once, which shows the overlap without any client-side timing. Warm-up rounds are
run and dropped. It prints a table and writes JSON (--json). Timings depend on the machine: compare ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.metadata import version
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
from mcp.client.stdio import StdioServerParameters  # noqa: E402
from mcp.types import CallToolResult, TextContent, Tool  # noqa: E402

from shopdesk_demo.agent_options import Options  # noqa: E402
from shopdesk_demo.loop import Agent  # noqa: E402

SERVER = ROOT / "bench" / "slow_tools_server.py"
TOOL = "wait_ms"
DEFAULT_CASES = ("50,100,150,200,250", "10x100")
DEFAULT_JSON = ROOT / "bench" / "results" / "demo_concurrency.json"
MODES = ("agent loop", "direct, one at a time", "direct, gathered")


def parse_case(spec: str) -> list[int]:
    """`50,100,150` -> [50, 100, 150]; `10x100` -> ten times 100."""
    if "x" in spec:
        count, ms = spec.split("x", 1)
        delays = [int(ms)] * int(count)
    else:
        delays = [int(ms) for ms in spec.split(",") if ms.strip()]
    if not delays or any(ms < 0 for ms in delays):
        raise argparse.ArgumentTypeError(f"not a case: {spec!r} (e.g. 50,100,150 or 10x100)")
    return delays


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

    seconds: float  # the timed span (see the module docstring)
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


def median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 1)


def summarise(cases: dict[str, list[int]], bench: Bench) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for name, delays in cases.items():
        slowest, total = max(delays), sum(delays)
        ways: dict[str, Any] = {}
        for way in MODES:
            samples = bench.samples[(name, way)]
            measured = median_ms([s.seconds for s in samples])
            figures: dict[str, Any] = {
                "measured_ms": measured,
                "rounds_ms": [round(s.seconds * 1000, 1) for s in samples],
                "measured_over_slowest": round(measured / slowest, 3) if slowest else None,
                "measured_over_sum": round(measured / total, 3) if total else None,
                "call_ms_sum": median_ms([sum(s.call_seconds) for s in samples]),  # the calls' own times, added
                "call_ms_max": median_ms([max(s.call_seconds) for s in samples]),
                "results_ok": [s.results for s in samples],
                "server_calls_seen": [s.server_calls for s in samples],
                "server_peak_in_flight": [s.server_peak_in_flight for s in samples],
            }
            asks = [s.ask_seconds for s in samples if s.ask_seconds is not None]
            if asks:
                figures["ask_ms"] = median_ms(asks)
            ways[way] = figures
        loop, floor = ways["agent loop"]["measured_ms"], ways["direct, gathered"]["measured_ms"]
        report[name] = {
            "calls": len(delays),
            "delays_ms": delays,
            "slowest_ms": slowest,
            "sum_ms": total,
            "ways": ways,
            "loop_overhead_ms": round(loop - floor, 1),
        }
    return report


def print_table(report: dict[str, Any], rounds: int) -> None:
    header = (
        f"{'case':<20} {'way':<22} {'calls':>5} {'slowest':>8} {'sum':>7} {'measured':>9} "
        f"{'/slowest':>9} {'/sum':>6} {'peak':>5}"
    )
    print(f"medians of {rounds} round(s), ms; peak: most calls in flight at once in the tool server")
    print(header)
    print("-" * len(header))
    for name, case in report.items():
        for way, figures in case["ways"].items():
            print(
                f"{name:<20} {way:<22} {case['calls']:>5} {case['slowest_ms']:>8} {case['sum_ms']:>7} "
                f"{figures['measured_ms']:>9.1f} {figures['measured_over_slowest'] or 0:>9.2f} "
                f"{figures['measured_over_sum'] or 0:>6.2f} {max(figures['server_peak_in_flight']):>5}"
            )
    print()
    for name, case in report.items():
        loop = case["ways"]["agent loop"]
        print(
            f"{name}: agent loop's whole ask() {loop['ask_ms']:.1f} ms, of which the tool phase "
            f"{loop['measured_ms']:.1f} ms (the rest: two fake API replies and the loop); loop over a bare gather: "
            f"{case['loop_overhead_ms']:+.1f} ms"
        )


async def run(cases: dict[str, list[int]], rounds: int, warmup: int) -> dict[str, Any]:
    api = FakeMessagesAPI().start()
    client = anthropic.AsyncAnthropic(api_key="bench-key", base_url=api.url, max_retries=0)
    server = StdioServerParameters(command=sys.executable, args=[str(SERVER)], env=dict(os.environ))
    started = time.perf_counter()
    try:
        async with Client(server) as session:
            listed = (await session.list_tools()).tools
            bench = Bench(api, client, session, [tool for tool in listed if tool.name == TOOL])
            await bench.server_log()  # start from an empty log
            ways = bench.ways()
            for round_number in range(warmup + rounds):
                for name, delays in cases.items():
                    # The order of the ways turns each round, so none always runs first.
                    order = MODES[round_number % len(MODES) :] + MODES[: round_number % len(MODES)]
                    for way in order:
                        sample = await ways[way](delays)
                        if round_number >= warmup:
                            bench.samples.setdefault((name, way), []).append(sample)
    finally:
        await client.close()
        api.stop()
    return {
        "benchmark": "demo_concurrency",
        "measures": {
            "agent loop": "tool phase of the turn: the loop's first tool_started to its last tool_finished",
            "direct, one at a time": "Client.call_tool for each call in turn, first call sent to last answer",
            "direct, gathered": "Client.call_tool for every call under one asyncio.gather",
            "slowest_ms, sum_ms": "the configured delays",
        },
        "settings": {"rounds": rounds, "warmup": warmup, "cases": {name: delays for name, delays in cases.items()}},
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "mcp": version("mcp"),
            "anthropic": version("anthropic"),
        },
        "total_seconds": round(time.perf_counter() - started, 2),
        "cases": summarise(cases, bench),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--case",
        action="append",
        metavar="DELAYS",
        help=f"delays in ms, e.g. 50,100,150 or 10x100 (repeatable; default {' and '.join(DEFAULT_CASES)})",
    )
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=1, help="rounds run first and dropped (default %(default)s)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="results file (default %(default)s)")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.warmup < 0:
        parser.error("--rounds must be at least 1 and --warmup at least 0")
    specs = args.case or list(DEFAULT_CASES)
    try:
        cases = {spec: parse_case(spec) for spec in specs}
    except (ValueError, argparse.ArgumentTypeError) as error:
        parser.error(str(error))
    report = asyncio.run(run(cases, args.rounds, args.warmup))
    print_table(report["cases"], args.rounds)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{report['total_seconds']:.1f} s in all; results: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
