"""The simulated customer of a τ² run: a Claude model playing the person a task describes.

As in τ² (src/tau2/user/user_simulator.py), the customer model gets guidelines on how to play a customer and the
task's scenario (persona, why they call, what they know and do not know, how to behave) as its system prompt, and
sees the conversation with the roles flipped: the agent's messages are its `user` turns, its own lines are its
`assistant` turns. It ends the conversation with a stop token. The wording of the guidelines is ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anthropic

from ..pricing import STRONG_MODEL, Usage
from ..retry import GaveUp, RetryPolicy
from .tasks import Task

STOP = "###STOP###"
TRANSFER = "###TRANSFER###"
OUT_OF_SCOPE = "###OUT-OF-SCOPE###"
STOP_TOKENS = (STOP, TRANSFER, OUT_OF_SCOPE)

# τ²'s agent opens every conversation with this line; the customer answers it.
GREETING = "Hi! How can I help you today?"
DEFAULT_MODEL = STRONG_MODEL

GUIDELINES = f"""\
You are role-playing a customer who has contacted an online shop's customer service. The other side of this \
conversation is the shop's agent. Play the customer described in the scenario below, as a real person would.

How to play the part:
- Write one message at a time, as the customer, in plain conversational language. Never act as the agent.
- Follow the scenario. Do not invent facts it does not give you: anything it does not say is something you do \
not know or do not have.
- Do not recite the scenario. Say things in your own words.
- Give information a little at a time, when the agent asks for it, not all at once.
- Keep to what the scenario wants; if the agent proposes something else, respond as the scenario says you would.

Ending the conversation:
- When everything the scenario wants is done (or the scenario says to give up), reply with {STOP} alone.
- If the agent transfers you to a human agent, reply with {TRANSFER} alone.
- If the conversation reaches a point the scenario gives you no way to answer, reply with {OUT_OF_SCOPE} alone.
"""


def scenario(task: Task) -> str:
    """The task's user scenario as the customer model reads it."""
    scenario = task.user_scenario
    parts: list[str] = []
    if scenario.persona:
        parts.append(f"Persona:\n{scenario.persona}")
    instructions = scenario.instructions
    parts.append(f"Why you are contacting the shop:\n{instructions.reason_for_call}")
    if instructions.known_info:
        parts.append(f"What you know:\n{instructions.known_info}")
    if instructions.unknown_info:
        parts.append(f"What you do not know:\n{instructions.unknown_info}")
    if instructions.task_instructions.strip(" ."):
        parts.append(f"How to behave:\n{instructions.task_instructions}")
    return "\n\n".join(parts)


def system_prompt(task: Task) -> str:
    return f"{GUIDELINES}\n<scenario>\n{scenario(task)}\n</scenario>"


def stop_token(text: str) -> str | None:
    """The stop token in a customer message, if any (τ²: the message contains one)."""
    return next((token for token in STOP_TOKENS if token in text), None)


class CustomerError(Exception):
    """The customer model could not give a message (the API failed after retries, or replied with no text)."""


@dataclass
class Customer:
    """One simulated customer for one conversation. `reply(agent_text)` gives the customer's next message."""

    client: anthropic.AsyncAnthropic
    task: Task
    model: str = DEFAULT_MODEL
    max_output_tokens: int = 1024
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    usage: Usage = field(default_factory=Usage)
    # The conversation from the customer's side: the agent is `user`, the customer `assistant`.
    messages: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._api = self.client.with_options(max_retries=0)  # RetryPolicy is the one retry loop
        self._system = system_prompt(self.task)

    async def reply(self, agent_text: str) -> str:
        """Show the customer the agent's message; return what the customer says back."""
        self.messages.append({"role": "user", "content": agent_text.strip() or "(the agent sent no text)"})
        try:
            message = await self.retry.run(self._create, lambda error, wait: None)
        except GaveUp as error:
            raise CustomerError(f"the customer model failed: {error}") from error
        self.usage.add(self.model, message.usage)
        text = "".join(block.text for block in message.content if block.type == "text").strip()
        if not text:
            raise CustomerError(f"the customer model sent no text (stop reason {message.stop_reason})")
        self.messages.append({"role": "assistant", "content": text})
        return text

    async def _create(self) -> Any:
        # One cache breakpoint on the newest message: each turn reads the prefix the previous one wrote.
        messages = [*self.messages[:-1], _with_breakpoint(self.messages[-1])]
        request: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_output_tokens,
            "system": self._system,
            "messages": messages,
        }
        return await self._api.messages.create(**request)


def _with_breakpoint(message: dict[str, Any]) -> dict[str, Any]:
    block = {"type": "text", "text": message["content"], "cache_control": {"type": "ephemeral"}}
    return {"role": message["role"], "content": [block]}
