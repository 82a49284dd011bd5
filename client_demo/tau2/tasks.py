"""The τ²-bench retail tasks shipped with shopdesk, as typed models, and choosing which to run.

The files live beside the bundled τ² shop (`data/tau2-retail/` in a checkout, `server/bundled_data/tau2-retail/`
when installed), found the way `server.tau2` finds the shop. See data/tau2-retail/README.md for where they come from.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from shopdesk.shopdata.tau2 import BUNDLED_DB

DATA_DIR = BUNDLED_DB.parent
TASKS_FILE = DATA_DIR / "tasks.json.gz"
SPLIT_FILE = DATA_DIR / "split_tasks.json"

# What a τ² task's reward may rest on. Upstream names, spelt as in tasks.json.
RewardType = Literal["DB", "ENV_ASSERTION", "NL_ASSERTION", "ACTION", "COMMUNICATE"]


_DEFAULT_BASIS: tuple[RewardType, ...] = ("DB", "COMMUNICATE")


class _Model(BaseModel):
    # Upstream may add fields; what we read is typed, anything else is kept but not relied on.
    model_config = ConfigDict(extra="allow", frozen=True)


class Action(_Model):
    """One gold tool call: what an agent that solves the task calls (reads included)."""

    action_id: str
    name: str
    arguments: dict[str, Any]
    requestor: Literal["assistant", "user"] = "assistant"
    info: str | None = None
    # τ²'s action check (not part of the retail reward) compares only these arguments; [] means none.
    compare_args: list[str] | None = None


class Instructions(_Model):
    """What the simulated customer is told: why they call, what they know and don't, how to behave."""

    domain: str
    reason_for_call: str
    known_info: str | None = None
    unknown_info: str | None = None
    task_instructions: str


class UserScenario(_Model):
    persona: str | None = None
    instructions: Instructions


class Description(_Model):
    purpose: str | None = None
    relevant_policies: str | None = None
    notes: str | None = None


class EvaluationCriteria(_Model):
    actions: list[Action] = Field(default_factory=list)
    # Strings the agent must have said to the customer (τ² matches them in the agent's messages).
    communicate_info: list[str] = Field(default_factory=list)
    # Statements an LLM judge checks against the conversation.
    nl_assertions: list[str] | None = None
    # τ²'s default when a task names none: the database and the strings told.
    reward_basis: list[RewardType] = Field(default_factory=lambda: list(_DEFAULT_BASIS))


class Task(_Model):
    id: str
    description: Description | None = None
    user_scenario: UserScenario
    # τ² lets a task start from a changed shop; no retail task does, and we could not replay one that did.
    initial_state: None = None
    evaluation_criteria: EvaluationCriteria


class TaskSelectionError(ValueError):
    """A task selection names tasks or splits that do not exist, or is malformed."""


_TASKS = TypeAdapter(list[Task])
_SPLITS = TypeAdapter(dict[str, list[str]])


def _read(path: Path) -> bytes:
    if not path.is_file():
        raise FileNotFoundError(f"{path.name} is missing from this copy of shopdesk (looked in {path.parent})")
    raw = path.read_bytes()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


@cache
def load_tasks(path: Path = TASKS_FILE) -> tuple[Task, ...]:
    """Every task in the file, in its order."""
    tasks = _TASKS.validate_json(_read(path))
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path} has tasks with the same id")
    return tuple(tasks)


@cache
def load_splits(path: Path = SPLIT_FILE) -> dict[str, tuple[str, ...]]:
    """Split name (train, test, base) -> task ids."""
    return {name: tuple(ids) for name, ids in _SPLITS.validate_json(_read(path)).items()}


def select(
    spec: str, tasks: Sequence[Task] | None = None, splits: dict[str, tuple[str, ...]] | None = None
) -> list[Task]:
    """The tasks a selection names, in the order of the task file, each once.

    `spec` is comma-separated parts, each one of: a task id (`7`), an inclusive range of ids (`0-9`), a split
    name (`train`, `test`, `base`), or `all`. Unknown ids, splits and ranges reaching past the tasks are errors.
    """
    tasks = load_tasks() if tasks is None else tasks
    splits = load_splits() if splits is None else splits
    by_id = {t.id: t for t in tasks}
    parts = [p.strip() for p in spec.split(",")]
    if not spec.strip() or any(not p for p in parts):
        raise TaskSelectionError(f"empty task selection {spec!r}: give ids (0,5,7), ranges (0-9), a split or all")
    wanted: set[str] = set()
    unknown: list[str] = []
    for part in parts:
        if part.lower() == "all":
            wanted |= set(by_id)
        elif part in splits:
            missing = [i for i in splits[part] if i not in by_id]
            if missing:
                raise TaskSelectionError(f"split {part!r} names tasks that do not exist: {', '.join(missing)}")
            wanted |= set(splits[part])
        elif part in by_id:
            wanted.add(part)
        elif "-" in part.strip("-"):
            wanted |= _range(part, by_id)
        else:
            unknown.append(part)
    if unknown:
        raise TaskSelectionError(f"no task or split {', '.join(map(repr, unknown))}; {_what_exists(by_id, splits)}")
    return [t for t in tasks if t.id in wanted]


def _range(part: str, by_id: dict[str, Task]) -> set[str]:
    first, _, last = part.partition("-")
    try:
        low, high = int(first), int(last)
    except ValueError:
        raise TaskSelectionError(f"{part!r} is not a range of task ids like 0-9") from None
    if low > high:
        raise TaskSelectionError(f"range {part!r} runs backwards; write {high}-{low}")
    ids = [str(n) for n in range(low, high + 1)]
    missing = [i for i in ids if i not in by_id]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise TaskSelectionError(f"range {part!r} includes ids with no task: {shown}; {_what_exists(by_id, {})}")
    return set(ids)


def _what_exists(by_id: dict[str, Task], splits: dict[str, tuple[str, ...]]) -> str:
    numeric = sorted(int(i) for i in by_id if i.isdigit())
    ids = f"task ids run {numeric[0]}-{numeric[-1]}" if numeric else f"{len(by_id)} tasks"
    names = ", ".join(sorted(splits))
    return f"{ids}" + (f"; splits: {names}, or all" if names else "")
