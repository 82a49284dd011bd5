"""Running τ² retail tasks end to end: the demo's agent, a simulated customer, shopdesk over MCP.

One trial: a fresh copy of the τ² shop; `python -m shopdesk serve --db <copy> --confirm off` as a stdio MCP server;
the demo's `Agent` with the server's tools and its policy (shopdesk://policy) added to its system prompt; a
simulated customer (customer.py); the two talk until the customer (or the agent) stops or a bound ends the run;
then the shop the run left is scored against the shop after the task's gold actions (scoring.py).

Many trials run concurrently under a semaphore. Each finished trial is appended to OUT/results.jsonl at once, so a
run that stops (budget, Ctrl-C, a crash) can be resumed: finished (task, trial) pairs are skipped. Once the budget
is spent no new trial starts; trials already under way finish and are recorded (so a run can overshoot the budget
by what the in-flight trials spend, at most `concurrency` conversations each bounded by the agent's
`Limits.max_cost_usd` plus its customer's share).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import anthropic
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.types import TextResourceContents

from shopdesk.shopdata.tau2 import import_into, read_text
from shopdesk.storage.sqlite import Database

from ..loop import Agent, Limits, Options
from ..pricing import SMALL_MODEL, Usage
from ..retry import RetryPolicy
from .customer import DEFAULT_MODEL as CUSTOMER_MODEL
from .customer import GREETING, Customer, CustomerError, stop_token
from .scoring import Replayer, State, expected_state, export_state, score
from .tasks import Task

POLICY_URI = "shopdesk://policy"
TRANSFER_TOOL = "transfer_to_human_agents"
TRANSFERRED_NOTE = "[The agent has transferred you to a human agent.]"
AGENT_STOP = "###STOP###"

# How a conversation ended. τ² scores only runs the customer or the agent ended; every other ending scores 0.
USER_STOP = "user_stop"  # the customer sent ###STOP###, ###TRANSFER### or ###OUT-OF-SCOPE###
AGENT_STOPPED = "agent_stop"  # the agent sent ###STOP### (ours is not told to; kept for τ² parity)
TRANSFERRED = "transferred"  # the agent transferred the customer, who then said no stop token: ended as a hand-off
MAX_TURNS = "max_turns"  # the customer had sent --max-turns messages
AGENT_LIMIT = "agent_limit"  # one of the agent's own Limits (turns per message, tokens, cost, time)
AGENT_ERROR = "agent_error"  # the Claude API failed the agent after retries
CUSTOMER_ERROR = "customer_error"  # the Claude API failed the customer after retries, or it said nothing
INFRASTRUCTURE_ERROR = "infrastructure_error"  # the MCP server could not be started or the connection broke
SCORED_ENDINGS = frozenset({USER_STOP, AGENT_STOPPED, TRANSFERRED})
ERROR_ENDINGS = frozenset({AGENT_ERROR, CUSTOMER_ERROR, INFRASTRUCTURE_ERROR})

# API answers that no retry or other trial can fix: the run stops instead of recording failures.
FATAL_STATUSES = {401: "the API key was refused", 403: "the API key may not do this", 404: "no such model"}


class FatalRunError(Exception):
    """Something every further trial would hit as well (a refused key, an unknown model): the run stops."""


@dataclass(frozen=True)
class RunOptions:
    """What a run's results depend on; a resumed run must use the same."""

    agent_model: str = SMALL_MODEL
    customer_model: str = CUSTOMER_MODEL
    max_turns: int = 30  # customer messages per conversation
    agent_max_turns: int = Limits.max_turns  # model turns per customer message
    agent_max_tokens: int = Limits.max_tokens  # per conversation
    agent_max_cost_usd: float = Limits.max_cost_usd  # per conversation
    agent_max_seconds: float = Limits.max_seconds  # per customer message
    max_output_tokens: int = Options.max_output_tokens
    select_tool_groups: bool = True

    def limits(self) -> Limits:
        return Limits(self.agent_max_turns, self.agent_max_tokens, self.agent_max_cost_usd, self.agent_max_seconds)

    def agent_options(self, policy: str) -> Options:
        return Options(
            model=self.agent_model,
            max_output_tokens=self.max_output_tokens,
            destructive="allow",  # the customer confirms in the conversation, as in τ²
            select_tool_groups=self.select_tool_groups,
            system_prompt=policy,
        )


