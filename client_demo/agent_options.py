"""What an Agent (loop.py) is told: its instructions, the bounds of a question and a conversation (`Limits`),
and its options (`Options`: model or `auto` routing, output tokens, tool timeout and failures, approvals).
"""

from __future__ import annotations

from dataclasses import dataclass

from .pricing import SMALL_MODEL

SYSTEM_PROMPT = """\
You are a customer-service agent for an online shop, working through the shop's tools.
Identify the customer first (by email, or by name and zip code) before looking at or changing anything.
Before any action that changes data, state exactly what you will do and wait for the person's explicit yes.
Use only facts from the tools. Be brief."""

# `auto` routing: words that mean the request will change data, which wants the stronger model.
CHANGE_WORDS = ("cancel", "return", "exchange", "refund", "modify", "change", "swap", "replace", "escalat")


@dataclass
class Limits:
    """Turns and wall time bound each question; tokens and cost add up over the whole conversation.

    A conversation goes on for as long as the person keeps asking, and their reading and typing time
    is not the agent's: a per-question clock keeps a runaway question bounded without cutting off the
    next one. Tokens and dollars are what the conversation spends, so they stop it once spent.
    """

    max_turns: int = 12  # per question
    max_tokens: int = 200_000  # per conversation
    max_cost_usd: float = 0.50  # per conversation
    max_seconds: float = 300.0  # per question


@dataclass
class Options:
    model: str = SMALL_MODEL  # or "auto"
    max_output_tokens: int = 4096
    tool_timeout: float = 30.0
    max_tool_failures: int = 3
    destructive: str = "ask"  # "ask" the person, "allow" (--yes), or "refuse"
    select_tool_groups: bool = True
    # Added to SYSTEM_PROMPT when set, e.g. the shop's policy (the τ² runner passes shopdesk://policy).
    system_prompt: str | None = None
