"""A fake Messages API for τ² runs: the agent's and the customer's requests answered by two scripted players.

The two kinds of request differ by their system prompt (the customer's opens with the role-play guidelines), so
each goes to its own responder: a function of the request body that returns a message in the real wire format
(streamed as server-sent events when the request asks to stream). Replies depend only on what the request holds,
never on arrival order, so concurrent trials get the same answers as sequential ones.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from shopdesk_demo.tau2.customer import GUIDELINES

from .fake_anthropic import FakeMessagesAPI, message, sse_events

Responder = Callable[[dict[str, Any]], dict[str, Any]]
_ids = itertools.count()


def is_customer(body: dict[str, Any]) -> bool:
    system = body.get("system")
    text = system if isinstance(system, str) else " ".join(b.get("text", "") for b in system or [])
    return text.startswith(GUIDELINES[:40])


def text_of(content: str | list[dict[str, Any]]) -> str:
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content if block.get("type") == "text")


def say(text: str, **usage: int) -> dict[str, Any]:
    return message([{"type": "text", "text": text}], stop_reason="end_turn", usage=usage)


def call(name: str, arguments: dict[str, Any], **usage: int) -> dict[str, Any]:
    block = {"type": "tool_use", "id": f"toolu_{next(_ids):06d}", "name": name, "input": arguments}
    return message([block], stop_reason="tool_use", usage=usage)


class FakeTau2API(FakeMessagesAPI):
    def __init__(self, agent: Responder, customer: Responder) -> None:
        super().__init__()
        self.agent, self.customer = agent, customer
        self.agent_requests: list[dict[str, Any]] = []
        self.customer_requests: list[dict[str, Any]] = []

    async def _messages(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        if is_customer(body):
            self.customer_requests.append(body)
            reply = self.customer(body)
        else:
            self.agent_requests.append(body)
            reply = self.agent(body)
        if body.get("stream"):
            return StreamingResponse(sse_events(reply), media_type="text/event-stream")
        return JSONResponse(reply)
