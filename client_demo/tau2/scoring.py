"""Scoring a τ²-bench retail run the way τ² does, offline.

τ² (src/tau2/evaluator/) rewards a run with the product of the checks its task's `reward_basis` names:
- DB: the task's gold actions are replayed on a fresh copy of the shop, and the database the agent left must be
  identical (τ² hashes the whole domain database: users, orders, products).
- COMMUNICATE: every `communicate_info` string occurs in some message of the agent to the customer, compared
  lower-cased with commas taken out of the message.
- NL_ASSERTION: an LLM judges the conversation against statements. We cannot judge that offline. The shipped tasks
  (τ²'s later versions) name NL_ASSERTION where τ²'s first release used COMMUNICATE, and their assertions restate
  the `communicate_info` strings, so by default the string check stands in for them (`communicate_for_nl`).

Here the replay goes through MCP: an in-process shopdesk server on a copy of the shop, with confirmations off.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp import Client

from shopdesk.app import build_server
from shopdesk.settings import Settings
from shopdesk.shopdata.tau2 import export
from shopdesk.storage.sqlite import Database

from .tasks import Action, Task

State = dict[str, Any]
MAX_DIFFERENCES = 20


@dataclass(frozen=True)
class CallOutcome:
    """One replayed tool call and whether the server carried it out."""

    name: str
    arguments: dict[str, Any]
    ok: bool
    error: str | None = None


def _settings(db_path: Path) -> Settings:
    # Every field that could come from the environment is pinned: a replay must not depend on SHOPDESK_*.
    return Settings(
        db_path=db_path,
        confirm="off",
        read_only=False,
        customer=None,
        auth_file=None,
        toolsets=None,
        tools=(),
        log_level="WARNING",
    )


class Replayer:
    """Replays tool calls on fresh copies of one shop through one in-process shopdesk server.

    Building a server costs more than a replay, so one is built and reused: its shop opens the database when a
    connection starts and closes it when the last one ends (server/shop.py), so between connections the working
    file is replaced by a new copy of the template. Replays on one Replayer run one at a time.
    """

    def __init__(self, template_db_path: Path) -> None:
        wal = template_db_path.with_name(template_db_path.name + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise ValueError(f"{template_db_path} is still open elsewhere (it has a {wal.name}); close it first")
        if not template_db_path.is_file():
            raise FileNotFoundError(f"no shop database at {template_db_path}")
        self.template = template_db_path
        self._folder = tempfile.TemporaryDirectory(prefix="shopdesk-tau2-")
        self._path = Path(self._folder.name) / "shop.sqlite3"
        self._server = build_server(_settings(self._path))
        self._busy = False

    async def replay(self, actions: Iterable[Action]) -> tuple[State, list[CallOutcome]]:
        """Call each action's tool through MCP on a fresh copy of the shop; return the τ²-format shop after them
        and what became of each call. A refused call is recorded, not raised: gold sequences hold reads and calls
        a policy may turn down."""
        if self._busy:
            raise RuntimeError("this Replayer is already replaying; use one per concurrent replay")
        self._busy = True
        try:
            for leftover in (self._path, *(self._path.with_name(self._path.name + s) for s in ("-wal", "-shm"))):
                leftover.unlink(missing_ok=True)
            shutil.copyfile(self.template, self._path)
            outcomes: list[CallOutcome] = []
            async with Client(self._server) as client:
                for action in actions:
                    result = await client.call_tool(action.name, action.arguments)
                    error = None
                    if result.is_error:
                        error = " ".join(getattr(b, "text", "") for b in result.content).strip() or "error"
                    outcomes.append(CallOutcome(action.name, action.arguments, not result.is_error, error))
            return await export_state(self._path), outcomes
        finally:
            self._busy = False

    def close(self) -> None:
        self._folder.cleanup()

    def __enter__(self) -> Replayer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


async def export_state(db_path: Path) -> State:
    """The τ²-format shop (users, orders, products) in the shopdesk database at `db_path`: what τ² compares."""
    db = await Database.open(db_path, create=False)
    try:
        return await export(db)
    finally:
        await db.close()


async def expected_state(task: Task, template_db_path: Path, *, replayer: Replayer | None = None) -> State:
    """The τ²-format shop after the task's gold actions, replayed on a fresh copy of the shop at
    `template_db_path`: what a run of the task is compared with. Pass a `replayer` (for the same template)
    to reuse its server across tasks."""
    if replayer is None:
        with Replayer(template_db_path) as own:
            state, _ = await own.replay(task.evaluation_criteria.actions)
            return state
    if replayer.template != template_db_path:
        raise ValueError(f"the replayer copies {replayer.template}, not {template_db_path}")
    state, _ = await replayer.replay(task.evaluation_criteria.actions)
    return state


@dataclass(frozen=True)
class TaskScore:
    task_id: str
    reward_basis: tuple[str, ...]
    db_match: bool
    # What differs between the shop the run left and the expected one ("orders['#W1'].status: ..."), at most
    # MAX_DIFFERENCES lines; empty when db_match.
    differences: tuple[str, ...]
    communicated: dict[str, bool]
    nl_assertions: tuple[str, ...]
    # Always False: NL assertions need an LLM judge, which this scorer does not run.
    nl_assertions_evaluated: bool
    # The checks `passed` rests on, e.g. ("DB", "COMMUNICATE"); and the basis entries it could not evaluate.
    checks: tuple[str, ...]
    not_evaluated: tuple[str, ...]
    passed: bool
    notes: tuple[str, ...] = field(default=())

    @property
    def communicate_ok(self) -> bool:
        return all(self.communicated.values())


def communicated(info: Sequence[str], agent_messages: Sequence[str]) -> dict[str, bool]:
    """For each string, whether some agent message contains it: τ²'s check, lower-cased, commas out of the message."""
    said = [m.lower().replace(",", "") for m in agent_messages]
    return {s: any(s.lower() in m for m in said) for s in info}


