"""What the person sees and answers: streamed text, tool calls as they start and end, questions."""

from __future__ import annotations

import json
import sys
from typing import Any, Protocol, TextIO


class Person(Protocol):
    """Someone the client can put a question to (or not, when `interactive` is false)."""

    interactive: bool

    def notice(self, message: str) -> None: ...
    async def ask(self, question: str) -> str | None: ...


class Console(Protocol):
    def text(self, delta: str) -> None: ...
    def tool_started(self, name: str, arguments: dict[str, Any]) -> None: ...
    def tool_finished(
        self, name: str, seconds: float | None, ok: bool, detail: str, approval_wait: float | None = None
    ) -> None:
        """`seconds`: the tool's own run time (None: not run); `approval_wait`: time the person took to answer."""

    def notice(self, message: str) -> None: ...
    async def confirm(self, question: str) -> bool: ...
    async def ask(self, question: str) -> str | None: ...


class Terminal:
    """A Console on a terminal. Answers are read from stdin only when it is interactive."""

    def __init__(self, out: TextIO = sys.stdout, err: TextIO = sys.stderr, interactive: bool | None = None) -> None:
        self.out, self.err = out, err
        self.interactive = sys.stdin.isatty() if interactive is None else interactive

    def text(self, delta: str) -> None:
        self.out.write(delta)
        self.out.flush()

    def tool_started(self, name: str, arguments: dict[str, Any]) -> None:
        self.err.write(f"\n  -> {name} {json.dumps(arguments)[:200]}\n")

    def tool_finished(
        self, name: str, seconds: float | None, ok: bool, detail: str, approval_wait: float | None = None
    ) -> None:
        outcome = "not run" if seconds is None else f"{'ok' if ok else 'error'} in {seconds * 1000:.0f} ms"
        waited = "" if approval_wait is None else f"; {approval_wait:.1f} s waiting for approval"
        self.err.write(f"  <- {name} {outcome}{waited}{': ' + detail[:200] if not ok else ''}\n")

    def notice(self, message: str) -> None:
        self.err.write(f"[{message}]\n")

    async def confirm(self, question: str) -> bool:
        answer = await self.ask(f"{question} [y/N]")
        return (answer or "").strip().lower() in ("y", "yes")

    async def ask(self, question: str) -> str | None:
        if not self.interactive:
            return None
        import asyncio

        self.err.write(f"? {question} ")
        self.err.flush()
        line = await asyncio.to_thread(sys.stdin.readline)
        return line.rstrip("\n") if line else None