@dataclass
class TrialResult:
    task_id: str
    trial: int
    passed: bool
    termination: str
    stop_token: str | None
    detail: str  # why a bound or an error ended the run; "" when the customer or agent ended it
    db_match: bool
    differences: list[str]
    communicated: dict[str, bool]
    checks: list[str]
    notes: list[str]
    agent: dict[str, Any]  # model, tokens, cost_usd
    customer: dict[str, Any]
    cost_usd: float
    turns: int  # agent model turns
    exchanges: int  # customer messages
    steps: int  # messages as τ² counts them (greeting, customer, agent, tool results)
    seconds: float

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialResult:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


def usage_record(model: str, usage: Usage) -> dict[str, Any]:
    return {
        "model": model,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "cost_usd": round(usage.cost_usd, 6),
    }


class Recorder:
    """A Console for a run with no one watching: it keeps what the agent did, and says yes if ever asked."""

    interactive = False

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def text(self, delta: str) -> None:  # the texts are read from the conversation instead
        pass

    def tool_started(self, name: str, arguments: dict[str, Any]) -> None:
        pass

    def tool_finished(
        self, name: str, seconds: float | None, ok: bool, detail: str, approval_wait: float | None = None
    ) -> None:
        self.events.append({"tool": name, "ok": ok, "seconds": seconds})

    def notice(self, message: str) -> None:
        self.events.append({"notice": message})

    async def confirm(self, question: str) -> bool:
        return True  # not reached with destructive="allow"; the customer's yes is in the conversation

    async def ask(self, question: str) -> str | None:
        return None


def server_parameters(db_path: Path) -> StdioServerParameters:
    """shopdesk on one trial's copy, over stdio, with confirmations off; no SHOPDESK_* setting of ours leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPDESK_")}
    # A trial's copy is thrown away afterwards: NORMAL syncs less, and only a power cut could lose a write.
    env.update(SHOPDESK_LOG_LEVEL="WARNING", SHOPDESK_SYNCHRONOUS="NORMAL")
    args = ["-m", "shopdesk", "serve", "--db", str(db_path), "--confirm", "off"]
    return StdioServerParameters(command=sys.executable, args=args, env=env)


async def build_template(path: Path) -> Path:
    """A shopdesk database of the bundled τ² shop at `path` (what `shopdesk import-tau2` makes)."""
    db = await Database.open(path)
    try:
        await import_into(db, read_text())
    finally:
        await db.close()
    return path


def agent_texts(messages: Sequence[dict[str, Any]]) -> list[str]:
    """The texts of the agent's messages: what the customer was told."""
    texts = []
    for message in messages:
        if message["role"] == "assistant":
            text = "".join(b["text"] for b in message["content"] if b.get("type") == "text").strip()
            if text:
                texts.append(text)
    return texts


def called(messages: Sequence[dict[str, Any]], tool: str) -> bool:
    """Whether the agent called `tool` in these messages and it succeeded."""
    ids = {
        block["id"]
        for m in messages
        if m["role"] == "assistant"
        for block in m["content"]
        if block.get("type") == "tool_use" and block.get("name") == tool
    }
    return any(
        block.get("type") == "tool_result" and block.get("tool_use_id") in ids and not block.get("is_error")
        for m in messages
        if m["role"] == "user" and isinstance(m["content"], list)
        for block in m["content"]
    )


def tau2_steps(messages: Sequence[dict[str, Any]], customer_messages: int) -> int:
    """Messages as τ²'s orchestrator counts steps: the greeting, each customer message, each agent message and
    each batch of tool results."""
    agent_side = sum(1 for m in messages if not (m["role"] == "user" and isinstance(m["content"], str)))
    return 1 + customer_messages + agent_side


def describe_error(error: BaseException) -> str:
    """The errors inside an exception group (what anyio's task groups raise), else the error itself."""
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(describe_error(inner) for inner in error.exceptions)
    return f"{type(error).__name__}: {error}"


def find_fatal(error: BaseException) -> FatalRunError | None:
    if isinstance(error, FatalRunError):
        return error
    if isinstance(error, BaseExceptionGroup):
        return next((found for inner in error.exceptions if (found := find_fatal(inner))), None)
    return None


def fatal_status(text: str) -> str | None:
    found = re.search(r"answered (\d{3})", text)
    if found and int(found.group(1)) in FATAL_STATUSES:
        return f"{FATAL_STATUSES[int(found.group(1))]}: {text}"
    return None


@dataclass
class Conversation:
    termination: str
    stop_token: str | None = None
    detail: str = ""
    exchanges: int = 0


