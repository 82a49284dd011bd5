"""τ²-bench retail tasks for shopdesk: the shipped tasks (tasks.py) and an offline scorer (scoring.py).

Nothing here imports anthropic: scoring replays tool calls through MCP on an in-process shopdesk server.
"""

from .scoring import CallOutcome, Replayer, TaskScore, expected_state, export_state, pass_hat_k, score
from .tasks import Action, Task, TaskSelectionError, load_splits, load_tasks, select

__all__ = [
    "Action",
    "CallOutcome",
    "Replayer",
    "Task",
    "TaskScore",
    "TaskSelectionError",
    "expected_state",
    "export_state",
    "load_splits",
    "load_tasks",
    "pass_hat_k",
    "score",
    "select",
]
