"""One τ² trial end to end: the demo's agent, a simulated customer, shopdesk over MCP.

One trial: a fresh copy of the τ² shop; `python -m shopdesk serve --db <copy> --confirm off` as a stdio MCP server;
the demo's `Agent` with the server's tools and its policy (shopdesk://policy) added to its system prompt; a
simulated customer (customer.py); the two talk (conversation.py) until the customer (or the agent) stops or a
bound ends the run; then the shop the run left is scored against the shop after the task's gold actions
(scoring.py). What a run's results depend on is `RunOptions`; what a trial records is `TrialResult`.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import anthropic
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.types import TextResourceContents

from shopdesk.shopdata.tau2 import import_into, read_text
from shopdesk.storage.sqlite import Database

from ..agent_options import Limits, Options
from ..loop import Agent
from ..pricing import SMALL_MODEL, Usage
from ..retry import RetryPolicy
from .conversation import (
    INFRASTRUCTURE_ERROR,
    SCORED_ENDINGS,
    Conversation,
    agent_texts,
    converse,
    find_fatal,
    tau2_steps,
)
from .customer import DEFAULT_MODEL as CUSTOMER_MODEL
from .customer import Customer
from .scoring import State, export_state, score
from .tasks import Task

POLICY_URI = "shopdesk://policy"


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


def describe_error(error: BaseException) -> str:
    """The errors inside an exception group (what anyio's task groups raise), else the error itself."""
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(describe_error(inner) for inner in error.exceptions)
    return f"{type(error).__name__}: {error}"


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