def canonical(state: Mapping[str, Any]) -> str:
    """The text τ² hashes to compare databases: JSON with sorted keys."""
    return json.dumps(state, sort_keys=True, default=str)


def score(
    task: Task,
    final_state: Mapping[str, Any],
    agent_messages: Sequence[str],
    *,
    expected: Mapping[str, Any],
    communicate_for_nl: bool = True,
) -> TaskScore:
    """Score one run: `final_state` is the τ²-format shop the agent left, `agent_messages` the texts it sent the
    customer, `expected` what `expected_state` gave for the task (reuse it across trials of the same task).

    `passed` is true when every check of the task's reward basis that can be done offline passes. With
    `communicate_for_nl` (the default) an NL_ASSERTION basis is checked with the task's `communicate_info`
    strings instead of an LLM judge; without it NL_ASSERTION is only reported as not evaluated.
    """
    criteria = task.evaluation_criteria
    basis = tuple(criteria.reward_basis)
    db_match = canonical(final_state) == canonical(expected)
    differences = () if db_match else tuple(diff(expected, final_state))
    said = communicated(criteria.communicate_info, agent_messages)

    checks: list[str] = []
    not_evaluated: list[str] = []
    notes: list[str] = []
    results: list[bool] = []
    if "DB" in basis:
        checks.append("DB")
        results.append(db_match)
    communicate_counts = "COMMUNICATE" in basis
    if "NL_ASSERTION" in basis:
        not_evaluated.append("NL_ASSERTION")
        if communicate_for_nl and criteria.communicate_info:
            communicate_counts = True
            notes.append("NL_ASSERTION not judged; its communicate_info strings were checked instead")
        else:
            notes.append("NL_ASSERTION not judged (it needs an LLM)")
    if communicate_counts:
        checks.append("COMMUNICATE")
        results.append(all(said.values()))
    not_evaluated += [b for b in basis if b in ("ENV_ASSERTION", "ACTION")]
    return TaskScore(
        task_id=task.id,
        reward_basis=basis,
        db_match=db_match,
        differences=differences,
        communicated=said,
        nl_assertions=tuple(criteria.nl_assertions or ()),
        nl_assertions_evaluated=False,
        checks=tuple(checks),
        not_evaluated=tuple(not_evaluated),
        passed=all(results),
        notes=tuple(notes),
    )


def diff(expected: Any, got: Any, limit: int = MAX_DIFFERENCES) -> list[str]:
    """Readable lines naming each place two τ²-format values differ, like
    `orders['#W2378156'].status: expected 'pending', got 'cancelled'`; at most `limit`, then a count of the rest."""
    lines: list[str] = []
    _diff(expected, got, "", lines)
    if len(lines) > limit:
        return lines[:limit] + [f"... and {len(lines) - limit} more differences"]
    return lines


# The maps of the τ² format keyed by record id (user, order, product, item, payment method): their keys are shown
# as ['#W0000000'], field names as .status.
_KEYED_BY_ID = frozenset({"users", "orders", "products", "variants", "payment_methods"})


def _diff(expected: Any, got: Any, path: str, out: list[str], *, by_id: bool = False) -> None:
    if isinstance(expected, dict) and isinstance(got, dict):
        for key in list(expected) + [k for k in got if k not in expected]:
            where = f"{path}[{key!r}]" if by_id else f"{path}.{key}" if path else str(key)
            if key not in got:
                out.append(f"{where}: expected {_short(expected[key])}, missing")
            elif key not in expected:
                out.append(f"{where}: not expected, got {_short(got[key])}")
            else:
                _diff(expected[key], got[key], where, out, by_id=not by_id and key in _KEYED_BY_ID)
    elif isinstance(expected, list) and isinstance(got, list) and _nested(expected + got):
        shared = min(len(expected), len(got))
        for index in range(shared):
            _diff(expected[index], got[index], f"{path}[{index}]", out)
        # Entries one side has past the other's end, e.g. a refund added to a payment history.
        for index in range(shared, len(expected)):
            out.append(f"{path}[{index}]: expected {_short(expected[index])}, missing")
        for index in range(shared, len(got)):
            out.append(f"{path}[{index}]: not expected, got {_short(got[index])}")
    elif canonical_value(expected) != canonical_value(got):
        out.append(f"{path}: expected {_short(expected)}, got {_short(got)}")


def _nested(values: list[Any]) -> bool:
    return any(isinstance(v, dict | list) for v in values)


def canonical_value(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _short(value: Any, width: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def pass_hat_k(results_per_task: Mapping[str, Sequence[bool]], k: int) -> float:
    """τ²'s pass^k: for each task with n trials and c successes, C(c, k) / C(n, k), averaged over the tasks.

    The chance that k trials drawn from a task's n all succeed. Every task needs at least k trials.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    if not results_per_task:
        raise ValueError("no tasks to compute pass^k over")
    short = sorted(task for task, trials in results_per_task.items() if len(trials) < k)
    if short:
        raise ValueError(f"pass^{k} needs at least {k} trials per task; too few for task(s) {', '.join(short)}")
    per_task = [math.comb(sum(trials), k) / math.comb(len(trials), k) for trials in results_per_task.values()]
    return sum(per_task) / len(per_task)