async def converse(agent: Agent, customer: Customer, max_turns: int) -> Conversation:
    """The greeting, then customer and agent in turn until one of them stops or a bound ends it."""
    shown = GREETING
    transferred = False
    exchanges = 0
    while True:
        if exchanges >= max_turns:
            return Conversation(MAX_TURNS, detail=f"the customer sent {max_turns} messages", exchanges=exchanges)
        try:
            said = await customer.reply(shown)
        except CustomerError as error:
            if fatal := fatal_status(str(error)):
                raise FatalRunError(f"customer model {customer.model}: {fatal}") from error
            return Conversation(CUSTOMER_ERROR, detail=str(error), exchanges=exchanges)
        exchanges += 1
        if token := stop_token(said):
            return Conversation(USER_STOP, token, exchanges=exchanges)
        if transferred:
            return Conversation(TRANSFERRED, detail="the customer went on after the transfer", exchanges=exchanges)
        before = len(agent.conversation.messages)
        outcome = await agent.ask(said)
        new = agent.conversation.messages[before + 1 :]
        if outcome.stop_reason != "done":
            if outcome.stop_reason.startswith("API error"):
                if fatal := fatal_status(outcome.stop_reason):
                    raise FatalRunError(f"agent model {agent.options.model}: {fatal}")
                return Conversation(AGENT_ERROR, detail=outcome.stop_reason, exchanges=exchanges)
            return Conversation(AGENT_LIMIT, detail=outcome.stop_reason, exchanges=exchanges)
        shown = "\n\n".join(agent_texts(new))
        if AGENT_STOP in shown:
            return Conversation(AGENT_STOPPED, exchanges=exchanges)
        if called(new, TRANSFER_TOOL):
            transferred = True
            shown = f"{shown}\n\n{TRANSFERRED_NOTE}".strip()


async def read_policy(session: Client) -> str:
    result = await session.read_resource(POLICY_URI)
    return "\n".join(c.text for c in result.contents if isinstance(c, TextResourceContents))


