"""Observability: log lines (text and JSON, no personal data at INFO), per-call metrics, health and metrics
endpoints, tracing off unless configured."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from http_support import copy_shop, running, session
from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS
from shop_support import connected

from shopdesk.access.tokens import AuthFile
from shopdesk.ops.endpoints import healthz_endpoint, metrics_endpoint
from shopdesk.ops.logs import SDK_SERVER_LOGGER, configure_logging
from shopdesk.ops.observability import CALL_INFO, CallObserver, Metrics
from shopdesk.ops.tracing import configure_tracing
from shopdesk.settings import default_auth_file

EMAIL = "jane.doe1234@example.com"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state; put it back for the next test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    aiosqlite_level = logging.getLogger("aiosqlite").level
    sdk = logging.getLogger(SDK_SERVER_LOGGER)
    sdk_filters = sdk.filters[:]
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("aiosqlite").setLevel(aiosqlite_level)
    sdk.filters[:] = sdk_filters


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_json_log_lines_carry_the_fields_passed_as_extra(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    logging.getLogger("shopdesk.test").info(
        "answered %s", "it", extra={"tool": "get_order_details", "outcome": "ok", "duration_ms": 1.5, "request_id": "7"}
    )
    logging.getLogger("shopdesk.test").warning("plain")

    first, second = json_lines(capsys.readouterr().err)
    assert first["level"] == "INFO"
    assert first["logger"] == "shopdesk.test"
    assert first["message"] == "answered it"
    assert first["tool"] == "get_order_details"
    assert first["outcome"] == "ok"
    assert first["duration_ms"] == 1.5
    assert first["request_id"] == "7"
    assert datetime.fromisoformat(first["time"]).utcoffset() == timedelta(0)
    assert set(second) == {"time", "level", "logger", "message"}


def test_text_log_lines_keep_the_usual_form(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "text")
    logging.getLogger("shopdesk.test").info("hello")
    logging.getLogger("shopdesk.test").debug("not at INFO")

    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith(" INFO shopdesk.test: hello")


def test_aiosqlite_statements_stay_out_of_a_debug_log() -> None:
    configure_logging("DEBUG", "text")

    assert logging.getLogger("shopdesk").isEnabledFor(logging.DEBUG)
    assert not logging.getLogger("aiosqlite").isEnabledFor(logging.DEBUG)


def test_sdk_failure_line_has_no_personal_data_at_info(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "text")
    logging.getLogger(SDK_SERVER_LOGGER).info("Tool %r failed: %r", "find_user_id_by_email", f"No customer {EMAIL}")

    err = capsys.readouterr().err
    assert "find_user_id_by_email" in err
    assert EMAIL not in err


def test_sdk_resource_failure_line_keeps_only_the_kind_of_resource_at_info(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "text")
    uri = "shopdesk://customers/jane_doe_1234"
    logging.getLogger(SDK_SERVER_LOGGER).info("Resource %r failed: %r", uri, "Customer jane_doe_1234 was not found.")

    err = capsys.readouterr().err
    assert "Resource 'shopdesk://customers/…' failed" in err
    assert "jane_doe_1234" not in err and "was not found" not in err


def test_sdk_failure_line_keeps_its_text_at_debug(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("DEBUG", "text")
    logging.getLogger(SDK_SERVER_LOGGER).info("Tool %r failed: %r", "find_user_id_by_email", f"No customer {EMAIL}")

    assert EMAIL in capsys.readouterr().err


class RecordingServer(MCPServer[Any]):
    """What shopdesk's server does once wired: name the failure's class in CALL_INFO."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except Exception as exc:
            info = CALL_INFO.get(None)
            if info is not None:
                info["error_class"] = type(exc.__cause__ or exc).__name__
            raise


class NoCustomer(ToolError):
    pass


class FailsOn:
    """A middleware inside the observer that crashes on one tool, as a bug in a layer would."""

    def __init__(self, tool: str) -> None:
        self.tool = tool

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.params and ctx.params.get("name") == self.tool:
            raise RuntimeError("a bug")
        return await call_next(ctx)


