"""Running many τ² retail trials (trial.py), concurrently, within a budget, resumably.

Many trials run concurrently under a semaphore. Each finished trial is appended to OUT/results.jsonl at once, so a
run that stops (budget, Ctrl-C, a crash) can be resumed: finished (task, trial) pairs are skipped. Once the budget
is spent no new trial starts; trials already under way finish and are recorded (so a run can overshoot the budget
by what the in-flight trials spend, at most `concurrency` conversations each bounded by the agent's
`Limits.max_cost_usd` plus its customer's share).
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import anthropic

from ..pricing import Usage
from .conversation import FatalRunError
from .scoring import Replayer, State, expected_state
from .tasks import Task
from .trial import RunOptions, TrialResult, build_template, run_trial


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
