"""The operator's HTTP endpoints: /healthz (is the shop answering?) and /metrics (the Prometheus text), as
Starlette endpoints for `MCPServer.custom_route`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .observability import Metrics

log = logging.getLogger("shopdesk")

Endpoint = Callable[[Request], Awaitable[Response]]


def healthz_endpoint(check: Callable[[], Awaitable[bool]]) -> Endpoint:
    """200 {"status": "ok"} while `check()` is true; 503 {"status": "unavailable"} when false or raising.

    The body says nothing more, since the route is served without authentication.
    """

    async def healthz(request: Request) -> Response:
        try:
            healthy = await check()
        except Exception:
            log.warning("health check failed", exc_info=True)
            healthy = False
        if healthy:
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "unavailable"}, status_code=503)

    return healthz


def metrics_endpoint(metrics: Metrics) -> Endpoint:
    """The Prometheus exposition text of `metrics`."""

    async def serve_metrics(request: Request) -> Response:
        body, content_type = metrics.render()
        return Response(body, headers={"Content-Type": content_type})

    return serve_metrics