def observed_server(observer: CallObserver) -> RecordingServer:
    server = RecordingServer("observed", middleware=[observer, FailsOn("crash")])

    @server.tool()
    def greet(email: str) -> str:
        return "hello"

    @server.tool()
    def refuse(email: str) -> str:
        raise NoCustomer(f"No customer with email {email}.")

    @server.tool()
    def reject(email: str) -> str:
        raise MCPError(code=INVALID_PARAMS, message="bad request")

    @server.tool()
    def crash() -> str:
        return "never reached"

    return server


def calls(metrics: Metrics, tool: str, outcome: str) -> float:
    return metrics.registry.get_sample_value("shopdesk_tool_calls_total", {"tool": tool, "outcome": outcome}) or 0.0


def errors(metrics: Metrics, tool: str, error_class: str) -> float:
    labels = {"tool": tool, "error_class": error_class}
    return metrics.registry.get_sample_value("shopdesk_tool_errors_total", labels) or 0.0


async def test_each_call_is_counted_by_tool_and_outcome() -> None:
    metrics = Metrics()
    async with connected(observed_server(CallObserver(metrics))) as client:
        await client.call_tool("greet", {"email": EMAIL})
        await client.call_tool("greet", {"email": EMAIL})
        assert (await client.call_tool("refuse", {"email": EMAIL})).is_error
        with pytest.raises(MCPError):
            await client.call_tool("reject", {"email": EMAIL})
        with pytest.raises(MCPError):
            await client.call_tool("crash", {})
        await client.list_tools()

    assert calls(metrics, "greet", "ok") == 2
    assert calls(metrics, "refuse", "error") == 1
    assert errors(metrics, "refuse", "NoCustomer") == 1
    assert calls(metrics, "reject", "protocol_error") == 1
    assert errors(metrics, "reject", "MCPError") == 1
    assert calls(metrics, "crash", "crash") == 1
    assert errors(metrics, "crash", "RuntimeError") == 1
    assert errors(metrics, "greet", "NoCustomer") == 0
    histogram = {"tool": "greet", "outcome": "ok"}
    assert metrics.registry.get_sample_value("shopdesk_tool_call_seconds_count", histogram) == 2


async def test_each_call_is_one_log_line_without_arguments_or_refusal_text(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "json")
    async with connected(observed_server(CallObserver(Metrics()))) as client:
        await client.call_tool("greet", {"email": EMAIL})
        await client.call_tool("refuse", {"email": EMAIL})
        await client.list_tools()

    err = capsys.readouterr().err
    assert EMAIL not in err  # neither our line nor the SDK's "Tool 'refuse' failed" line
    assert any(line["message"].startswith("Tool 'refuse' failed") for line in json_lines(err))
    ok, error = (line for line in json_lines(err) if line["logger"] == "shopdesk.calls")
    assert ok["message"].startswith("tools/call greet ok in ")
    assert (ok["tool"], ok["outcome"], ok["subject"]) == ("greet", "ok", "local")
    assert "error_class" not in ok
    assert ok["duration_ms"] >= 0
    assert ok["request_id"] is not None
    assert (error["tool"], error["outcome"], error["error_class"]) == ("refuse", "error", "NoCustomer")
    assert error["request_id"] != ok["request_id"]


async def test_the_subject_is_the_access_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    token = AccessToken(token="secret-token", client_id="desk-app", scopes=[], subject="agent-7")
    reset = auth_context_var.set(AuthenticatedUser(token))
    try:
        async with connected(observed_server(CallObserver(Metrics()))) as client:
            await client.call_tool("greet", {"email": EMAIL})
    finally:
        auth_context_var.reset(reset)

    err = capsys.readouterr().err
    (line,) = (line for line in json_lines(err) if line["logger"] == "shopdesk.calls")
    assert line["subject"] == "agent-7"
    assert "secret-token" not in err


