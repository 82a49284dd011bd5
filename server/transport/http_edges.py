"""What every HTTP request meets before any route: one Authorization header, the Host check on the
operations routes, and where and to whom `/metrics` is served.

The SDK checks Host and Origin only inside its `/mcp` transport; `/healthz` and `/metrics` are custom
routes it leaves open, so a page on another site could read them through DNS rebinding. Here they
get the same check, with the same allowed names. `/metrics` may also require a bearer token of its
own (`--metrics-token`), and may be served on a port of its own (`--metrics-port`): then the main
port answers 404 for it and the metrics port serves nothing else.

Two Authorization headers on one request are refused with 400: the SDK's bearer gate reads the first,
a proxy in front may have checked the other.
"""

from __future__ import annotations

import hmac
import json

from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

OPERATIONS = frozenset({"/healthz", "/metrics"})
INVALID_REQUEST = -32600


class EdgeGuard:
    """ASGI middleware around the whole app (see the module's docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        security: TransportSecuritySettings,
        metrics_token: str | None = None,
        metrics_port: int | None = None,
        metrics_security: TransportSecuritySettings | None = None,
    ) -> None:
        self.app = app
        self.checks = TransportSecurityMiddleware(security)
        self.metrics_checks = TransportSecurityMiddleware(metrics_security or security)
        self.metrics_token = metrics_token
        self.metrics_port = metrics_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        authorizations = sum(1 for key, _ in scope["headers"] if key.lower() == b"authorization")
        if authorizations > 1:
            message = f"A request carries one Authorization header; this one has {authorizations}."
            await _json(
                send, 400, {"jsonrpc": "2.0", "id": None, "error": {"code": INVALID_REQUEST, "message": message}}
            )
            return
        path = scope["path"]
        on_metrics_port = self.metrics_port is not None and (scope.get("server") or ("", None))[1] == self.metrics_port
        if on_metrics_port and path != "/metrics":
            await _json(send, 404, {"error": "only /metrics is served on this port"})
            return
        if not on_metrics_port and path == "/metrics" and self.metrics_port is not None:
            await _json(send, 404, {"error": f"/metrics is served on port {self.metrics_port}"})
            return
        if path in OPERATIONS:
            checks = self.metrics_checks if on_metrics_port else self.checks
            refused = await checks.validate_request(Request(scope), is_post=False)
            if refused is not None:
                await refused(scope, receive, send)
                return
        if path == "/metrics" and self.metrics_token is not None and not self._has_metrics_token(scope):
            await _json(send, 401, {"error": "/metrics needs its bearer token"}, (b"www-authenticate", b"Bearer"))
            return
        await self.app(scope, receive, send)

    def _has_metrics_token(self, scope: Scope) -> bool:
        assert self.metrics_token is not None
        given = next((value for key, value in scope["headers"] if key.lower() == b"authorization"), b"")
        scheme, _, token = bytes(given).partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self.metrics_token.encode())


async def _json(send: Send, status: int, body: object, *extra: tuple[bytes, bytes]) -> None:
    content = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


class NoStandingStreams:
    """ASGI middleware for `/mcp` when stateless: a GET is answered 405, as Streamable HTTP lets a server that
    offers no stream of its own do. The SDK would otherwise hold a GET's stream open for good (nothing can
    ever reach it: the next request may go to another replica), outside every session cap, and answer one
    with `Last-Event-ID` with a 500 (it has no events to replay)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            message = "This server is stateless: it sends nothing outside the answer to a POST."
            body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": INVALID_REQUEST, "message": message}})
            headers = [(b"content-type", b"application/json"), (b"allow", b"POST, DELETE")]
            await send({"type": "http.response.start", "status": 405, "headers": headers})
            await send({"type": "http.response.body", "body": body.encode()})
            return
        await self.app(scope, receive, send)
