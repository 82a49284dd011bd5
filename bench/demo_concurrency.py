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
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# This checkout's client_demo, and the tests' fake Messages API (tests/demo_support), as the tests import it.
for _path in (ROOT / "tests", ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import anthropic  # noqa: E402
from demo_concurrency_report import print_table, summarise  # noqa: E402
from demo_concurrency_ways import MODES, TOOL, Bench  # noqa: E402
from demo_support.fake_anthropic import FakeMessagesAPI  # noqa: E402
from mcp import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters  # noqa: E402

SERVER = ROOT / "bench" / "slow_tools_server.py"
DEFAULT_CASES = ("50,100,150,200,250", "10x100")
DEFAULT_JSON = ROOT / "bench" / "results" / "demo_concurrency.json"


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
