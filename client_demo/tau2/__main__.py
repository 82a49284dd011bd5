"""shopdesk-tau2: run τ²-bench retail tasks with the demo's agent over MCP, a simulated customer, and τ²'s scoring.

shopdesk-tau2 --tasks test --trials 1 --budget 5 --out tau2-runs/haiku     # the test split, once each
shopdesk-tau2 --tasks 0-9 --trials 4 --out tau2-runs/haiku-4               # pass^1..4 on ten tasks

OUT/results.jsonl gets one line per finished trial; OUT/summary.json the totals; OUT/conversations/ each
trial's conversation. Run the same command again to resume: finished trials are skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import anthropic

from shopdesk import __version__

from ..pricing import SMALL_MODEL
from .customer import DEFAULT_MODEL as CUSTOMER_MODEL
from .report import summarize, table
from .runner import Runner, read_results
from .tasks import Task, TaskSelectionError, select
from .trial import RunOptions

PROG = "shopdesk-tau2"
DEFAULT_BUDGET = 5.0
RUN_FILE = "run.json"

NO_KEY = f"{PROG}: no Anthropic API key: set ANTHROPIC_API_KEY (ANTHROPIC_BASE_URL is honoured too, e.g. for a proxy)"


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line, no usage dump: what was wrong, and where to look."""
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _positive(kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    defaults = RunOptions()
    parser = Parser(
        prog=PROG,
        description="Run τ²-bench retail tasks: the demo's Claude agent on shopdesk over MCP, a Claude model as "
        "the customer, scored as τ² scores (pass^k).",
    )
    add = parser.add_argument
    add(
        "--tasks",
        default="test",
        help="task ids (5,9), ranges (0-9), a split (train, test, base) or all (default %(default)s)",
    )
    add("--trials", type=_positive(int), default=1, help="trials per task, for pass^k (default %(default)s)")
    add("--agent-model", default=SMALL_MODEL, help="the agent's model, or 'auto' (default %(default)s)")
    add("--customer-model", default=CUSTOMER_MODEL, help="the simulated customer's model (default %(default)s)")
    add("--concurrency", type=_positive(int), default=4, help="trials at once (default %(default)s)")
    add(
        "--budget",
        type=_positive(float),
        default=DEFAULT_BUDGET,
        help="USD for this invocation, agent and customer together; once spent no new trial starts, "
        "trials under way finish (default %(default)s)",
    )
    add("--out", type=Path, help="results folder; an existing one is resumed (default tau2-runs/<time>)")
    add(
        "--max-turns",
        type=_positive(int),
        default=defaults.max_turns,
        help="customer messages per conversation before it is cut off, scoring 0 (default %(default)s)",
    )
    add(
        "--agent-max-turns",
        type=_positive(int),
        default=defaults.agent_max_turns,
        help="agent model turns per customer message (the demo's --max-turns; default %(default)s)",
    )
    add(
        "--agent-max-cost",
        type=_positive(float),
        default=defaults.agent_max_cost_usd,
        help="USD the agent may spend on one conversation (default %(default)s)",
    )
    add("--all-tools", action="store_true", help="always pass every tool (no tool-group selection)")
    return parser.parse_args(argv)


def run_options(args: argparse.Namespace) -> RunOptions:
    return RunOptions(
        agent_model=args.agent_model,
        customer_model=args.customer_model,
        max_turns=args.max_turns,
        agent_max_turns=args.agent_max_turns,
        agent_max_cost_usd=args.agent_max_cost,
        select_tool_groups=not args.all_tools,
    )


def check_out(out: Path, options: dict[str, Any]) -> str | None:
    """None if OUT is new or holds a run with the same options; else why it cannot be resumed."""
    run_file = out / RUN_FILE
    if not run_file.exists():
        if (out / "results.jsonl").exists():
            return f"{out} holds results.jsonl but no {RUN_FILE}; use another --out"
        return None
    try:
        earlier = json.loads(run_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        return f"cannot read {run_file}: {error}"
    differ = sorted(k for k in options if earlier.get(k) != options[k])
    if differ:
        shown = ", ".join(f"{k} {earlier.get(k)!r} there, {options[k]!r} now" for k in differ)
        return f"{out} holds a run with other options ({shown}); use another --out to start a new run"
    return None


async def run(args: argparse.Namespace, tasks: list[Task], options: RunOptions, out: Path) -> int:
    client = anthropic.AsyncAnthropic(max_retries=0)  # retries are ours: see retry.py
    try:
        runner = Runner(
            tasks,
            args.trials,
            out,
            options=options,
            client=client,
            budget_usd=args.budget,
            concurrency=args.concurrency,
        )
        previous = len(read_results(runner.results_path))
        todo = len(runner.pending())
        print(
            f"{PROG}: {len(tasks)} task(s) x {args.trials} trial(s); {todo} to run"
            + (f" ({previous} already in {runner.results_path})" if previous else "")
            + f"; agent {options.agent_model}, customer {options.customer_model}; budget ${args.budget:.2f}",
            file=sys.stderr,
        )
        state = await runner.run()
    finally:
        await client.close()
    used = {
        **asdict(options),
        "tasks": args.tasks,
        "trials": args.trials,
        "budget_usd": args.budget,
        "concurrency": args.concurrency,
        "shopdesk_version": __version__,
    }
    summary = summarize(
        read_results(runner.results_path),
        tasks,
        args.trials,
        options=used,
        stopped=state.stopped,
        this_run=state.results,
    )
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(summary))
    print(f"results: {runner.results_path}; summary: {out / 'summary.json'}")
    # 0: every trial ran and ended in a score (pass or fail); 1: stopped early, or an API or server failed a trial.
    return 0 if summary["complete"] and not summary["overall"]["error_endings"] else 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        tasks = select(args.tasks)
    except TaskSelectionError as error:
        print(f"{PROG}: --tasks: {error}", file=sys.stderr)
        return 2
    if not os.environ.get("ANTHROPIC_API_KEY") and not os.environ.get("ANTHROPIC_AUTH_TOKEN"):
        print(NO_KEY, file=sys.stderr)
        return 2
    options = run_options(args)
    out: Path = args.out or Path("tau2-runs") / f"{datetime.now(UTC):%Y%m%dT%H%M%S}"
    if out.exists() and not out.is_dir():
        print(f"{PROG}: --out {out} is a file, not a folder", file=sys.stderr)
        return 2
    if problem := check_out(out, asdict(options)):
        print(f"{PROG}: {problem}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    (out / RUN_FILE).write_text(json.dumps(asdict(options), indent=2) + "\n", encoding="utf-8")
    try:
        return asyncio.run(run(args, tasks, options, out))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; trials under way were not recorded; run again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
