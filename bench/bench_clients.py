"""The bench's raw MCP clients: plain JSON-RPC over stdio and over Streamable HTTP, no SDK client, so its
costs are not counted."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx2

PROTOCOL = "2025-11-25"


class CallFailed(RuntimeError):
    """A JSON-RPC error, or a tool result with isError."""


class RawSession:
    """One MCP session spoken as plain JSON-RPC: initialize, then requests."""

    def __init__(self) -> None:
        self._next_id = 0

    def _message(self, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self._next_id, "method": method}
        if params is not None:
            message["params"] = params
        return message

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        raise NotImplementedError

    async def notify(self, method: str) -> None:
        raise NotImplementedError

    async def initialize(self) -> None:
        await self.request(
            "initialize",
            {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "mcp_bench", "version": "1"}},
        )
        await self.notify("notifications/initialized")

    async def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """A tools/call; its result, or CallFailed when the tool answered isError."""
        result = await self.request("tools/call", {"name": tool, "arguments": arguments})
        if result.get("isError"):
            text = " ".join(part.get("text", "") for part in result.get("content", []))
            raise CallFailed(text)
        return result

    async def close(self) -> None:
        pass


def _answer(message: dict[str, Any]) -> dict[str, Any]:
    if "error" in message:
        raise CallFailed(json.dumps(message["error"])[:300])
    result: dict[str, Any] = message["result"]
    return result


class StdioSession(RawSession):
    """A server subprocess speaking newline-delimited JSON-RPC on its stdin and stdout."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        super().__init__()
        self.process = process
        assert process.stdin is not None and process.stdout is not None
        self._in, self._out = process.stdin, process.stdout

    async def _send(self, message: dict[str, Any]) -> None:
        self._in.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        await self._in.drain()

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        message = self._message(method, params)
        await self._send(message)
        while True:
            line = await self._out.readline()
            if not line:
                raise CallFailed(f"the server closed its output (exit code {await self.process.wait()})")
            reply = json.loads(line)
            if reply.get("id") == message["id"] and ("result" in reply or "error" in reply):
                return _answer(reply)
            # Anything else (a log notification, say) is not this call's answer.

    async def notify(self, method: str) -> None:
        await self._send({"jsonrpc": "2.0", "method": method})

    async def close(self) -> None:
        self._in.close()


class HttpSession(RawSession):
    """Streamable HTTP: each request a POST to /mcp with the session's header; the answer JSON or SSE."""

    def __init__(self, url: str, http: httpx2.AsyncClient) -> None:
        super().__init__()
        self.url, self.http = url, http
        self.headers = {"content-type": "application/json", "accept": "application/json, text/event-stream"}

    async def _post(self, message: dict[str, Any]) -> httpx2.Response:
        response = await self.http.post(self.url, headers=self.headers, content=json.dumps(message).encode())
        if response.status_code >= 400:
            raise CallFailed(f"HTTP {response.status_code}: {response.text[:200]}")
        return response

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        message = self._message(method, params)
        response = await self._post(message)
        if "mcp-session-id" in response.headers:
            self.headers["mcp-session-id"] = response.headers["mcp-session-id"]
            self.headers["mcp-protocol-version"] = PROTOCOL
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            for line in response.text.splitlines():
                if line.startswith("data:") and line[5:].strip():
                    reply = json.loads(line[5:])
                    if reply.get("id") == message["id"]:
                        return _answer(reply)
            raise CallFailed(f"no answer to {method} in the event stream")
        return _answer(response.json())

    async def notify(self, method: str) -> None:
        await self._post({"jsonrpc": "2.0", "method": method})

    async def close(self) -> None:
        if "mcp-session-id" in self.headers:
            await self.http.delete(self.url, headers=self.headers)