async def test_a_tool_name_the_server_does_not_have_is_not_a_label(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    metrics = Metrics()
    observer = CallObserver(metrics, known_tools={"greet", "refuse", "reject", "crash"})
    async with connected(observed_server(observer)) as client:
        await client.call_tool(EMAIL, {})
        await client.call_tool("made_up", {})

    assert calls(metrics, "(unknown)", "error") == 2
    err = capsys.readouterr().err
    assert "made_up" not in [line.get("tool") for line in json_lines(err)]
    assert EMAIL not in "".join(line["message"] for line in json_lines(err) if line["logger"] == "shopdesk.calls")


def http_client(server: MCPServer[Any]) -> httpx2.AsyncClient:
    transport = httpx2.ASGITransport(app=server.streamable_http_app())
    return httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1")


@pytest.mark.parametrize("healthy", [True, False])
async def test_healthz_answers_what_the_check_says(healthy: bool) -> None:
    async def check() -> bool:
        return healthy

    server = MCPServer("health")
    server.custom_route("/healthz", methods=["GET"])(healthz_endpoint(check))
    async with http_client(server) as http:
        response = await http.get("/healthz")

    assert response.status_code == (200 if healthy else 503)
    assert response.json() == {"status": "ok" if healthy else "unavailable"}


async def test_healthz_is_unavailable_when_the_check_raises() -> None:
    async def check() -> bool:
        raise OSError("database file is gone")

    server = MCPServer("health")
    server.custom_route("/healthz", methods=["GET"])(healthz_endpoint(check))
    async with http_client(server) as http:
        response = await http.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


async def test_metrics_endpoint_serves_the_counts() -> None:
    metrics = Metrics()
    server = observed_server(CallObserver(metrics))
    server.custom_route("/metrics", methods=["GET"])(metrics_endpoint(metrics))
    metrics.set_sessions(3)
    metrics.database_busy()
    async with connected(server) as client:
        await client.call_tool("greet", {"email": EMAIL})
    async with http_client(server) as http:
        response = await http.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'shopdesk_tool_calls_total{outcome="ok",tool="greet"} 1.0' in response.text
    assert "shopdesk_sessions_open 3.0" in response.text
    assert "shopdesk_database_busy_total 1.0" in response.text


def test_sessions_can_be_read_at_each_scrape() -> None:
    metrics = Metrics()
    sessions = ["a", "b"]
    metrics.count_sessions_with(lambda: len(sessions))
    assert metrics.registry.get_sample_value("shopdesk_sessions_open") == 2
    sessions.pop()
    assert metrics.registry.get_sample_value("shopdesk_sessions_open") == 1


def test_each_metrics_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.database_busy()
    assert second.registry.get_sample_value("shopdesk_database_busy_total") == 0


def test_tracing_is_off_without_an_otlp_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in os.environ if name.startswith("OTEL_EXPORTER_OTLP_")]:
        monkeypatch.delenv(name)
    assert configure_tracing() is False


def test_tracing_says_why_it_is_off_when_the_extra_is_missing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk", None)  # as if the extra `otel` were not installed
    with caplog.at_level(logging.INFO, logger="shopdesk"):
        assert configure_tracing() is False
    assert "shopdesk[otel]" in caplog.text


@pytest.mark.slow
async def test_a_bound_session_reading_another_customers_record_leaves_no_id_in_the_server_log(
    tmp_path: Path, tau2_template: Path, tau2_data: dict[str, Any]
) -> None:
    db = copy_shop(tau2_template, tmp_path)
    mine, other = list(tau2_data["users"])[:2]
    _, token = AuthFile(default_auth_file(db)).create("customer-app", ["admin"], customer=mine)
    refusals: list[str] = []
    with running(db) as server:  # at INFO, the default
        async with session(server.url, token) as client:
            # Refused by shopdesk's gate, and (a path below the record) by the SDK, which logs the failure.
            for uri in (f"shopdesk://customers/{other}", f"shopdesk://customers/{other}/orders"):
                with pytest.raises(MCPError) as refused:
                    await client.read_resource(uri)
                refusals.append(str(refused.value))
        log = server.stop()
    assert "Resource 'shopdesk://customers/…' failed" in log
    assert other not in log
    assert not any(refusal in log for refusal in refusals)
