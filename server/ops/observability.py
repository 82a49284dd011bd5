"""Each tool call observed: `CallObserver`, SDK middleware that times each `tools/call`, logs one line for it
on "shopdesk.calls" and counts it in a `Metrics`: the Prometheus metrics, in a registry of their own
(several servers, or tests, in one process do not share counts), and `render()` for the exposition text.

What the line may say, and what it must not (personal data), is in logs.py.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Container
from contextvars import ContextVar
from typing import Any, Literal

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from pydantic import ValidationError

call_log = logging.getLogger("shopdesk.calls")

Outcome = Literal["ok", "error", "protocol_error", "crash", "cancelled"]

CALL_INFO: ContextVar[dict[str, str] | None] = ContextVar("shopdesk_call_info", default=None)
"""What the server learns about the current tools/call that the middleware cannot see.

`CallObserver` sets a fresh dict before the call runs; when a call fails, the server records
`info["error_class"] = type(exc).__name__` in it, and the access gate `info["not_offered"]` for a tool
the session is not offered. A dict rather than a value set on the variable,
so the write is seen even when the SDK runs the handler in a copy of the context (another task).
"""

# --- metrics ----------------------------------------------------------------------------------

# From a cached read (well under a millisecond) to a call that waited on a busy database.
DURATION_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """shopdesk's Prometheus metrics, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.tool_calls = Counter(
            "shopdesk_tool_calls",
            "Tool calls answered, by tool and outcome.",
            ["tool", "outcome"],
            registry=self.registry,
        )
        self.tool_errors = Counter(
            "shopdesk_tool_errors",
            "Tool calls that did not succeed, by tool and error class.",
            ["tool", "error_class"],
            registry=self.registry,
        )
        self.tool_call_seconds = Histogram(
            "shopdesk_tool_call_seconds",
            "Time to answer a tool call, by tool and outcome.",
            ["tool", "outcome"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.sessions_open = Gauge("shopdesk_sessions_open", "MCP sessions open now.", registry=self.registry)
        self.limited = Counter(
            "shopdesk_rate_limited",
            "HTTP requests refused with 429 because a token subject was over a limit: its request rate "
            "(limit=rate) or its open sessions (limit=sessions).",
            ["limit"],
            registry=self.registry,
        )
        self.database_busy_count = Counter(
            "shopdesk_database_busy",
            "Times the database was busy (locked by another writer) when a tool needed it.",
            registry=self.registry,
        )

    def tool_call(self, tool: str, outcome: Outcome, seconds: float, error_class: str | None) -> None:
        self.tool_calls.labels(tool=tool, outcome=outcome).inc()
        self.tool_call_seconds.labels(tool=tool, outcome=outcome).observe(seconds)
        if error_class is not None:
            self.tool_errors.labels(tool=tool, error_class=error_class).inc()

    def set_sessions(self, n: int) -> None:
        self.sessions_open.set(n)

    def count_sessions_with(self, count: Callable[[], int]) -> None:
        """Read the number of open sessions from `count` at each scrape instead of `set_sessions`."""
        self.sessions_open.set_function(lambda: float(count()))

    def rate_limited(self, limit: Literal["rate", "sessions"]) -> None:
        self.limited.labels(limit=limit).inc()

    def database_busy(self) -> None:
        self.database_busy_count.inc()

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


# --- the tools/call observer ------------------------------------------------------------------

_TOOL_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


def _subject() -> str:
    token = get_access_token()
    if token is None:
        return "local"
    return token.subject or token.client_id


def _is_tool_error(result: HandlerResult) -> bool:
    match result:
        case CallToolResult(is_error=True) | {"isError": True}:
            return True
        case _:
            return False


class CallObserver(ServerMiddleware[Any]):
    """Times each tools/call and reports it as one log line and in `Metrics`; other methods pass through.

    Outcomes: "ok"; "error" (an `isError` result: a refusal or failure the model reads);
    "protocol_error" (an MCP error or malformed params, answered as a JSON-RPC error); "crash"
    (any other exception); "cancelled" (the client cancelled the call). Exceptions are re-raised.

    The tool name comes from the client, so it is used as a metric label and logged only when it
    is in `known_tools` (when given; e.g. the set of registered names) and looks like a tool name;
    otherwise it is "(unknown)". That keeps metric series bounded and log lines free of caller text.
    """

    def __init__(self, metrics: Metrics, *, known_tools: Container[str] | None = None) -> None:
        self.metrics = metrics
        self.known_tools = known_tools

    def _tool(self, params: Any) -> str:
        name = params.get("name") if params else None
        if not isinstance(name, str) or not _TOOL_NAME.fullmatch(name):
            return "(unknown)"
        if self.known_tools is not None and name not in self.known_tools:
            return "(unknown)"
        return name

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "tools/call":
            return await call_next(ctx)
        tool = self._tool(ctx.params)
        info: dict[str, str] = {}
        reset = CALL_INFO.set(info)
        started = time.perf_counter()
        try:
            result = await call_next(ctx)
        except (MCPError, ValidationError) as exc:
            self._record(ctx, tool, "protocol_error", started, info.get("error_class") or type(exc).__name__, info)
            raise
        except Exception as exc:
            self._record(ctx, tool, "crash", started, info.get("error_class") or type(exc).__name__, info)
            raise
        except BaseException:
            self._record(ctx, tool, "cancelled", started, None, info)
            raise
        finally:
            CALL_INFO.reset(reset)
        if _is_tool_error(result):
            self._record(ctx, tool, "error", started, info.get("error_class") or "unknown", info)
        else:
            self._record(ctx, tool, "ok", started, None, info)
        return result

    def _record(
        self,
        ctx: ServerRequestContext[Any, Any],
        tool: str,
        outcome: Outcome,
        started: float,
        error_class: str | None,
        info: dict[str, str],
    ) -> None:
        seconds = time.perf_counter() - started
        self.metrics.tool_call(tool, outcome, seconds, error_class)
        if error_class == "DatabaseBusy":  # see mcp_server.storage_failure
            self.metrics.database_busy()
        duration_ms = round(seconds * 1000, 1)
        extra = {
            "tool": tool,
            "duration_ms": duration_ms,
            "outcome": outcome,
            "subject": _subject(),
            "request_id": None if ctx.request_id is None else str(ctx.request_id),
        }
        if error_class is not None:
            extra["error_class"] = error_class
        # The client's copy of the line (client_log.py) has no duration: in a customer-bound session the time
        # a call took could tell another customer's record from a missing one. Nor does it name a tool the
        # session is not offered (the access gate marks those), as a name that is no tool is not named.
        shown = "(unknown)" if info.get("not_offered") else tool
        extra["client_message"] = f"tools/call {shown} {outcome}"
        call_log.info("tools/call %s %s in %.1f ms", tool, outcome, duration_ms, extra=extra)
