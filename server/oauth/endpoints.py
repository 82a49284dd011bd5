"""Two gaps in the SDK's /token and /revoke handlers, closed in front of them (ASGI wrappers that read the
urlencoded form whole and hand the same body on):

- /token: a `resource` (RFC 8707) other than this server's MCP URL is refused with `invalid_target`; the SDK's
  handler does not pass the parameter to the provider.
- /revoke: a public client sends only `client_id` and `token` (RFC 7009), but the SDK's handler requires a
  `client_secret` field; an empty one is added for it (a client registered with a secret must still send it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import parse_qs, urlsplit

from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .provider import same_resource

MAX_FORM_BYTES = 64 * 1024


def guard_routes(routes: Iterable[BaseRoute], resource: str) -> None:
    """Put the checks in front of the SDK's /token and /revoke routes (call once, on the built app's routes)."""
    for route in routes:
        if isinstance(route, Route) and route.path == "/token":
            route.app = _FormGate(route.app, resource, add_secret=False)
        elif isinstance(route, Route) and route.path == "/revoke":
            route.app = _FormGate(route.app, resource, add_secret=True)


class _FormGate:
    def __init__(self, app: ASGIApp, resource: str, *, add_secret: bool) -> None:
        self.app = app
        self.resource = resource
        self.add_secret = add_secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more and len(body) <= MAX_FORM_BYTES:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        form = {} if more else parse_qs(body.decode("latin-1"), keep_blank_values=True)
        for given in form.get("resource", []):
            if not same_resource(given, self.resource):
                await _refuse(send, given, self.resource)
                return
        if self.add_secret and not more and "client_secret" not in form:
            body += b"&client_secret=" if body else b"client_secret="
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]}
            scope["headers"].append((b"content-length", str(len(body)).encode()))
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": more}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Send, given: str, ours: str) -> None:
    host = urlsplit(given).netloc[:80] or "another server"
    text = f"this server issues tokens only for {ours}, not for a resource on {host}"
    data = json.dumps({"error": "invalid_target", "error_description": text}).encode()
    headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": data})
