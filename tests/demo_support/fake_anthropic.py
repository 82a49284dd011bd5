"""A fake Anthropic Messages API on 127.0.0.1, scripted per test, speaking the real wire format.

Each POST /v1/messages takes the next scripted reply: a message, sent as JSON or, when the
request asks to stream, as the real server-sent event sequence (text in `text_delta` pieces,
tool input in `input_json_delta` pieces); or an error status with the real error body and
headers. Every request is recorded, body and headers, for tests to inspect.
"""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


@dataclass
class Reply:
    message: dict[str, Any] | None = None
    status: int = 200
    error_type: str = ""
    error_message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    fail_mid_stream: bool = False


def message(
    content: list[dict[str, Any]],
    *,
    stop_reason: str,
    usage: dict[str, int] | None = None,
    model: str = "claude-haiku-5-5",
) -> dict[str, Any]:
    return {
        "id": f"msg_{abs(hash(json.dumps(content))) % 10**12:012d}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 100,
            "output_tokens": 20,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            **(usage or {}),
        },
    }


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def sse_events(msg: dict[str, Any]) -> Iterator[str]:
    def event(kind: str, data: dict[str, Any]) -> str:
        return f"event: {kind}\ndata: {json.dumps(data)}\n\n"

    usage = msg["usage"]
    start = {**msg, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
    yield event("message_start", {"type": "message_start", "message": start})
    yield event("ping", {"type": "ping"})
    for index, block in enumerate(msg["content"]):
        if block["type"] == "text":
            yield event(
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
            )
            for piece in _pieces(block["text"], 7):
                yield event(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}},
                )
        else:
            opening = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            yield event(
                "content_block_start", {"type": "content_block_start", "index": index, "content_block": opening}
            )
            for piece in _pieces(json.dumps(block["input"]), 5):
                yield event(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": piece},
                    },
                )
        yield event("content_block_stop", {"type": "content_block_stop", "index": index})
    yield event(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": msg["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": usage["output_tokens"]},
        },
    )
    yield event("message_stop", {"type": "message_stop"})


def _then_overloaded(events: Iterator[str]) -> Iterator[str]:
    for event in events:
        if "content_block_stop" in event:
            break
        yield event
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    yield f"event: error\ndata: {json.dumps(error)}\n\n"


class FakeMessagesAPI:
    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        app = Starlette(routes=[Route("/v1/messages", self._messages, methods=["POST"])])
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    def reset(self) -> None:
        """Forget the script and what was asked, for the next test on the same server."""
        self.replies.clear()
        self.requests.clear()
        self.headers.clear()

    # scripting
    def text(self, text: str, stop_reason: str = "end_turn", **usage: int) -> None:
        self.replies.append(Reply(message([{"type": "text", "text": text}], stop_reason=stop_reason, usage=usage)))

    def tool_calls(self, *calls: tuple[str, dict[str, Any]], text: str = "", **usage: int) -> None:
        content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
        offset = sum(1 for r in self.requests) + len(self.replies)
        content += [
            {"type": "tool_use", "id": f"toolu_{offset:02d}_{i}", "name": name, "input": arguments}
            for i, (name, arguments) in enumerate(calls)
        ]
        self.replies.append(Reply(message(content, stop_reason="tool_use", usage=usage)))

    def overloaded_mid_stream(self) -> None:
        """A 200 stream that starts, then ends in an `overloaded_error` event, as the API does under load."""
        partial = message([{"type": "text", "text": "Let me"}], stop_reason="end_turn")
        self.replies.append(Reply(partial, fail_mid_stream=True))

    def error(self, status: int, error_type: str, text: str = "scripted failure", **headers: str) -> None:
        self.replies.append(
            Reply(
                status=status,
                error_type=error_type,
                error_message=text,
                headers={k.replace("_", "-"): v for k, v in headers.items()},
            )
        )

    # serving
    async def _messages(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        if not self.replies:
            return JSONResponse({"type": "error", "error": {"type": "api_error", "message": "script is empty"}}, 500)
        reply = self.replies.popleft()
        if reply.message is None:
            return JSONResponse(
                {"type": "error", "error": {"type": reply.error_type, "message": reply.error_message}},
                status_code=reply.status,
                headers=reply.headers,
            )
        if body.get("stream"):
            events = sse_events(reply.message)
            if reply.fail_mid_stream:
                events = _then_overloaded(events)
            return StreamingResponse(events, media_type="text/event-stream")
        return JSONResponse(reply.message)

    def start(self) -> FakeMessagesAPI:
        self._thread.start()
        while not self._server.started:  # readiness, not timing: the thread flips this once it listens
            threading.Event().wait(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