async def run_trial(
    task: Task,
    trial: int,
    *,
    template: Path,
    expected: State,
    options: RunOptions,
    client: anthropic.AsyncAnthropic,
    live: dict[str, Usage] | None = None,
    transcript_dir: Path | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> TrialResult:
    """One conversation on a fresh copy of the shop, scored. `live` is given the agent's and the customer's
    running usage as they are made, so the caller can watch spending while the trial runs."""
    started = clock()
    customer = Customer(client, task, model=options.customer_model)
    agent: Agent | None = None
    with tempfile.TemporaryDirectory(prefix="shopdesk-tau2-trial-") as folder:
        db_path = Path(folder) / "shop.sqlite3"
        shutil.copyfile(template, db_path)
        if live is not None:
            live["customer"] = customer.usage
        try:
            async with Client(server_parameters(db_path)) as session:
                tools = (await session.list_tools()).tools
                policy = await read_policy(session)
                agent = Agent(
                    client,
                    session,
                    tools,
                    Recorder(),
                    options=options.agent_options(policy),
                    limits=options.limits(),
                    retry=RetryPolicy(),
                )
                if live is not None:
                    live["agent"] = agent.usage
                ending = await converse(agent, customer, options.max_turns)
        except Exception as error:  # the server would not start, or the connection broke mid-run
            if fatal := find_fatal(error):  # raised inside the connection's task group: unwrapped
                raise fatal from error
            ending = Conversation(INFRASTRUCTURE_ERROR, detail=describe_error(error))
        final = await export_state(db_path)
    messages = agent.conversation.messages if agent else []
    result = score(task, final, agent_texts(messages), expected=expected)
    agent_usage = agent.usage if agent else Usage()
    if transcript_dir is not None:
        write_transcript(transcript_dir / f"task{task.id}-trial{trial}.json", customer, messages)
    return TrialResult(
        task_id=task.id,
        trial=trial,
        passed=result.passed and ending.termination in SCORED_ENDINGS,
        termination=ending.termination,
        stop_token=ending.stop_token,
        detail=ending.detail,
        db_match=result.db_match,
        differences=list(result.differences),
        communicated=result.communicated,
        checks=list(result.checks),
        notes=list(result.notes),
        agent=usage_record(options.agent_model, agent_usage),
        customer=usage_record(options.customer_model, customer.usage),
        cost_usd=round(agent_usage.cost_usd + customer.usage.cost_usd, 6),
        turns=agent.turns if agent else 0,
        exchanges=ending.exchanges,
        steps=tau2_steps(messages, ending.exchanges),
        seconds=round(clock() - started, 2),
    )


def write_transcript(path: Path, customer: Customer, agent_messages: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"customer_view": customer.messages, "agent_view": agent_messages}
    path.write_text(json.dumps(record, ensure_ascii=False, indent=1, default=str), encoding="utf-8")


# -- many trials ---------------------------------------------------------------------------------------------


@dataclass
class RunState:
    results: list[TrialResult] = field(default_factory=list)  # this invocation's
    stopped: str | None = None  # "budget", or why the run stopped early
    spent_usd: float = 0.0  # by this invocation's finished trials


def read_results(path: Path) -> list[TrialResult]:
    """The trials already in results.jsonl; a torn last line (a run killed mid-write) is ignored."""
    if not path.exists():
        return []
    results = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            results.append(TrialResult.from_dict(json.loads(line)))
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
    return results


class Runner:
    def __init__(
        self,
        tasks: Sequence[Task],
        trials: int,
        out: Path,
        *,
        options: RunOptions,
        client: anthropic.AsyncAnthropic,
        budget_usd: float,
        concurrency: int,
        progress: TextIO | None = None,
    ) -> None:
        self.tasks, self.trials, self.out = list(tasks), trials, out
        self.options, self.client = options, client
        self.budget_usd, self.concurrency = budget_usd, concurrency
        self.progress = progress or sys.stderr
        self.results_path = out / "results.jsonl"
        self.state = RunState()
        self._live: dict[tuple[str, int], dict[str, Usage]] = {}
        self._expected: dict[str, State] = {}
        self._replaying = asyncio.Lock()

    def pending(self) -> list[tuple[Task, int]]:
        """The (task, trial) pairs not yet in results.jsonl: trial by trial, so a stopped run has covered as many
        tasks as it could."""
        done = {(r.task_id, r.trial) for r in read_results(self.results_path)}
        return [(t, n) for n in range(self.trials) for t in self.tasks if (t.id, n) not in done]

    def spent(self) -> float:
        """This invocation's spending: finished trials, and what those under way have spent so far."""
        running = sum(u.cost_usd for live in self._live.values() for u in live.values())
        return self.state.spent_usd + running

    async def run(self) -> RunState:
        self.out.mkdir(parents=True, exist_ok=True)
        todo = self.pending()
        total = len(todo)
        gate = asyncio.Semaphore(self.concurrency)
        with tempfile.TemporaryDirectory(prefix="shopdesk-tau2-") as folder:
            template = await build_template(Path(folder) / "template.sqlite3")
            with Replayer(template) as replayer:

                async def one(task: Task, trial: int) -> None:
                    async with gate:
                        if self.state.stopped:
                            return
                        if self.spent() >= self.budget_usd:
                            self.state.stopped = "budget"
                            self._say(f"budget spent (${self.spent():.4f} of ${self.budget_usd:.2f}): no new trials")
                            return
                        expected = await self._expected_for(task, template, replayer)
                        key = (task.id, trial)
                        self._live[key] = {}
                        try:
                            result = await run_trial(
                                task,
                                trial,
                                template=template,
                                expected=expected,
                                options=self.options,
                                client=self.client,
                                live=self._live[key],
                                transcript_dir=self.out / "conversations",
                            )
                        except FatalRunError as error:
                            if not self.state.stopped or self.state.stopped == "budget":
                                self.state.stopped = str(error)
                                self._say(f"stopping: {error}")
                            return
                        finally:
                            self._live.pop(key, None)
                        self._record(result, total)

                await asyncio.gather(*(one(task, trial) for task, trial in todo))
        return self.state

    async def _expected_for(self, task: Task, template: Path, replayer: Replayer) -> State:
        async with self._replaying:  # one replay at a time on the one replayer; each task's once
            if task.id not in self._expected:
                self._expected[task.id] = await expected_state(task, template, replayer=replayer)
            return self._expected[task.id]

    def _record(self, result: TrialResult, total: int) -> None:
        torn = self.results_path.exists() and not self.results_path.read_bytes().endswith(b"\n")
        with self.results_path.open("a", encoding="utf-8") as file:
            # A line cut short by a killed run is left on a line of its own (read_results skips it).
            file.write(("\n" if torn and self.results_path.stat().st_size else "") + result.to_json() + "\n")
        self.state.results.append(result)
        self.state.spent_usd += result.cost_usd
        verdict = "PASS" if result.passed else "FAIL"
        ending = result.termination + (f" {result.stop_token}" if result.stop_token else "")
        self._say(
            f"[{len(self.state.results)}/{total}] task {result.task_id} trial {result.trial}: {verdict} ({ending}); "
            f"{result.turns} agent turns, {result.exchanges} customer messages, ${result.cost_usd:.4f}, "
            f"{result.seconds:.1f} s; spent ${self.state.spent_usd:.4f} of ${self.budget_usd:.2f}"
        )

    def _say(self, line: str) -> None:
        self.progress.write(line + "\n")
        self.progress.flush()
