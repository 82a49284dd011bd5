"""The bounded agent loop: Claude asks for tools, we run them concurrently and safely, until done or a bound.

Everything it talks to is injected: the AsyncAnthropic client, the MCP session (anything with
`call_tool(name, arguments)`), the console, the tracer and the retry policy. What it is told (instructions,
bounds, options) is in agent_options.py; a tool call's result and its helpers in tool_runs.py.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anthropic
from mcp.types import Tool

from .agent_options import CHANGE_WORDS, SYSTEM_PROMPT, Limits, Options
from .bridge import claude_tools, is_destructive, select_tools, tool_result_content
from .console import Console
from .pricing import SMALL_MODEL, STRONG_MODEL, Usage
from .retry import GaveUp, RetryPolicy, describe
from .tool_runs import ToolRun, ToolSession, milliseconds, now_iso, with_note
from .trace import Tracer, mask


@dataclass
class Outcome:
    text: str
    stop_reason: str  # "done", or which bound ended the run and why
    turns: int  # this question's
    usage: Usage  # the conversation's so far


@dataclass
class Conversation:
    messages: list[dict[str, Any]] = field(default_factory=list)
    user_texts: list[str] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)


class Agent:
    def __init__(
        self,
        client: anthropic.AsyncAnthropic,
        session: ToolSession,
        tools: Sequence[Tool],
        console: Console,
        *,
        options: Options | None = None,
        limits: Limits | None = None,
        tracer: Tracer | None = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client, self.session, self.console = client, session, console
        # Our RetryPolicy is the only retry loop: a client with retries of its own would multiply attempts.
        self._api = client.with_options(max_retries=0)
        self.tools = {tool.name: tool for tool in tools}
        self.options = options or Options()
        self.limits = limits or Limits()
        self.tracer = tracer or Tracer(None)
        self.retry = retry or RetryPolicy()
        self.clock = clock
        self.usage = Usage()
        self.conversation = Conversation()
        self.turns = 0  # in the whole conversation
        self._question_turns = 0
        self._question_started = clock()
        self._question_person_seconds = 0.0  # spent answering approvals: not the agent's time
        self._asking = asyncio.Lock()  # one question to the person at a time, even with parallel tool calls

    # -- the loop ---------------------------------------------------------------------------

    async def ask(self, question: str) -> Outcome:
        """Add the person's message and run until Claude answers without tools, or a bound is hit.

        The question's turns and wall time start from zero here; tokens and cost carry on."""
        self._question_turns, self._question_started, self._question_person_seconds = 0, self.clock(), 0.0
        self.conversation.user_texts.append(question)
        self.conversation.messages.append({"role": "user", "content": question})
        text = ""
        while True:
            bound = self.conversation_bound() or self._question_bound()
            if bound:
                self.console.notice(f"stopped: {bound}")
                return Outcome(text, bound, self._question_turns, self.usage)
            self.turns += 1
            self._question_turns += 1
            model = self._model_for_turn()
            try:
                message = await self.retry.run(functools.partial(self._stream, model), self._on_retry)
            except GaveUp as error:
                self.console.notice(f"stopped: {error}")
                return Outcome(text, f"API error: {error}", self._question_turns, self.usage)
            turn_usage = self.usage.add(model, message.usage)
            content = [block.model_dump(exclude_none=True) for block in message.content]
            self.conversation.messages.append({"role": "assistant", "content": content})
            text = "".join(block.text for block in message.content if block.type == "text")
            calls = [block for block in message.content if block.type == "tool_use"]
            if message.stop_reason == "max_tokens":
                return Outcome(
                    text,
                    f"reply cut off at --max-output-tokens ({self.options.max_output_tokens})",
                    self._question_turns,
                    self.usage,
                )
            if message.stop_reason != "tool_use" or not calls:
                return Outcome(text, "done", self._question_turns, self.usage)
            if text:
                self.console.text("\n")  # the tool calls follow on lines of their own
            results = await asyncio.gather(*(self._run_tool(call, model, turn_usage) for call in calls))
            self.conversation.messages.append({"role": "user", "content": list(results)})

    def conversation_bound(self) -> str | None:
        """The conversation-wide bound reached, if any: once spent, no further question can be answered."""
        limits, usage = self.limits, self.usage
        if usage.total_tokens >= limits.max_tokens:
            return f"token limit reached ({usage.total_tokens:,} of {limits.max_tokens:,} tokens in this conversation)"
        if usage.cost_usd >= limits.max_cost_usd:
            return f"cost limit reached (${usage.cost_usd:.4f} of ${limits.max_cost_usd:.2f} in this conversation)"
        return None

    def _question_bound(self) -> str | None:
        limits = self.limits
        if self._question_turns >= limits.max_turns:
            return f"turn limit reached ({limits.max_turns} turns on this question)"
        # The person's time answering approvals is theirs, not the agent's: it does not count.
        elapsed = self.clock() - self._question_started - self._question_person_seconds
        if elapsed >= limits.max_seconds:
            return f"time limit reached ({elapsed:.0f} s of {limits.max_seconds:.0f} s on this question)"
        return None

    def _model_for_turn(self) -> str:
        """`auto`: the small model for lookups; the strong one once the request is about changing data
        (the person's words say so, or Claude has asked for a destructive tool)."""
        if self.options.model != "auto":
            return self.options.model
        latest = self.conversation.user_texts[-1].lower()
        wants_change = any(word in latest for word in CHANGE_WORDS)
        proposed_change = any(
            block.get("type") == "tool_use"
            and block.get("name") in self.tools
            and is_destructive(self.tools[block["name"]])
            for message in self.conversation.messages
            if message["role"] == "assistant"
            for block in message["content"]
        )
        return STRONG_MODEL if wants_change or proposed_change else SMALL_MODEL

    def _tool_definitions(self) -> list[dict[str, Any]]:
        tools = list(self.tools.values())
        if self.options.select_tool_groups:
            tools = select_tools(tools, self.conversation.user_texts)
        return claude_tools(tools)

    def _system_prompt(self) -> str:
        extra = self.options.system_prompt
        return f"{SYSTEM_PROMPT}\n\n{extra}" if extra else SYSTEM_PROMPT

    async def _stream(self, model: str) -> Any:
        request: dict[str, Any] = {
            "model": model,
            "max_tokens": self.options.max_output_tokens,
            # The system prompt and the tool definitions are the stable prefix: cache both.
            "system": [{"type": "text", "text": self._system_prompt(), "cache_control": {"type": "ephemeral"}}],
            "tools": self._tool_definitions(),
            "messages": self.conversation.messages,
        }
        async with self._api.messages.stream(**request) as stream:
            async for event in stream:
                if event.type == "text":
                    self.console.text(event.text)
            return await stream.get_final_message()

    def _on_retry(self, error: BaseException, wait: float) -> None:
        self.console.notice(f"{describe(error)}; retrying in {wait:.1f} s")

    # -- tools ------------------------------------------------------------------------------

    async def _run_tool(self, call: Any, model: str, turn_usage: Usage) -> dict[str, Any]:
        name, arguments = call.name, dict(call.input or {})
        started_at = now_iso()
        self.console.tool_started(name, mask(arguments))
        run = await self._call_tool(name, arguments)
        self.console.tool_finished(name, run.seconds, not run.is_error, run.text, run.approval_wait)
        self.tracer.write(
            {
                "tool": name,
                "arguments": mask(arguments),
                # started_at..ended_at is the whole call, approval included; the two durations split it.
                "started_at": started_at,
                "ended_at": now_iso(),
                "duration_ms": milliseconds(run.seconds),
                "approval_wait_ms": milliseconds(run.approval_wait),
                "is_error": run.is_error,
                "result_chars": run.size,
                "turn": self.turns,
                "model": model,
                "usage": {
                    "input_tokens": turn_usage.input_tokens,
                    "output_tokens": turn_usage.output_tokens,
                    "cache_creation_input_tokens": turn_usage.cache_creation_input_tokens,
                    "cache_read_input_tokens": turn_usage.cache_read_input_tokens,
                },
            }
        )
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": call.id, "content": run.content}
        if run.is_error:
            block["is_error"] = True
        return block

    async def _call_tool(self, name: str, arguments: dict[str, Any]) -> ToolRun:
        """Never raises: every failure becomes a result Claude can read.

        Only the tool's own call is timed as its run time; the time the person takes to approve it
        is kept apart, so a slow answer never looks like a slow tool."""
        failures = self.conversation.failures
        tool = self.tools.get(name)
        if tool is None:
            return ToolRun(f"There is no tool named {name}.", True)
        if failures[name] >= self.options.max_tool_failures:
            return ToolRun(
                f"{name} has failed {failures[name]} times in this conversation, so the client no longer "
                "calls it. Do without it, or tell the person what could not be done.",
                True,
            )
        approval_wait = None
        if is_destructive(tool):
            approved, approval_wait = await self._approval(name, arguments)
            if not approved:
                return ToolRun(
                    f"The person did not approve {name}, so it was not run. Nothing was changed. "
                    "Ask the person how they want to proceed.",
                    True,
                    approval_wait=approval_wait,
                )
        start = self.clock()
        content: str | list[dict[str, Any]]
        try:
            result = await asyncio.wait_for(self.session.call_tool(name, arguments), self.options.tool_timeout)
        except TimeoutError:
            content = f"{name} did not answer within {self.options.tool_timeout:g} s and was cancelled."
            is_error = True
        except Exception as error:  # a broken connection or protocol error: tell Claude, keep the loop alive
            content, is_error = f"{name} failed: {type(error).__name__}: {error}", True
        else:
            content, is_error = tool_result_content(result), bool(result.is_error)
        seconds = self.clock() - start
        if is_error:
            failures[name] += 1
            if failures[name] >= self.options.max_tool_failures:
                content = with_note(
                    content,
                    f"({name} has now failed {failures[name]} times; the client will not call it again "
                    "in this conversation.)",
                )
        return ToolRun(content, is_error, seconds, approval_wait)

    async def _approval(self, name: str, arguments: dict[str, Any]) -> tuple[bool, float | None]:
        """(approved, seconds spent waiting for the person, or None when no one was asked).

        The wait includes queueing behind another approval: that too is time spent on the person."""
        if self.options.destructive == "allow":
            return True, None
        if self.options.destructive == "refuse":
            self.console.notice(f"refused {name}: it changes data (run with --yes to allow)")
            return False, None
        queued = self.clock()
        async with self._asking:
            asked = self.clock()
            approved = await self.console.confirm(f"Claude wants to run {name} with {arguments}. Allow?")
            # Counted inside the lock: approvals are asked one at a time, so these spans never overlap.
            self._question_person_seconds += self.clock() - asked
        return approved, self.clock() - queued
