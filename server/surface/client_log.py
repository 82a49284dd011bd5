"""Log messages to the client (`notifications/message`), at the level the client asks for.

What shopdesk logs while it handles a request (the `shopdesk` loggers: each call's outcome,
refusals, failures) is also sent to the client that made the request, as MCP log messages,
before the answer itself. On the handshake protocol versions (up to 2025-11-25) the client picks
the least level with `logging/setLevel`, kept per connection (default: warning). From 2026-07-28
the client asks per request, in the request's `_meta`, and the SDK applies it.

Only the message goes out: no traceback, and nothing the server's own log would not show (the
server's log level bounds both).
"""

from __future__ import annotations

import logging
import warnings
from contextvars import ContextVar
from typing import Any, cast, get_args

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.types import EmptyResult, LoggingLevel, SetLevelRequestParams
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from .mcp_server import ShopServer

log = logging.getLogger("shopdesk")

# Logging is deprecated from 2026-07-28 on; it is served here for the clients of the versions before, on purpose.
warnings.filterwarnings("ignore", message="The logging capability is deprecated", category=MCPDeprecationWarning)

LEVELS: tuple[LoggingLevel, ...] = get_args(LoggingLevel)  # least severe first, as RFC 5424 orders them
DEFAULT_LEVEL: LoggingLevel = "warning"
_STATE_KEY = "shopdesk.log_level"

_PENDING: ContextVar[list[tuple[LoggingLevel, str, str]] | None] = ContextVar("shopdesk_client_log", default=None)


def mcp_level(levelno: int) -> LoggingLevel:
    if levelno >= logging.CRITICAL:
        return "critical"
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warning"
    if levelno >= logging.INFO:
        return "info"
    return "debug"


class _Collect(logging.Handler):
    """Keeps each record logged during a request, for ClientLog to send once the handler is done."""

    def emit(self, record: logging.LogRecord) -> None:
        pending = _PENDING.get()
        if pending is not None:
            # A record may carry a shorter text for the client (observability.CallObserver: no durations).
            message = getattr(record, "client_message", None) or record.getMessage()
            pending.append((mcp_level(record.levelno), str(message), record.name))


def _connection_state(ctx: ServerRequestContext[Any, Any]) -> dict[str, Any]:
    # The SDK keeps per-connection scratch state on the session's connection (`Connection.state`).
    connection = getattr(ctx.session, "_connection", None)
    return cast(dict[str, Any], getattr(connection, "state", {}))


class ClientLog:
    """The SDK middleware that sends a request's log records to its client (outermost, to see them all)."""

    def __init__(self) -> None:
        if not any(isinstance(handler, _Collect) for handler in log.handlers):
            log.addHandler(_Collect())

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        pending: list[tuple[LoggingLevel, str, str]] = []
        reset = _PENDING.set(pending)
        try:
            return await call_next(ctx)
        finally:
            _PENDING.reset(reset)
            await self._send(ctx, pending)

    async def _send(self, ctx: ServerRequestContext[Any, Any], pending: list[tuple[LoggingLevel, str, str]]) -> None:
        if not pending:
            return
        modern = ctx.protocol_version in MODERN_PROTOCOL_VERSIONS
        least = _connection_state(ctx).get(_STATE_KEY, "debug" if modern else DEFAULT_LEVEL)
        for level, message, logger in pending:
            if LEVELS.index(level) >= LEVELS.index(least):
                try:
                    await ctx.session.send_log_message(level, message, logger, related_request_id=ctx.request_id)
                except Exception:  # the client went away; its answer cannot reach it either
                    return


def register(server: ShopServer) -> None:
    """Serve `logging/setLevel` (and so advertise the logging capability) on the handshake versions."""

    async def set_level(ctx: ServerRequestContext[Any, Any], params: SetLevelRequestParams) -> EmptyResult:
        _connection_state(ctx)[_STATE_KEY] = params.level
        return EmptyResult()

    server._lowlevel_server.add_request_handler("logging/setLevel", SetLevelRequestParams, set_level)
