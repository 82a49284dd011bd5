"""Log lines: every one to stderr, as text or as one JSON object a line (`configure_logging`).

Personal data: at INFO and above no log line written by shopdesk or the SDK's tool and resource
failure lines carries personal data: no arguments, no results, no refusal text (which names emails,
names and user ids), no id from a resource URI; a call is logged by tool name, outcome, error class,
duration, request id and the authenticated subject (observability.CallObserver). At DEBUG the SDK's
failure lines keep their full text, so DEBUG logs may contain personal data and belong only where such
data may be kept.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

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
