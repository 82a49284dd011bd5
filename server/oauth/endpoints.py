"""Gaps in the SDK's authorization-server handlers, closed in front of them (ASGI wrappers that read the body
whole, up to `MAX_BODY_BYTES`, and hand the same body on):

- /register, /authorize, /token, /revoke: anyone may call them, and the SDK reads any body whole (and stores
  what /register and /authorize get); a body over `MAX_BODY_BYTES` is refused with 413 unread.

- /token: a `resource` (RFC 8707) other than this server's MCP URL is refused with `invalid_target`; the SDK's
  handler does not pass the parameter to the provider.
- /token, /revoke: the client secret sent (form field or HTTP Basic) is replaced by its SHA-256, which is what
  the database keeps (clients.py), so that the SDK's constant-time check compares the two.
- /revoke: a public client sends only `client_id` and `token` (RFC 7009), but the SDK's handler requires a
  `client_secret` field; an empty one is added for it (a client registered with a secret must still send it).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from urllib.parse import parse_qs, quote, unquote, unquote_plus, urlsplit

from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .clients import hashed_secret
from .provider import same_resource

MAX_BODY_BYTES = 16 * 1024  # a registration or a form is a few hundred bytes
GUARDED = frozenset({"/register", "/authorize", "/token", "/revoke"})


def guard_routes(routes: Iterable[BaseRoute], resource: str) -> None:
    """Put the checks in front of the SDK's authorization-server routes (call once, on the built app's routes)."""
    for route in routes:
        if isinstance(route, Route) and route.path in GUARDED:
            route.app = _FormGate(route.app, resource, path=route.path)


class _FormGate:
    def __init__(self, app: ASGIApp, resource: str, *, path: str) -> None:
        self.app = app
        self.resource = resource
        self.check_resource = path == "/token"
        self.add_secret = path == "/revoke"
        self.hash_secret = path in ("/token", "/revoke")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more and len(body) <= MAX_BODY_BYTES:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if more or len(body) > MAX_BODY_BYTES:
            text = f"the request body is too large: at most {MAX_BODY_BYTES // 1024} KiB"
            await _error(send, 413, "invalid_request", text)
            return
        form = (
            parse_qs(body.decode("latin-1"), keep_blank_values=True) if self.check_resource or self.add_secret else {}
        )
        for given in form.get("resource", []) if self.check_resource else []:
            if not same_resource(given, self.resource):
                host = urlsplit(given).netloc[:80] or "another server"
                text = f"this server issues tokens only for {self.resource}, not for a resource on {host}"
                await _error(send, 400, "invalid_target", text)
                return
        if self.add_secret and "client_secret" not in form:
            body += b"&client_secret=" if body else b"client_secret="
        if self.hash_secret:
            body = _hash_form_secret(body)
            headers = [(k, _hash_basic_secret(v) if k.lower() == b"authorization" else v) for k, v in scope["headers"]]
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            scope = {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _hash_form_secret(body: bytes) -> bytes:
    """The urlencoded `body` with a non-empty client_secret replaced by what the database keeps of it."""
    fields = body.split(b"&")
    for i, field in enumerate(fields):
        key, _, value = field.partition(b"=")
        if unquote_plus(key.decode("latin-1")) == "client_secret" and value:
            secret = unquote_plus(value.decode("latin-1"), encoding="utf-8")
            fields[i] = b"client_secret=" + quote(hashed_secret(secret), safe="").encode()
    return b"&".join(fields)


def _hash_basic_secret(value: bytes) -> bytes:
    """An `Authorization: Basic` value with its secret replaced likewise; any other value as it is."""
    if not value[:6].lower() == b"basic ":
        return value
    try:
        client_id, sep, secret = base64.b64decode(value[6:].strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return value  # the SDK refuses it
    if not sep or not secret:
        return value
    hashed = quote(hashed_secret(unquote(secret)), safe="")
    return b"Basic " + base64.b64encode(f"{client_id}:{hashed}".encode())


async def _error(send: Send, status: int, error: str, text: str) -> None:
    data = json.dumps({"error": error, "error_description": text}).encode()
    headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
