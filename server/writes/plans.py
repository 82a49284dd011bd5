"""What a tool hands the write path (path.py): a `Write` whose plan reads and checks, says in words what will
change, and holds the change itself; and what the change reports back for the answer and the audit row."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, Field

from ..access.caller import Caller
from ..storage.repositories.rows import Connection

IdempotencyKey = Annotated[
    str | None,
    Field(
        description="A UUID makes a retry safe.",
        max_length=100,
        pattern=r"^[A-Za-z0-9_.:-]+$",
    ),
]
REPLAY_META = "io.shopdesk/replay"


@dataclass
class Written:
    """What a write did: the record to answer with, its text, and what to put in the audit row."""

    record: BaseModel
    text: str
    target: str  # the id of the record written
    customer: str | None  # whose record it is
    details: dict[str, Any] = field(default_factory=dict)
    changed: bool = True  # False: a repeat that found nothing left to change


Change = Callable[[Connection], Awaitable[Written]]


@dataclass
class Plan:
    """A write worked out but not made: what it will change, for the person, and how to make it."""

    words: str  # empty: nothing the person needs to confirm
    apply: Change


# A plan reads and checks, on the write's connection, for the caller (a rule may depend on who asks).
Planner = Callable[[Connection, Caller], Awaitable[Plan]]


@dataclass(frozen=True)
class Write:
    """One call of a destructive tool: its name, its arguments, and its plan."""

    tool: str
    arguments: Mapping[str, Any]
    plan: Planner
