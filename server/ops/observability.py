"""What an operator sees of a running shopdesk: log lines, Prometheus metrics, health, traces.

Nothing here changes what a tool does; each piece is wired in by `app.py` / `serve.py`:

- `configure_logging(level, fmt)`: every log line to stderr, as text or as one JSON object a line.
- `CallObserver`: SDK middleware that times each `tools/call`, logs one line for it on
  "shopdesk.calls" and counts it in a `Metrics`.
- `Metrics`: the Prometheus metrics, in a registry of their own (several servers, or tests, in
  one process do not share counts), and `render()` for the exposition text.
- `healthz_endpoint(check)`, `metrics_endpoint(metrics)`: Starlette endpoints for
  `MCPServer.custom_route`.
- `configure_tracing()`: sends the SDK's OpenTelemetry spans to an OTLP collector, when one is
  configured and the optional extra `otel` is installed.

Personal data: at INFO and above no log line written by shopdesk or the SDK's tool and resource
failure lines carries personal data: no arguments, no results, no refusal text (which names emails,
names and user ids), no id from a resource URI; a call is logged by tool name, outcome, error class,
duration, request id and the authenticated subject. At DEBUG the SDK's failure lines keep their full
text, so DEBUG logs may contain personal data and belong only where such data may be kept.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable, Container
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

log = logging.getLogger("shopdesk")
call_log = logging.getLogger("shopdesk.calls")

Outcome = Literal["ok", "error", "protocol_error", "crash", "cancelled"]

CALL_INFO: ContextVar[dict[str, str] | None] = ContextVar("shopdesk_call_info", default=None)
"""What the server learns about the current tools/call that the middleware cannot see.

`CallObserver` sets a fresh dict before the call runs; when a call fails, the server records
`info["error_class"] = type(exc).__name__` in it, and the access gate `info["not_offered"]` for a tool
the session is not offered. A dict rather than a value set on the variable,
so the write is seen even when the SDK runs the handler in a copy of the context (another task).
"""

# --- logging ----------------------------------------------------------------------------------

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Fields a record may carry through `extra=`; a JSON line includes each one the record has.
EXTRA_FIELDS = ("request_id", "subject", "tool", "duration_ms", "outcome", "error_class")
SDK_SERVER_LOGGER = "mcp.server.mcpserver.server"
_SDK_TOOL_FAILED = "Tool %r failed: %r"
_SDK_RESOURCE_FAILED = "Resource %r failed: %r"
_SDK_RESOURCE_CRASHED = "Resource %r raised an unexpected exception"


class JsonFormatter(logging.Formatter):
    """One JSON object a line, so a log pipeline can read fields instead of parsing text."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in EXTRA_FIELDS:
            if name in record.__dict__:
                entry[name] = record.__dict__[name]
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def _uri_kind(uri: object) -> str:
    """A resource URI without its id: 'shopdesk://customers/…' for 'shopdesk://customers/sara_doe_496'."""
    text = str(uri)
    scheme, sep, rest = text.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/…" if sep else "…"


# The SDK's lines that carry what a caller sent or was told: its format, and the line kept at INFO (the
# arguments it keeps, as functions of the original ones). The message is what the model reads, and ours
# name the customer's email, name, user id or order; a resource URI holds a user, order or ticket id.
_SDK_REDACTIONS: dict[str, tuple[str, Callable[[tuple[object, ...]], tuple[object, ...]]]] = {
    _SDK_TOOL_FAILED: ("Tool %r failed (the message is logged only at DEBUG)", lambda args: args[:1]),
    _SDK_RESOURCE_FAILED: (
        "Resource %r failed (the id and the message are logged only at DEBUG)",
        lambda args: (_uri_kind(args[0]),),
    ),
    _SDK_RESOURCE_CRASHED: (
        "Resource %r raised an unexpected exception (its id is logged only at DEBUG)",
        lambda args: (_uri_kind(args[0]),),
    ),
}


class SdkFailureRedaction(logging.Filter):
    """Drops the caller's data from the SDK's failure lines unless DEBUG is on: the failure text of
    "Tool 'x' failed: '...'" and of "Resource 'uri' failed: '...'", and the id in the URI. The tool name
    and the kind of resource stay, so the line still says what refused."""

    def filter(self, record: logging.LogRecord) -> bool:
        redaction = _SDK_REDACTIONS.get(record.msg) if isinstance(record.msg, str) else None
        if redaction is not None and isinstance(record.args, tuple) and record.args:
            if not logging.getLogger(record.name).isEnabledFor(logging.DEBUG):
                record.msg, record.args = redaction[0], redaction[1](record.args)
        return True


_sdk_redaction = SdkFailureRedaction()


def configure_logging(level: str, fmt: Literal["text", "json"]) -> None:
    """Root logging to stderr at `level`, as text or JSON lines; replaces the root's handlers.

    Call it before constructing the server: `MCPServer.__init__` calls `logging.basicConfig`,
    which installs the SDK's own handler only when the root has none.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # aiosqlite logs every statement at DEBUG; our own DEBUG lines are what a person debugging wants.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, root.level))
    logging.getLogger(SDK_SERVER_LOGGER).addFilter(_sdk_redaction)


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


# --- HTTP endpoints ---------------------------------------------------------------------------

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


# --- tracing ----------------------------------------------------------------------------------


def configure_tracing() -> bool:
    """Export the SDK's spans over OTLP when an OTEL_EXPORTER_OTLP_* variable is set; True if set up.

    The SDK wraps every message in a span (its OpenTelemetryMiddleware); without a tracer provider
    they go nowhere. The exporter is the optional extra `otel` (opentelemetry-sdk and
    opentelemetry-exporter-otlp-proto-http; OTEL_EXPORTER_OTLP_PROTOCOL=grpc needs
    opentelemetry-exporter-otlp-proto-grpc instead). The exporter reads its endpoint, headers and
    protocol from the standard OTEL_* variables; the service is "shopdesk" unless OTEL_SERVICE_NAME says.
    """
    if not any(name.startswith("OTEL_EXPORTER_OTLP_") and value for name, value in os.environ.items()):
        return False
    grpc = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")) == "grpc"
    exporter_module = f"opentelemetry.exporter.otlp.proto.{'grpc' if grpc else 'http'}.trace_exporter"
    try:
        trace = importlib.import_module("opentelemetry.trace")
        sdk_trace = importlib.import_module("opentelemetry.sdk.trace")
        sdk_export = importlib.import_module("opentelemetry.sdk.trace.export")
        sdk_resources = importlib.import_module("opentelemetry.sdk.resources")
        exporter = importlib.import_module(exporter_module)
    except ImportError as exc:
        log.info(
            "OTEL_EXPORTER_OTLP_* is set but tracing is off: %s is not installed (pip install 'shopdesk[otel]')",
            exc.name or exporter_module,
        )
        return False
    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": "shopdesk"}
    provider = sdk_trace.TracerProvider(resource=sdk_resources.Resource.create(attributes))
    provider.add_span_processor(sdk_export.BatchSpanProcessor(exporter.OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    log.info("exporting traces over OTLP (%s)", "grpc" if grpc else "http/protobuf")
    return True
