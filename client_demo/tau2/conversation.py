"""One τ² conversation: the greeting, then the simulated customer and the agent in turn until one of them stops
or a bound ends it (`converse`), and how it ended: τ² scores only the endings in SCORED_ENDINGS.

Also what is read from the agent's side of it: its texts (what the customer was told), whether a tool was
called, and the steps as τ² counts them. An API answer no retry can fix stops the whole run (FatalRunError).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..loop import Agent
from .customer import GREETING, Customer, CustomerError, stop_token

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
