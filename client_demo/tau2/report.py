"""A τ² run's results summed up: OUT/summary.json and the table printed at the end."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from .conversation import ERROR_ENDINGS, SCORED_ENDINGS
from .scoring import pass_hat_k
from .tasks import Task
from .trial import TrialResult

TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def _tokens(results: Sequence[TrialResult], side: str) -> dict[str, Any]:
    sums: dict[str, Any] = {name: sum(getattr(r, side)[name] for r in results) for name in TOKEN_FIELDS}
    sums["cost_usd"] = round(sum(getattr(r, side)["cost_usd"] for r in results), 6)
    return sums


def _ks(results_per_task: dict[str, list[bool]], most: int) -> dict[str, dict[str, Any]]:
    """pass^k for k = 1..most, each over the tasks that have at least k trials."""
    out: dict[str, dict[str, Any]] = {}
    for k in range(1, most + 1):
        eligible = {task: runs for task, runs in results_per_task.items() if len(runs) >= k}
        if eligible:
            out[str(k)] = {"value": round(pass_hat_k(eligible, k), 4), "tasks": len(eligible)}
    return out


def summarize(
    results: Sequence[TrialResult],
    tasks: Sequence[Task],
    trials: int,
    *,
    options: dict[str, Any],
    stopped: str | None,
    this_run: Sequence[TrialResult],
) -> dict[str, Any]:
    """Per task and overall: trials, passes, pass^k, cost and tokens. Only the selected tasks' trials 0..trials-1
    count (results.jsonl may hold more from earlier runs with other selections)."""
    wanted = {t.id for t in tasks}
    kept = sorted(
        (r for r in results if r.task_id in wanted and r.trial < trials),
        key=lambda r: (int(r.task_id) if r.task_id.isdigit() else r.task_id, r.trial),
    )
    by_task: dict[str, list[TrialResult]] = {}
    for result in kept:
        by_task.setdefault(result.task_id, []).append(result)
    per_task: dict[str, Any] = {}
    for task_id, runs in by_task.items():
        passes = [r.passed for r in runs]
        per_task[task_id] = {
            "trials": len(runs),
            "passes": sum(passes),
            "pass_hat_k": {str(k): round(pass_hat_k({task_id: passes}, k), 4) for k in range(1, len(runs) + 1)},
            "cost_usd": round(sum(r.cost_usd for r in runs), 6),
            "agent": _tokens(runs, "agent"),
            "customer": _tokens(runs, "customer"),
            "terminations": dict(Counter(r.termination for r in runs)),
        }
    planned = len(tasks) * trials
    return {
        "options": options,
        "stopped": stopped,
        "complete": len(kept) == planned,
        "trials_planned": planned,
        "trials_recorded": len(kept),
        "this_run": {"trials": len(this_run), "cost_usd": round(sum(r.cost_usd for r in this_run), 6)},
        "overall": {
            "pass_hat_k": _ks({t: [r.passed for r in runs] for t, runs in by_task.items()}, trials),
            "tasks": len(by_task),
            "trials": len(kept),
            "passes": sum(r.passed for r in kept),
            # Runs that ended otherwise than by the customer or the agent score 0, as in τ².
            "unscored_endings": sum(r.termination not in SCORED_ENDINGS for r in kept),
            # Of those, the ones an API or the MCP server failed (not the agent): worth running again.
            "error_endings": sum(r.termination in ERROR_ENDINGS for r in kept),
            "terminations": dict(Counter(r.termination for r in kept)),
            "cost_usd": round(sum(r.cost_usd for r in kept), 6),
            "agent": _tokens(kept, "agent"),
            "customer": _tokens(kept, "customer"),
            "seconds": round(sum(r.seconds for r in kept), 1),
        },
        "tasks": per_task,
    }


def table(summary: dict[str, Any]) -> str:
    """The summary as a terminal table: one row per task, then the overall figures."""
    ks = list(summary["overall"]["pass_hat_k"])
    header = ["task", "trials", "passes", *(f"pass^{k}" for k in ks), "cost", "endings"]
    rows = []
    for task_id, row in summary["tasks"].items():
        endings = ", ".join(f"{name} {count}" for name, count in sorted(row["terminations"].items()))
        rows.append(
            [
                task_id,
                str(row["trials"]),
                str(row["passes"]),
                *(f"{row['pass_hat_k'][k]:.2f}" if k in row["pass_hat_k"] else "-" for k in ks),
                f"${row['cost_usd']:.4f}",
                endings,
            ]
        )
    overall = summary["overall"]
    rows.append(
        [
            "all",
            str(overall["trials"]),
            str(overall["passes"]),
            *(f"{v['value']:.3f}" for v in overall["pass_hat_k"].values()),
            f"${overall['cost_usd']:.4f}",
            f"{overall['unscored_endings']} unscored",
        ]
    )
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines.insert(len(lines) - 1, lines[1])
    notes = [f"pass^{k} over {v['tasks']} task(s)" for k, v in overall["pass_hat_k"].items()]
    status = (
        "complete" if summary["complete"] else f"{summary['trials_recorded']} of {summary['trials_planned']} trials"
    )
    if summary["stopped"]:
        status += f"; stopped: {summary['stopped']}"
    lines.append(f"{status}; {'; '.join(notes) if notes else 'no trials yet'}")
    return "\n".join(lines)
