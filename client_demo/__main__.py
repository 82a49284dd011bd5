"""shopdesk-demo: ask a Claude agent to work a shopdesk server.

shopdesk-demo "Where is the order of noah.brown7922@example.com?"   # one question, then exit
shopdesk-demo                                                        # a conversation, line by line
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anthropic
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.types import ElicitRequestFormParams, ElicitResult

from .agent_options import Limits, Options
from .console import Person, Terminal
from .loop import Agent
from .pricing import SMALL_MODEL
from .retry import RetryPolicy
from .server_retry import RetryAfterTransport, streamable_http
from .trace import Tracer

NO_KEY = """\
shopdesk-demo needs an Anthropic API key. Create one at https://console.anthropic.com/ and set it:

    export ANTHROPIC_API_KEY=sk-ant-...

(ANTHROPIC_BASE_URL is honoured too, e.g. for a proxy.)"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="shopdesk-demo", description="A Claude agent working a shopdesk server.")
    parser.add_argument("question", nargs="?", help="ask one question and exit; without it, talk turn by turn")
    parser.add_argument(
        "--url",
        help="a running shopdesk over Streamable HTTP, e.g. http://127.0.0.1:8000/mcp (default: launch one over stdio)",
    )
    parser.add_argument("--db", help="database for the launched server (default: the server's own default)")
    parser.add_argument("--model", default=SMALL_MODEL, help=f"Claude model, or 'auto' (default {SMALL_MODEL})")
    parser.add_argument(
        "--yes",
        action="store_true",
        help="one-shot mode: allow tools that change data, and answer the server's yes-or-no confirmations yes",
    )
    # Turns and wall time bound each question; tokens and cost, the whole conversation (see Limits).
    parser.add_argument(
        "--max-turns", type=int, default=Limits.max_turns, help="model turns per question (default %(default)s)"
    )
    parser.add_argument(
        "--max-tokens",
        type=int,
        default=Limits.max_tokens,
        help="tokens for the whole conversation, all questions together (default %(default)s)",
    )
    parser.add_argument(
        "--max-cost",
        type=float,
        default=Limits.max_cost_usd,
        help="USD for the whole conversation, all questions together (default %(default)s)",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=Limits.max_seconds,
        help="wall time per question, from the question to the answer (default %(default)s)",
    )
    parser.add_argument("--max-output-tokens", type=int, default=Options.max_output_tokens, help="tokens per reply")
    parser.add_argument("--tool-timeout", type=float, default=Options.tool_timeout, help="seconds per tool call")
    parser.add_argument("--all-tools", action="store_true", help="always pass every tool (no tool-group selection)")
    parser.add_argument("--trace", type=Path, help="JSONL trace file (default traces/<time>.jsonl)")
    return parser.parse_args(argv)


def server_target(args: argparse.Namespace, notice: Callable[[str], None] = lambda text: None) -> Any:
    """The server to connect to: a URL over Streamable HTTP (with the bearer token in SHOPDESK_TOKEN, if set;
    waiting when the server says 429 or 503 with Retry-After), else shopdesk launched over stdio."""
    if args.url:
        transport = RetryAfterTransport(
            on_wait=lambda status, seconds: notice(
                f"the shopdesk server answered {status}; trying again in {seconds:g} s"
            )
        )
        token = os.environ.get("SHOPDESK_TOKEN")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return streamable_http(str(args.url), transport, headers)
    server_args = ["-m", "shopdesk", "serve"] + (["--db", args.db] if args.db else [])
    # The server's log lines share this terminal: keep them to warnings unless asked otherwise.
    env = {"SHOPDESK_LOG_LEVEL": "WARNING", **os.environ}
    return StdioServerParameters(command=sys.executable, args=server_args, env=env)


def elicitation_handler(console: Person, assume_yes: bool = False) -> Any:
    """When the server asks the person something (MCP elicitation), ask them; without a person, decline.

    With `--yes` a yes-or-no question (every field a boolean, as shopdesk's confirmations are) is answered
    yes without asking: the person said yes to every change in advance. Anything else is still asked."""

    async def handle(context: Any, params: Any) -> ElicitResult:
        if not isinstance(params, ElicitRequestFormParams):
            return ElicitResult(action="decline")
        fields = params.requested_schema.get("properties") or {}
        if assume_yes and fields and all(f.get("type") == "boolean" for f in fields.values()):
            console.notice(f"--yes: accepted: {params.message}")
            return ElicitResult(action="accept", content={name: True for name in fields})
        if not console.interactive:
            return ElicitResult(action="decline")
        console.notice(f"the server asks: {params.message}")
        answers: dict[str, Any] = {}
        for name, schema in (params.requested_schema.get("properties") or {}).items():
            answer = await console.ask(f"{schema.get('title') or name}:")
            if answer is None:
                return ElicitResult(action="cancel")
            answers[name] = (
                answer.strip().lower() in ("y", "yes", "true") if schema.get("type") == "boolean" else answer
            )
        return ElicitResult(action="accept", content=answers)

    return handle


async def run(args: argparse.Namespace) -> int:
    one_shot = args.question is not None
    # In a conversation stdin is the person; in one-shot mode only a terminal is.
    console = Terminal(interactive=None if one_shot else True)
    options = Options(
        model=args.model,
        max_output_tokens=args.max_output_tokens,
        tool_timeout=args.tool_timeout,
        destructive=("allow" if args.yes else "refuse") if one_shot else "ask",
        select_tool_groups=not args.all_tools,
    )
    limits = Limits(args.max_turns, args.max_tokens, args.max_cost, args.max_seconds)
    trace_path = args.trace or Path("traces") / f"{datetime.now(UTC):%Y%m%dT%H%M%S}.jsonl"
    tracer = Tracer(trace_path)
    client = anthropic.AsyncAnthropic(max_retries=0)  # retries are ours: see retry.py
    try:
        async with Client(
            server_target(args, console.notice), elicitation_callback=elicitation_handler(console, args.yes)
        ) as session:
            tools = (await session.list_tools()).tools
            agent = Agent(
                client, session, tools, console, options=options, limits=limits, tracer=tracer, retry=RetryPolicy()
            )
            if one_shot:
                outcome = await agent.ask(args.question)
                console.text("\n")
                ok = outcome.stop_reason == "done"
            else:
                ok = True
                while question := await console.ask("you>"):
                    outcome = await agent.ask(question)
                    console.text("\n")
                    ok = outcome.stop_reason == "done"
                    if spent := agent.conversation_bound():  # no further question could be answered
                        console.notice(f"conversation ended: {spent}")
                        ok = False
                        break
            console.notice(f"{agent.turns} turns; {agent.usage.summary()}; trace: {trace_path}")
            return 0 if ok else 1
    finally:
        tracer.close()
        await client.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not os.environ.get("ANTHROPIC_API_KEY") and not os.environ.get("ANTHROPIC_AUTH_TOKEN"):
        print(NO_KEY, file=sys.stderr)
        return 2
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 130
    except OSError as error:
        print(f"shopdesk-demo: cannot reach the shopdesk server: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
